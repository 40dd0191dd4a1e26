"""API keys: project keys across every project, and the organization's admin keys."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgadmin import selectors, services
from orgadmin.access import Perm, requires
from orgadmin.client import OrgAPIError
from orgadmin.directory_forms import AdminKeyCreateForm, KeyFilterForm
from orgadmin.models import AdminApiKey
from orgadmin.views.common import (
    api_error_text,
    attempt,
    base_context,
    changed,
    inline_result,
    paginate,
    with_org,
)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def keys(request: HttpRequest) -> HttpResponse:
    form = KeyFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.keys_list(
        org=request.org,
        q=filters.get("q", ""),
        owner=filters.get("owner", ""),
        project_id=filters.get("project", ""),
    )
    context = {
        **base_context(request),
        "form": form,
        "page": paginate(request, rows),
        "filtered": any(filters.get(k) for k in ("q", "owner", "project")),
    }
    template = "orgadmin/keys.html"
    if request.htmx and not request.htmx.boosted:
        template += "#key-live"
    return render(request, template, context)


def _admin_keys_page(
    request: HttpRequest, form: AdminKeyCreateForm, *, fragment: str = "", **extra
) -> HttpResponse:
    rows = selectors.admin_keys_list(org=request.org)
    for key in rows:
        key.in_use = services.admin_key_in_use(org=request.org, key=key)
    context = {**base_context(request), "admin_keys": rows, "form": form, **extra}
    template = "orgadmin/admin_keys.html" + (f"#{fragment}" if fragment else "")
    return render(request, template, context)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def admin_keys(request: HttpRequest) -> HttpResponse:
    fragment = "admin-key-live" if request.htmx and not request.htmx.boosted else ""
    return _admin_keys_page(request, AdminKeyCreateForm(), fragment=fragment)


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_variables("created")
@with_org
def admin_key_create(request: HttpRequest) -> HttpResponse:
    form = AdminKeyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        try:
            created = services.admin_key_create(
                org=request.org,
                name=name,
                expires_in_seconds=form.expires_in_seconds(),
                actor=request.user,
            )
        except OrgAPIError as exc:
            form.add_error(None, api_error_text(exc, doing=f"create the admin key “{name}”"))
        else:
            messages.success(request, f"Created the admin key “{name}”.")
            secret = {
                "title": f"The admin API key “{name}”",
                "secret": created.value,
                "key_name": name,
                "note": "It can manage the whole organization: keep it in a secret manager.",
            }
            fragment = "admin-key-form" if request.htmx else ""
            response = _admin_keys_page(
                request, AdminKeyCreateForm(), fragment=fragment, secret=secret
            )
            return changed(response) if request.htmx else response
    fragment = "admin-key-form" if request.htmx and request.method == "POST" else ""
    return _admin_keys_page(request, form, fragment=fragment)


@requires(Perm.MANAGE)
@require_POST
@with_org
def admin_key_delete(request: HttpRequest, key_id: str) -> HttpResponse:
    key = AdminApiKey.objects.filter(org=request.org, openai_id=key_id).first()
    if key is None:
        raise Http404("No such admin key (it may have been deleted since the last sync).")
    error = attempt(
        request,
        lambda: services.admin_key_delete(org=request.org, key=key, actor=request.user),
        doing=f"delete the admin key “{key.name}”",
        done=lambda: f"Deleted the admin key “{key.name or key.redacted_value}”.",
    )
    return inline_result(request, error=error, fallback="orgadmin:admin_keys")
