"""The attribution pages (Finance and Admin): cost by person, cost by key, reconciliation and
unit prices, their CSV/JSON exports, and an Admin's price overrides."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from dashboard.attribution import exports, pages, services
from dashboard.attribution.forms import (
    OverrideRemoveForm,
    PriceOverrideForm,
    RangeForm,
    utc_today,
)
from dashboard.attribution.invoices import invoice_months
from dashboard.attribution.models import PriceOverride
from dashboard.page_cache import cached_page
from orgadmin import selectors as org_selectors
from orgadmin.access import Perm, requires
from orgadmin.models import SyncRun
from orgadmin.providers import Capability
from orgadmin.views.common import (
    bad_filter,
    can_manage,
    download,
    first_error,
    fragment,
    try_change,
    with_org,
)

BUILD = {
    "attribution": pages.people_context,
    "attribution_keys": pages.keys_context,
    "attribution_reconciliation": pages.reconciliation_context,
    "attribution_prices": pages.prices_context,
}


def _render(
    request: HttpRequest, name: str, template: str, *, whole: bool = False, **more: Any
) -> HttpResponse:
    """A tab: its range form, and its tables when the range holds (else the form's errors).
    An htmx request gets the tables' fragment, unless `whole` (a refused form below them)."""
    org = request.org
    form = RangeForm(request.GET)
    context = {
        "org": org,
        "form": form,
        "tabs": pages.tabs(name, form),
        "has_usage": org.has_capability(Capability.USAGE),
        "sync_status": org_selectors.sync_status(org=org, kind=SyncRun.Kind.USAGE),
        **more,
    }
    if form.is_valid():
        context.update(BUILD[name](org=org, form=form))
    part = template if whole else fragment(request, template, "attribution-body")
    return render(request, part, context)


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
@cached_page("attribution_people")
def people(request: HttpRequest) -> HttpResponse:
    return _render(request, "attribution", "attribution/people.html")


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
@cached_page("attribution_keys")
def keys(request: HttpRequest) -> HttpResponse:
    return _render(request, "attribution_keys", "attribution/keys.html")


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
def reconciliation(request: HttpRequest) -> HttpResponse:
    """Not cached: an xAI team's invoices are read live."""
    more: dict[str, Any] = {}
    if request.org.has_capability(Capability.BILLING) and not request.htmx:
        more["months"], more["invoice_error"] = invoice_months(org=request.org, today=utc_today())
    return _render(request, "attribution_reconciliation", "attribution/reconciliation.html", **more)


def _prices(request: HttpRequest, form: PriceOverrideForm | None = None) -> HttpResponse:
    overrides = PriceOverride.objects.filter(org=request.org).select_related("created_by")
    manage = can_manage(request)
    return _render(
        request,
        "attribution_prices",
        "attribution/prices.html",
        overrides=overrides,
        can_manage=manage,
        override_form=(form or PriceOverrideForm()) if manage else None,
        whole=form is not None,  # a refused override: the page with its form and errors
    )


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
def prices(request: HttpRequest) -> HttpResponse:
    return _prices(request)


@requires(Perm.MANAGE)
@require_POST
@with_org
def price_add(request: HttpRequest) -> HttpResponse:
    form = PriceOverrideForm(request.POST)
    created = None
    if form.is_valid():
        values = dict(form.cleaned_data)
        add = lambda: services.price_override_create(org=request.org, actor=request.user, **values)  # noqa: E731
        created, _refused = try_change(add, doing="set the price", form=form)
    if created is None:
        return _prices(request, form)
    messages.success(request, f"The price of “{created.line_item}” is set.")
    return redirect("attribution_prices")


@requires(Perm.MANAGE)
@require_POST
@with_org
def price_remove(request: HttpRequest) -> HttpResponse:
    form = OverrideRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing removed: {first_error(form)}")
        return redirect("attribution_prices")
    found = PriceOverride.objects.filter(org=request.org, pk=form.cleaned_data["override"]).first()
    if found is None:
        messages.error(request, "No such price override (it may have been removed already).")
        return redirect("attribution_prices")
    services.price_override_delete(override=found, actor=request.user)
    messages.success(request, f"Removed the price of “{found.line_item}”.")
    return redirect("attribution_prices")


def _export(request: HttpRequest, fmt: str, table: str) -> HttpResponse:
    org = request.org
    if org is None:
        return HttpResponse("No organization is connected.", status=404, content_type="text/plain")
    form = RangeForm(request.GET)
    if not form.is_valid():
        return bad_filter(form)
    content, filename = exports.export(org=org, form=form, table=table, fmt=fmt)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return download(content, filename=filename, content_type=content_type)


@requires(Perm.VIEW_SPEND)
@require_GET
def people_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, fmt, "people")


@requires(Perm.VIEW_SPEND)
@require_GET
def keys_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, fmt, "keys")


@requires(Perm.VIEW_SPEND)
@require_GET
def reconciliation_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, fmt, "reconciliation")
