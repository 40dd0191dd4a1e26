"""API keys: project keys across every project, and the organization's admin keys."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgadmin import selectors
from orgadmin.access import Perm, requires
from orgadmin.accounts.stepup import step_up, step_up_required
from orgadmin.forms import AdminKeyCreateForm, KeyFilterForm
from orgadmin.models import AdminApiKey
from orgadmin.selectors.sorting import ADMIN_KEYS, KEYS
from orgadmin.services import org_settings as services
from orgadmin.views.common import (
    attempt,
    base_context,
    changed,
    fragment,
    inline_result,
    paginate,
    try_change,
    with_org,
)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def keys(request: HttpRequest) -> HttpResponse:
    form = KeyFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    sort = KEYS.parse(request.GET.get("sort"))
    rows = selectors.keys_list(
        org=request.org,
        q=filters.get("q", ""),
        owner=filters.get("owner", ""),
        project_id=filters.get("project", ""),
        sort=sort,
    )
    context = {
        **base_context(request),
        "form": form,
        "sort": sort,
        "page": paginate(request, rows),
        "filtered": any(filters.get(k) for k in ("q", "owner", "project")),
    }
    return render(request, fragment(request, "orgadmin/keys.html", "key-live"), context)


def _admin_keys_page(
    request: HttpRequest, form: AdminKeyCreateForm, part: str, **extra: Any
) -> HttpResponse:
    sort = ADMIN_KEYS.parse(request.GET.get("sort"))
    rows = selectors.admin_keys_list(org=request.org, sort=sort)
    for key in rows:
        key.in_use = selectors.admin_key_in_use(org=request.org, key=key)
    context = {
        **base_context(request),
        "admin_keys": rows,
        "sort": sort,
        "list_path": reverse("orgadmin:admin_keys"),
        "form": form,
        **extra,
    }
    return render(request, fragment(request, "orgadmin/admin_keys.html", part), context)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def admin_keys(request: HttpRequest) -> HttpResponse:
    return _admin_keys_page(request, AdminKeyCreateForm(), "admin-key-live")


def _shown_once(name: str, created: Any) -> dict[str, str]:
    """The new admin key for the page's secret panel: in this one response only."""
    return {
        "title": f"The admin API key “{name}”",
        "secret": created.value,
        "key_name": name,
        "note": "It can manage the whole organization: keep it in a secret manager.",
    }


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_variables("created", "secret")
@with_org
@step_up_required
def admin_key_create(request: HttpRequest) -> HttpResponse:
    form = AdminKeyCreateForm(request.POST or None)
    if not form.is_valid():  # a GET's form is unbound: never valid
        return _admin_keys_page(request, form, "admin-key-form" if request.method == "POST" else "")
    name = form.cleaned_data["name"]
    created, error = try_change(
        lambda: services.admin_key_create(
            org=request.org,
            name=name,
            expires_in_seconds=form.expires_in_seconds(),
            actor=request.user,
        ),
        doing=f"create the admin key “{name}”",
        form=form,
    )
    if error is not None:
        return _admin_keys_page(request, form, "admin-key-form")
    messages.success(request, f"Created the admin key “{name}”.")
    secret = _shown_once(name, created)
    response = _admin_keys_page(request, AdminKeyCreateForm(), "admin-key-form", secret=secret)
    return changed(response) if request.htmx else response


@requires(Perm.MANAGE)
@require_POST
@with_org
def admin_key_delete(request: HttpRequest, key_id: str) -> HttpResponse:
    key = AdminApiKey.objects.filter(org=request.org, openai_id=key_id).first()
    if key is None:
        raise Http404("No such admin key (it may have been deleted since the last sync).")
    step_up(request)
    error = attempt(
        request,
        lambda: services.admin_key_delete(org=request.org, key=key, actor=request.user),
        doing=f"delete the admin key “{key.name}”",
        done=lambda: f"Deleted the admin key “{key.name or key.redacted_value}”.",
    )
    return inline_result(request, error=error, fallback="orgadmin:admin_keys")
