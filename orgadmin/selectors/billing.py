"""An xAI team's billing, read live through its Management API: the month so far (the invoice
preview) with its lines, the invoices, the prepaid credits and their changes, the spending limits
and the billing details.

Nothing of it is synced: each page view asks the API (`orgadmin.xai.client`), once per section,
and a section the API refuses is shown as its refusal while the others still show. Money is
exact: the API's whole US cents become `Decimal` dollars (`cents_to_usd`), never a float.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.utils import timezone

from orgadmin.client import OrgAPIError
from orgadmin.csv_export import Cell
from orgadmin.models import Organization
from orgadmin.xai.client import XAIClient, xai_client
from orgadmin.xai.types import Cent, InvoiceLine, cents_to_usd

T = TypeVar("T")

# The page's sections, each one read: the view may ask for fewer (an htmx part of the page).
SECTIONS = ("month", "limits", "prepaid", "invoices", "details")
SECTION_TITLES = {
    "month": "This month so far",
    "limits": "Spending limits",
    "prepaid": "Prepaid credits",
    "invoices": "Invoices",
    "details": "Billing details",
}
# Invoices since this many months back, the current one included: a year by default.
DEFAULT_MONTHS = 12
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # where an undated row sorts

STATUS_WORDS: dict[str, tuple[str, str]] = {
    # status → (words, badge tone)
    "PAID": ("Paid", "ok"),
    "PENDING": ("Pending: not charged yet", "info"),
    "WILL_NEVER_BE_CHARGED": ("Never charged (waived)", "muted"),
    "FAILED": ("Payment failed", "error"),
}
ORIGIN_WORDS: dict[str, str] = {
    "PURCHASE": "Credits purchased",
    "SPEND": "Spent on usage",
    "REFUND": "Refund",
    "MANUAL": "Adjusted by xAI",
}
# Unit prices come in millionths of a US cent per unit (billing.proto's `unit_price`, as the
# simulator reads it): a token costs a fraction of a cent, so tokens are priced per million.
UNIT_PRICE_SCALE = -8  # millionths of a cent → dollars
PER_MILLION = {"tokens", "token"}


def usd(cents: Cent | int | None) -> Decimal | None:
    """A `Cent` (or whole cents) as exact dollars; None stays None (no such limit)."""
    if cents is None:
        return None
    return cents_to_usd(cents.val if isinstance(cents, Cent) else cents)


@dataclass(frozen=True)
class BillingLine:
    """One billed item of an invoice or of the month so far."""

    description: str
    unit_type: str
    unit_price_raw: int  # millionths of a cent per unit, as the API sends it
    units: int
    amount: Decimal  # USD

    @property
    def unit_price(self) -> Decimal:
        """Dollars per unit, exact."""
        return Decimal(self.unit_price_raw).scaleb(UNIT_PRICE_SCALE)

    @property
    def unit_price_label(self) -> str:
        """ "$3.00 per 1M tokens", "$0.07 per image": a price a person reads."""
        unit = self.unit_type or "unit"
        if unit.lower() in PER_MILLION:
            return f"{_dollars(Decimal(self.unit_price_raw).scaleb(-2))} per 1M {unit}"
        return f"{_dollars(self.unit_price)} per {unit.removesuffix('s') or unit}"


def _dollars(amount: Decimal) -> str:
    """At least two decimals, more only when the price has them: $0.07, $0.025, $3.00."""
    text = format(amount.normalize(), "f")
    whole, _, cents = text.partition(".")
    return f"${int(whole):,}.{cents.ljust(2, '0')}"


def _line(line: InvoiceLine) -> BillingLine:
    return BillingLine(
        description=line.description or "—",
        unit_type=line.unit_type,
        unit_price_raw=line.unit_price.val,
        units=line.num_units,
        amount=cents_to_usd(line.amount.val),
    )


@dataclass(frozen=True)
class MonthToDate:
    """The invoice preview: the current billing cycle so far."""

    cycle: date  # the first day of the billing cycle
    lines: list[BillingLine]
    before_vat: Decimal
    vat: Decimal
    after_vat: Decimal
    prepaid_credits: Decimal
    prepaid_used: Decimal
    effective_limit: Decimal
    request_id: str = ""

    @property
    def to_pay(self) -> Decimal:
        """What the credits don't cover."""
        return self.after_vat - self.prepaid_used


@dataclass(frozen=True)
class InvoiceRow:
    invoice_id: str
    number: str
    created: datetime | None
    status: str
    lines: list[BillingLine]
    subtotal: Decimal
    tax: Decimal
    total: Decimal

    @property
    def status_label(self) -> str:
        return STATUS_WORDS.get(self.status, (self.status.replace("_", " ").title() or "—", ""))[0]

    @property
    def status_tone(self) -> str:
        return STATUS_WORDS.get(self.status, ("", "info"))[1]


@dataclass(frozen=True)
class Invoices:
    rows: list[InvoiceRow]
    since: date | None  # from this month on (None: one billing cycle)
    cycle: date | None  # only this billing cycle
    request_id: str = ""

    @property
    def total(self) -> Decimal:
        return sum((i.total for i in self.rows), Decimal(0))


@dataclass(frozen=True)
class BalanceChangeRow:
    origin: str
    amount: Decimal  # as the API signs it: a purchase negative, a spend positive
    created: datetime | None
    invoice_number: str

    @property
    def origin_label(self) -> str:
        return ORIGIN_WORDS.get(self.origin, self.origin.title() or "—")

    @property
    def credit(self) -> Decimal:
        """The change's effect on the credit left: a purchase adds, a spend takes away."""
        return -self.amount


@dataclass(frozen=True)
class Prepaid:
    total: Decimal  # the credit left
    changes: list[BalanceChangeRow]
    request_id: str = ""


@dataclass(frozen=True)
class Limits:
    """The team's monthly spending limits in dollars; None where the API sets none."""

    hard_override: Decimal | None
    hard_auto: Decimal | None
    effective_hard: Decimal | None
    soft: Decimal | None
    effective: Decimal | None
    request_id: str = ""

    @property
    def effective_hard_cents(self) -> int | None:
        """The most a soft limit may be, in cents."""
        if self.effective_hard is None:
            return None
        return int(self.effective_hard.scaleb(2))


@dataclass(frozen=True)
class Details:
    name: str
    email: str
    address: list[str]
    tax_id: str
    request_id: str = ""


@dataclass
class BillingPage:
    """What the page shows: each section's reading, or its refusal (`errors[section]`)."""

    month: MonthToDate | None = None
    limits: Limits | None = None
    prepaid: Prepaid | None = None
    invoices: Invoices | None = None
    details: Details | None = None
    errors: dict[str, OrgAPIError] = field(default_factory=dict)

    @property
    def problems(self) -> list[tuple[str, OrgAPIError]]:
        """Each refusal once, with the sections it left empty: "Invoices, Billing details"."""
        grouped: dict[int, tuple[list[str], OrgAPIError]] = {}
        for section, error in self.errors.items():
            grouped.setdefault(id(error), ([], error))[0].append(SECTION_TITLES[section])
        return [(", ".join(titles), error) for titles, error in grouped.values()]

    @property
    def refusal(self) -> OrgAPIError | None:
        """The first refusal for the key's permissions: every other billing read fails alike."""
        return next((e for e in self.errors.values() if e.permission_denied), None)


# --- reads, each with a client the caller opened -------------------------------------------------


def billing_month_to_date(*, client: XAIClient, team: str) -> MonthToDate:
    """The invoice preview: the month so far, its lines, VAT and prepaid credits used."""
    preview = client.invoice_preview(team)
    core = preview.core_invoice
    cycle = preview.billing_cycle
    first = date(cycle.year, cycle.month, 1) if cycle and cycle.year and cycle.month else None
    return MonthToDate(
        cycle=first or timezone.now().date().replace(day=1),
        lines=sorted(map(_line, core.lines), key=lambda ln: (-ln.amount, ln.description)),
        before_vat=cents_to_usd(core.amount_before_vat.val),
        vat=cents_to_usd(core.vat_cost.val),
        after_vat=cents_to_usd(core.amount_after_vat.val),
        prepaid_credits=cents_to_usd(core.prepaid_credits.val),
        prepaid_used=cents_to_usd(core.prepaid_credits_used.val),
        effective_limit=cents_to_usd(preview.effective_spending_limit.val),
        request_id=preview.request_id,
    )


def months_back(today: date, months: int) -> date:
    """The first day of the month `months - 1` before `today`'s: 12 months, this one included."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def billing_invoices(
    *,
    client: XAIClient,
    team: str,
    cycle: date | None = None,
    months: int = DEFAULT_MONTHS,
    today: date | None = None,
) -> Invoices:
    """The invoices of one billing cycle, or of the last `months` months (a year), newest first."""
    since = None if cycle else months_back(today or timezone.now().date(), months)
    if cycle is not None:
        found = client.invoices(team, billing_cycle=(cycle.year, cycle.month))
    else:
        found = client.invoices(team, since=(since.year, since.month))  # type: ignore[union-attr]
    rows = [
        InvoiceRow(
            invoice_id=i.invoice_id,
            number=i.invoice_number or i.invoice_id,
            created=i.create_time,
            status=i.invoice_status,
            lines=[_line(line) for line in i.lines],
            subtotal=cents_to_usd(i.subtotal.val),
            tax=cents_to_usd(i.tax.val),
            total=cents_to_usd(i.total.val),
        )
        for i in found
    ]
    rows.sort(key=lambda r: (r.created or EPOCH, r.number), reverse=True)
    return Invoices(rows=rows, since=since, cycle=cycle, request_id=client.last_request_id)


def billing_prepaid(*, client: XAIClient, team: str) -> Prepaid:
    """The prepaid credit left and its changes, newest first."""
    balance = client.prepaid_balance(team)
    changes = [
        BalanceChangeRow(
            origin=c.change_origin,
            amount=cents_to_usd(c.amount.val),
            created=c.create_time,
            invoice_number=c.invoice_number or c.invoice_id or "",
        )
        for c in balance.changes
    ]
    changes.sort(key=lambda c: c.created or EPOCH, reverse=True)
    return Prepaid(
        total=cents_to_usd(balance.total.val), changes=changes, request_id=balance.request_id
    )


def billing_limits(*, client: XAIClient, team: str) -> Limits:
    """The team's spending limits: the hard one (xAI's, or an override) and the soft one."""
    found = client.spending_limits(team)
    return Limits(
        hard_override=usd(found.hard_sl_override),
        hard_auto=usd(found.hard_sl_auto),
        effective_hard=usd(found.effective_hard_sl),
        soft=usd(found.soft_sl),
        effective=usd(found.effective_sl),
        request_id=found.request_id,
    )


def billing_details(*, client: XAIClient, team: str) -> Details:
    """Who the invoices are made out to."""
    info = client.billing_info(team)
    address = info.address
    lines = []
    if address is not None:
        region = " ".join(p for p in (address.state, address.postal_code) if p)
        place = ", ".join(p for p in (address.city, region) if p)
        lines = [p for p in (address.line1, address.line2, place, address.country) if p]
    kind = info.tax_id_type.replace("_", " ").upper()  # "us_ein" → "US EIN"
    tax_id = " ".join(p for p in (kind, info.tax_number) if p)
    return Details(
        name=info.name,
        email=info.email,
        address=lines,
        tax_id=tax_id,
        request_id=info.request_id,
    )


# --- the page ------------------------------------------------------------------------------------


def _read(page: BillingPage, section: str, read: Callable[[], T]) -> None:
    try:
        setattr(page, section, read())
    except OrgAPIError as exc:
        page.errors[section] = exc


def billing_page(
    *,
    org: Organization,
    team: str,
    cycle: date | None = None,
    sections: Iterable[str] = SECTIONS,
) -> BillingPage:
    """Each section asked of the API with one client; a refusal stops the rest only when it
    would refuse them too (the key, its permissions, the network)."""
    page = BillingPage()
    reads: dict[str, Callable[[XAIClient], Any]] = {
        "month": lambda c: billing_month_to_date(client=c, team=team),
        "limits": lambda c: billing_limits(client=c, team=team),
        "prepaid": lambda c: billing_prepaid(client=c, team=team),
        "invoices": lambda c: billing_invoices(client=c, team=team, cycle=cycle),
        "details": lambda c: billing_details(client=c, team=team),
    }
    wanted = [s for s in SECTIONS if s in set(sections)]
    try:
        client = xai_client(org)
    except OrgAPIError as exc:
        page.errors = dict.fromkeys(wanted, exc)
        return page
    with client:
        for index, section in enumerate(wanted):
            _read(page, section, lambda s=section: reads[s](client))
            error = page.errors.get(section)
            if error is not None and (error.permission_denied or error.account_wide):
                page.errors.update(dict.fromkeys(wanted[index:], error))
                break
    return page


# --- the export ----------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "invoice_number",
    "invoice_id",
    "created_utc",
    "status",
    "subtotal_usd",
    "tax_usd",
    "total_usd",
    "line_description",
    "line_unit_type",
    "line_unit_price_usd",
    "line_units",
    "line_amount_usd",
)


def billing_invoice_rows(invoices: Invoices) -> Iterator[list[Cell]]:
    """One CSV row per invoice line (the invoice's figures on each), one for an invoice without."""
    for invoice in invoices.rows:
        head: list[Cell] = [
            invoice.number,
            invoice.invoice_id,
            invoice.created.strftime("%Y-%m-%dT%H:%M:%SZ") if invoice.created else "",
            invoice.status,
            invoice.subtotal,
            invoice.tax,
            invoice.total,
        ]
        if not invoice.lines:
            yield [*head, "", "", None, None, None]
        for line in invoice.lines:
            yield [
                *head,
                line.description,
                line.unit_type,
                line.unit_price,
                line.units,
                line.amount,
            ]
