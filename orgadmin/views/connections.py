"""Connections: add, verify, rename, re-key and remove the organizations we manage."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from orgadmin.access import Perm, requires, signed_in
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


def _get_org_or_404(pk: int) -> Organization:
    return get_object_or_404(Organization, pk=pk)


def _page(request: HttpRequest, form: ConnectionForm, part: str = "") -> HttpResponse:
    orgs = Organization.objects.select_related("added_by")
    template = fragment(request, "orgadmin/connections.html", part)
    return render(request, template, {"form": form, "orgs": orgs})


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("admin_key")
@sensitive_variables("form")
def connections(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, ConnectionForm())
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
            messages.success(request, f"Connected to “{org.name}”. The key works.")
            if request.htmx:
                return HttpResponseClientRedirect(request.path)
            return redirect("orgadmin:connections")
    return _page(request, form, "add-form")


@requires(Perm.MANAGE)
@require_POST
def connection_verify(request: HttpRequest, pk: int) -> HttpResponse:
    org = services.connection_verify(org=_get_org_or_404(pk), actor=request.user)
    if org.status == Organization.Status.OK:
        messages.success(request, f"“{org.name}” works: the API accepted the key.")
    else:
        messages.error(request, f"“{org.name}”: {org.status_message}")
    if request.htmx:
        return render(request, "orgadmin/_connection_row.html", {"org": org})
    return redirect("orgadmin:connections")


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
def connection_rename(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_org_or_404(pk)
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


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("admin_key")
@sensitive_variables("form")
def connection_key(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_org_or_404(pk)
    form = ConnectionKeyForm(request.POST or None)
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
            messages.success(request, f"New key saved for “{org.name}”. The API accepted it.")
            return redirect("orgadmin:connections")
    return render(request, "orgadmin/connection_key.html", {"org": org, "form": form})


@requires(Perm.MANAGE)
@require_POST
def connection_delete(request: HttpRequest, pk: int) -> HttpResponse:
    org = _get_org_or_404(pk)
    name = org.name
    services.connection_delete(org=org, actor=request.user)
    messages.success(request, f"Removed the connection “{name}” and its synced data.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("orgadmin:connections"))
    return redirect("orgadmin:connections")


@signed_in
@require_POST
def switch_org(request: HttpRequest) -> HttpResponse:
    form = SwitchOrganizationForm(request.POST)
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
