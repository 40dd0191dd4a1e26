"""An xAI team's Billing page: the month so far with its lines, the invoices, the prepaid credits
and their changes, the spending limits, and (for an Admin) the soft limit. Read live from the
Management API on each view. The dashboard never buys credits: there is no top-up action."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from orgadmin.access import Perm, requires
from orgadmin.accounts.stepup import step_up_required
from orgadmin.client import OrgAPIError
from orgadmin.csv_export import csv_stream
from orgadmin.forms.billing import InvoiceFilterForm, SoftLimitForm
from orgadmin.selectors.billing import (
    EXPORT_COLUMNS,
    SECTIONS,
    BillingPage,
    billing_invoice_rows,
    billing_page,
)
from orgadmin.services import billing as services
from orgadmin.services.changes import ChangeRefused
from orgadmin.services.key_areas import key_area_refused
from orgadmin.services.teams import team_id
from orgadmin.views.common import can_manage, download, first_error, fragment, with_org

TEMPLATE = "orgadmin/billing.html"
AREA = services.AREA


def _read(request: HttpRequest, *, cycle: date | None, sections: tuple[str, ...]) -> BillingPage:
    """The sections asked of xAI; nothing is asked once the key is known not to read billing.
    A refusal for permissions is remembered (the area), as a sync's would be."""
    org = request.org
    if not org.key_may_read(AREA):
        return BillingPage()
    try:
        team = team_id(org)
    except OrgAPIError as exc:
        return BillingPage(errors=dict.fromkeys(sections, exc))
    page = billing_page(org=org, team=team, cycle=cycle, sections=sections)
    if page.refusal is not None and key_area_refused(org=org, error=page.refusal, area=AREA):
        org.refresh_from_db(fields=["key_limits"])
    return page


def _context(
    request: HttpRequest,
    *,
    invoice_form: InvoiceFilterForm | None = None,
    limit_form: SoftLimitForm | None = None,
) -> dict[str, Any]:
    org = request.org
    invoice_form = invoice_form or InvoiceFilterForm({})
    cycle = invoice_form.cycle_or_none()
    page = _read(request, cycle=cycle, sections=SECTIONS)
    return {
        "org": org,
        "page": page,
        "cycle": cycle,
        "invoice_form": invoice_form,
        "can_manage": can_manage(request),
        "key_may_read": org.key_may_read(AREA),
        "key_may_write": org.key_may_write(AREA),
        "limit_form": limit_form or SoftLimitForm(),
    }


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
def billing(request: HttpRequest) -> HttpResponse:
    context = _context(request, invoice_form=InvoiceFilterForm(request.GET))
    return render(request, fragment(request, TEMPLATE, "billing-live"), context)


def _limit_change(request: HttpRequest, form: SoftLimitForm, page: BillingPage) -> bool:
    """Send the soft limit; on refusal the reason goes on the form. True when it was set."""
    before = page.limits.soft if page.limits else None
    try:
        services.billing_soft_limit_set(
            org=request.org,
            cents=form.cleaned_data["amount"],
            actor=request.user,
            hard_cents=form.hard_cents,
            before_cents=int(before.scaleb(2)) if before is not None else None,
        )
    except ChangeRefused as exc:
        form.add_error("amount", exc.message)
        return False
    except OrgAPIError as exc:
        form.add_error(None, _refused_text(exc))
        if exc.permission_denied:  # the service marked the area: the page hides the form
            request.org.refresh_from_db(fields=["key_limits"])
        return False
    return True


def _refused_text(exc: OrgAPIError) -> str:
    text = f"xAI refused to set the soft spending limit: {exc}"
    if exc.permission_denied:
        text += (
            " This connection's management key may only read billing, so the form is hidden "
            "from now on (press Check again on Connections once the key may change billing)."
        )
    return text


@requires(Perm.MANAGE)
@require_POST
@with_org
@step_up_required
def billing_soft_limit(request: HttpRequest) -> HttpResponse:
    page = _read(request, cycle=None, sections=("limits",))
    hard = page.limits.effective_hard_cents if page.limits else None
    form = SoftLimitForm(request.POST, hard_cents=hard)
    if page.limits is None:
        error = page.errors.get("limits")
        form.add_error(None, f"The limits could not be read first: {error or 'not permitted'}.")
    ok = page.limits is not None and form.is_valid() and _limit_change(request, form, page)
    if ok:
        amount = form.cleaned_data["amount"]
        messages.success(request, f"Set the soft spending limit to {services.dollars(amount)}.")
    if not request.htmx:
        if not ok:
            messages.error(request, first_error(form) or "Check the form.")
        return redirect("orgadmin:billing")
    context = _context(request, limit_form=None if ok else form)
    return render(request, f"{TEMPLATE}#billing-live", context)


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
def billing_export(request: HttpRequest) -> HttpResponse:
    """The invoices of the page (the last year, or `?cycle=`) as CSV, one row per line."""
    cycle = InvoiceFilterForm(request.GET).cycle_or_none()
    page = _read(request, cycle=cycle, sections=("invoices",))
    if page.invoices is None:  # back to the page, which says why
        error = page.errors.get("invoices")
        why = f"xAI refused the invoices: {error}" if error else "This key may not read billing."
        messages.error(request, f"Nothing exported. {why}")
        return redirect("orgadmin:billing")
    lines = csv_stream(EXPORT_COLUMNS, billing_invoice_rows(page.invoices))
    name = f"{cycle:%Y-%m}" if cycle else f"since-{page.invoices.since:%Y-%m}"
    return download(
        lines, filename=f"xai-invoices-{name}.csv", content_type="text/csv; charset=utf-8"
    )
