"""`/v1/billing/teams/{team_id}/...`: billing info, invoices, payment methods, the month's
preview, spending limits, prepaid credits and the usage analytics. No pagination anywhere.

Shapes follow xai-proto `management_api/v1/billing.proto` and `shared/billing/types.proto`.
*Inferred*: invoices list newest first and with no filter list every invoice; two filter forms
at once, or a year without a month, are a 400; unknown invoice ids are skipped; the payment
methods list the default first (the proto has no "default" flag); a soft limit above the
effective hard limit is a 400; billing-info and payment-method changes and top-ups are audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from orgadmin.xai.simulator.errors import invalid
from orgadmin.xai.simulator.routing import (
    BILLING_READ,
    BILLING_WRITE,
    Request,
    as_int,
    cent_of,
    route,
)
from orgadmin.xai.simulator.store import tax_of
from orgadmin.xai.simulator.usage import analyze, get

BASE = "/v1/billing/teams/{team_id}"
ADDRESS_FIELDS = ("line1", "line2", "city", "country", "postalCode", "state")
INFO_FIELDS = ("name", "email", "taxIdType", "taxNumber")


@route("GET", f"{BASE}/billing-info", BILLING_READ)
def billing_info(req: Request) -> dict[str, Any]:
    return {"billingInfo": req.store.billing_info}


@route("POST", f"{BASE}/billing-info", BILLING_WRITE)
def set_billing_info(req: Request) -> dict[str, Any]:
    raw = get(req.body, "billingInfo", "billing_info")
    if not isinstance(raw, dict):
        raise invalid("billingInfo is required.")
    info: dict[str, Any] = {k: str(raw[k]) for k in INFO_FIELDS if raw.get(k) is not None}
    address = raw.get("address")
    if isinstance(address, dict):
        info["address"] = {k: str(address[k]) for k in ADDRESS_FIELDS if address.get(k)}
    req.store.billing_info = info
    req.store.audit_add("Updated the billing information", req.user_id, req.now)
    return {}


def _cycle(req: Request, prefix: str) -> tuple[int, int] | None:
    year = req.q(f"{prefix}.year")
    month = req.q(f"{prefix}.month")
    if year is None and month is None:
        return None
    if year is None or month is None:
        raise invalid(f"{prefix}.year and {prefix}.month go together.")
    y, m = as_int(year, f"{prefix}.year", nullable=False), as_int(month, f"{prefix}.month")
    if not m or not 1 <= m <= 12:
        raise invalid(f"{prefix}.month must be between 1 and 12.")
    return y, m  # type: ignore[return-value]


@route("GET", f"{BASE}/invoices", BILLING_READ)
def invoices(req: Request) -> dict[str, Any]:
    cycle = _cycle(req, "billingCycle") or _cycle(req, "billing_cycle")
    since = _cycle(req, "since")
    ids = req.qs("invoiceIds", "invoiceIds.invoiceIds", "invoice_ids", "invoice_ids.invoice_ids")
    if sum(1 for form in (cycle, since, ids) if form) > 1:
        raise invalid("Give one of billingCycle, since or invoiceIds.")
    found = sorted(req.store.invoices, key=lambda i: (i.create_time, i.invoice_id), reverse=True)
    if cycle:
        found = [i for i in found if (i.year, i.month) == cycle]
    elif since:
        found = [i for i in found if (i.year, i.month) >= since]
    elif ids:
        found = [i for i in found if i.invoice_id in ids]
    shaper, team = req.shaper, req.store.team_id
    return {"invoices": [shaper.invoice(i, team, shaper.nth(n)) for n, i in enumerate(found)]}


@route("GET", f"{BASE}/payment-method", BILLING_READ)
def payment_methods(req: Request) -> dict[str, Any]:
    store = req.store
    ordered = sorted(
        store.payment_methods,
        key=lambda m: m.payment_method_id != store.default_payment_method_id,
    )
    return {"paymentMethods": [req.shaper.payment_method(m, store.billing_info) for m in ordered]}


@route("POST", f"{BASE}/payment-method/default", BILLING_WRITE)
def set_default_payment_method(req: Request) -> dict[str, Any]:
    wanted = get(req.body, "paymentMethodId", "payment_method_id")
    if not isinstance(wanted, str) or not wanted:
        raise invalid("paymentMethodId is required.")
    method = req.store.payment_method(wanted)
    req.store.default_payment_method_id = method.payment_method_id
    req.store.audit_add(
        f"Set the default payment method to {method.brand} ending {method.last4}",
        req.user_id,
        req.now,
    )
    return {}


@route("GET", f"{BASE}/postpaid/invoice/preview", BILLING_READ)
def invoice_preview(req: Request) -> dict[str, Any]:
    """The month so far (UTC): its lines sum the month's usage exactly."""
    store, shaper, now = req.store, req.shaper, req.now
    first = now.date().replace(day=1)
    lines = store.lines_between(first, now.date() + timedelta(days=1))
    before = sum(line.amount for line in lines)
    vat = tax_of(before)
    after = before + vat
    balance = max(store.balance_cents(), 0)
    core = {
        "lines": [shaper.line(line, shaper.nth(i, "preview")) for i, line in enumerate(lines)],
        "amountBeforeVat": shaper.int64(before, shaper.nth(0, "pv")),
        "vatCost": shaper.int64(vat, shaper.nth(1, "pv")),
        "amountAfterVat": shaper.int64(after, shaper.nth(2, "pv")),
        "autoCreditsIssued": shaper.int64(0, shaper.nth(3, "pv")),
        "defaultCreditsIssued": shaper.int64(0, shaper.nth(4, "pv")),
        "totalWithCorr": shaper.cent(after, shaper.nth(5, "pv")),
        "prepaidCredits": shaper.cent(balance, shaper.nth(6, "pv")),
        "prepaidCreditsUsed": shaper.cent(min(balance, after), shaper.nth(7, "pv")),
    }
    return {
        "coreInvoice": core,
        "effectiveSpendingLimit": shaper.int64(store.effective_limit(), shaper.nth(8, "pv")),
        "defaultCredits": shaper.int64(store.default_credits, shaper.nth(9, "pv")),
        "billingCycle": {"year": now.year, "month": now.month},
    }


@route("GET", f"{BASE}/postpaid/spending-limits", BILLING_READ)
def spending_limits(req: Request) -> dict[str, Any]:
    return req.shaper.spending_limits(req.store)


@route("POST", f"{BASE}/postpaid/spending-limits", BILLING_WRITE)
def set_spending_limit(req: Request) -> dict[str, Any]:
    raw = get(req.body, "desiredSoftSpendingLimit", "desired_soft_spending_limit")
    cents = cent_of(raw, "desiredSoftSpendingLimit")
    cents = req.store.set_soft_limit(cents, user_id=req.user_id, when=req.now)
    return {"thisBpSoftSpendingLimit": req.shaper.cent(cents, req.shaper.bit("soft"))}


@route("GET", f"{BASE}/prepaid/balance", BILLING_READ)
def prepaid_balance(req: Request) -> dict[str, Any]:
    store, shaper = req.store, req.shaper
    changes = sorted(store.balance_changes, key=lambda c: c.create_time, reverse=True)
    return {
        "changes": [
            shaper.balance_change(c, store.team_id, shaper.nth(i, "bal"))
            for i, c in enumerate(changes)
        ],
        "total": shaper.cent(store.balance_cents(), shaper.bit("total")),
    }


@route("POST", f"{BASE}/prepaid/top-up", BILLING_WRITE)
def top_up(req: Request) -> dict[str, Any]:
    """Charges the default payment method: recorded in `store.top_ups()` and the audit log."""
    cents = cent_of(req.body.get("amount"), "amount")
    change = req.store.top_up(cents, user_id=req.user_id, when=req.now)
    return {"change": req.shaper.balance_change(change, req.store.team_id, req.shaper.bit("tu"))}


@route("POST", f"{BASE}/usage", BILLING_READ)
def usage(req: Request) -> dict[str, Any]:
    return analyze(req.store, req.body)
