"""Connections: add, verify, rename, re-key and remove the organizations we manage.

Who may do what: someone who is Admin for all connections adds and removes connections; an
Admin of one connection verifies, renames and re-keys that one. A connection a person holds no
role on doesn't exist for them: not listed, and its pages answer 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from orgadmin.access import Perm, Scope, holds, requires, signed_in
from orgadmin.accounts.stepup import step_up
from orgadmin.areas import AREAS
from orgadmin.backends import connections_visible
from orgadmin.client import BaseURLRefused, OrgAPIError
from orgadmin.forms import (
    ConnectionForm,
    ConnectionKeyForm,
    RenameConnectionForm,
    SwitchOrganizationForm,
)
from orgadmin.middleware import SESSION_KEY
from orgadmin.models import Organization
from orgadmin.services import connections as services
from orgadmin.views.common import back, fragment


def _visible(request: HttpRequest) -> list[Organization]:
    orgs = getattr(request, "orgs", None)
    return connections_visible(request.user) if orgs is None else orgs


def _get_org_or_404(request: HttpRequest, pk: int) -> Organization:
    """A connection this person may manage. One they hold no role on doesn't exist for them
    (404); one they hold another role on is theirs to read, not to change (403)."""
    org = next((o for o in _visible(request) if o.pk == pk), None)
    if org is None:
        raise Http404("No such connection.")
    if not holds(request.user, Perm.MANAGE, org=org):
        raise PermissionDenied
    return org


def _may_add(request: HttpRequest) -> bool:
    """Adding (and removing) a connection is for an Admin of all connections."""
    return holds(request.user, Perm.MANAGE, scope=Scope.ALL)


def _page(request: HttpRequest, form: ConnectionForm, part: str = "") -> HttpResponse:
    managed = [o.pk for o in _visible(request) if holds(request.user, Perm.MANAGE, org=o)]
    orgs = (
        Organization.objects.filter(pk__in=managed)
        .select_related("added_by")
        .prefetch_related("key_areas")  # what each key was refused, for its row
    )
    template = fragment(request, "orgadmin/connections.html", part)
    return render(request, template, {"form": form, "orgs": orgs, "may_add": _may_add(request)})


@requires(Perm.MANAGE, scope=Scope.ANY)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("admin_key")
@sensitive_variables("form")
def connections(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, ConnectionForm())
    if not _may_add(request):
        raise PermissionDenied
    step_up(request)
    form = ConnectionForm(request.POST)
    if form.is_valid():
        try:
            org = services.connection_create(**form.cleaned_data, actor=request.user)
        except BaseURLRefused as exc:
            form.add_error("base_url", exc.message)
        except OrgAPIError as exc:
            form.add_error("admin_key", f"The API refused this connection: {exc}")
        else:
            request.session[SESSION_KEY] = org.pk
            messages.success(request, f"Connected to “{org.name}”. The key works.{_limits(org)}")
            if request.htmx:
                return HttpResponseClientRedirect(request.path)
            return redirect("orgadmin:connections")
    return _page(request, form, "add-form")


def _limits(org: Organization) -> str:
    """ " It may not read X. It may only read Y." after a check, or "" when it may do it all."""
    refused = [area.label for key, area in AREAS.items() if not org.key_may_read(key)]
    read_only = [
        area.label
        for key, area in AREAS.items()
        if org.key_may_read(key) and not org.key_may_write(key)
    ]
    said = f" It may not read {', '.join(refused)}." if refused else ""
    return said + (f" It may only read {', '.join(read_only)}." if read_only else "")


@requires(Perm.MANAGE, scope=Scope.ANY)
@require_POST
def connection_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Check again": the key, then what it may read and change, area by area."""
    org = _get_org_or_404(request, pk)
    org = services.connection_verify(org=org, actor=request.user, areas=True)
    if org.status == Organization.Status.OK:
        messages.success(request, f"“{org.name}” works: the API accepted the key.{_limits(org)}")
    else:
        messages.error(request, f"“{org.name}”: {org.status_message}")
    if request.htmx:
        return render(request, "orgadmin/_connection_row.html", {"org": org})
    return redirect("orgadmin:connections")


@requires(Perm.MANAGE, scope=Scope.ANY)
@require_http_methods(["GET", "POST"])
def connection_rename(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_org_or_404(request, pk)
    form = RenameConnectionForm(request.POST or None, org=org, initial={"name": org.name})
    if request.method == "POST" and form.is_valid():
        services.connection_rename(org=org, name=form.cleaned_data["name"], actor=request.user)
        messages.success(request, f"Renamed to “{org.name}”.")
        if request.htmx:
            return render(request, "orgadmin/_connection_row.html", {"org": org})
        return redirect("orgadmin:connections")
    template = (
        "orgadmin/_connection_rename.html" if request.htmx else "orgadmin/connection_rename.html"
    )
    return render(request, template, {"org": org, "form": form})


@requires(Perm.MANAGE, scope=Scope.ANY)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("admin_key")
@sensitive_variables("form")
def connection_key(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_org_or_404(request, pk)
    if request.method == "POST":
        step_up(request)
    form = ConnectionKeyForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_set_key(
                org=org, admin_key=form.cleaned_data["admin_key"], actor=request.user
            )
        except OrgAPIError as exc:
            if exc.code == "base_url_refused":  # the connection's URL, not the key: nothing sent
                form.add_error(None, exc.message)
            else:
                form.add_error("admin_key", f"The API refused this key: {exc}")
        else:
            messages.success(
                request, f"New key saved for “{org.name}”. The API accepted it.{_limits(org)}"
            )
            return redirect("orgadmin:connections")
    return render(request, "orgadmin/connection_key.html", {"org": org, "form": form})


@requires(Perm.MANAGE, scope=Scope.ALL)
@require_POST
def connection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_org_or_404(request, pk)
    name = org.name
    services.connection_delete(org=org, actor=request.user)
    messages.success(request, f"Removed the connection “{name}” and its synced data.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("orgadmin:connections"))
    return redirect("orgadmin:connections")


@signed_in
@require_POST
def switch_org(request: HttpRequest) -> HttpResponse:
    form = SwitchOrganizationForm(request.POST, orgs=_visible(request))
    if form.is_valid():
        request.session[SESSION_KEY] = form.cleaned_data["org"].pk
    else:
        messages.error(request, f"Organization: {' '.join(form.errors['org'])}")
    return back(request, "home")


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and docker healthchecks: no login, no secrets."""
    Organization.objects.exists()  # proves the database answers
    return HttpResponse("ok", content_type="text/plain")
