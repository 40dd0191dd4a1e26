"""A billing month of costs as FOCUS 1.2 (with 1.3's ServiceProviderName and HostProviderName),
the FinOps Foundation's cost and usage format that FinOps tools import.

One row per CostBucket (a UTC day × line item × project × API key), plus, for an xAI team, the
invoice's tax. What each column holds, and why (../shared/reference/FOCUS.md, the spec v1.2):

- BillingPeriodStart/End: the invoice month in UTC, [first day, first day of the next month);
  ChargePeriodStart/End: the bucket's UTC day. Every date is `YYYY-MM-DDTHH:mm:ssZ`.
- BillingAccountId/Name: the connection. An xAI team is billed on its own (its team id); OpenAI's
  Admin API never tells its organization id, so the connection stands for it (`openai-<pk>`,
  unless `account_id` holds one). SubAccountId/Name: the project (OpenAI), the team (xAI: it has
  no projects). ResourceId/Name/Type: the API key, its name, "API Key"; null for a line item
  billed to no key (a charge related to no resource).
- ChargeCategory "Usage" (and "Tax" for xAI's invoice tax); ChargeClass is null: no row
  corrects an invoiced month (a later sync replaces a day's buckets whole, so there is nothing
  to call a correction). ChargeFrequency "Usage-Based" ("Recurring" for the monthly tax).
- BilledCost = EffectiveCost = ContractedCost = ListCost: pay-as-you-go, no commitment and no
  contract price we know of; a batch or flex rate is its own SKU price (SkuPriceId), not a
  discount off another. Amounts are the stored decimals with every digit (12 places): nothing is
  rounded, so the file's BilledCost adds up to the month's billed total exactly, to the
  pico-dollar (a FinOps tool rounds the sum, as the invoice does).
- SkuId is the line item without its pricing tier ("gpt-4o, input"), SkuPriceId the line item
  itself ("gpt-4o, input (batch)"); PricingCategory "Standard" (predetermined rates).
- ConsumedQuantity/Unit: the bucket's quantity in its unit ("Tokens", "GiB-Hours", "Seconds");
  PricingQuantity/Unit: per the price list's unit ("1000000 Tokens": OpenAI and xAI price tokens
  per million). xAI's cost analytics carry no quantity: it is derived from the amount and the
  unit price on the month's invoice (the invoice preview for the open month), to 6 places, and
  `x_QuantitySource` says "derived" (else "api").
- InvoiceId: xAI's invoice id of the month (read from its API, one request per team). OpenAI's
  invoices are not in its API: a pre-generated id, `<BillingAccountId>-<YYYY-MM>`, the same for
  every row of the month (the spec allows an id generated before the invoice is issued).
- Tags: a JSON object, `{"x_CostCentre": "<name>"}` when the project, key or person has a cost
  centre (dashboard/chargeback), else null. The tag is this dashboard's own (a provider-defined
  tag in the spec's words), so its key carries the `x_` prefix; `x_CostCentre` repeats it as a
  column for tools that don't read JSON. Custom columns start with `x_`.

The CSV goes through orgadmin.csv_export (spreadsheet-safe cells), streamed in chunks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from dashboard.models import CostBucket
from dashboard.selectors import names_for, org_project_names
from orgadmin.csv_export import Cell, csv_stream
from orgadmin.models import Organization
from orgadmin.selectors.billing import BillingLine, billing_invoices, billing_month_to_date
from orgadmin.services.teams import team_id
from orgadmin.xai.client import xai_client

CentreOf = Callable[[str, str], str | None]

COLUMNS = (
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "InvoiceId",
    "InvoiceIssuerName",
    "ProviderName",
    "PublisherName",
    "ServiceProviderName",
    "HostProviderName",
    "ServiceName",
    "ServiceCategory",
    "ServiceSubcategory",
    "SubAccountId",
    "SubAccountName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ChargeCategory",
    "ChargeClass",
    "ChargeFrequency",
    "ChargeDescription",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "SkuId",
    "SkuPriceId",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "Tags",
    "x_CostCentre",
    "x_Model",
    "x_QuantitySource",
)

SERVICE_CATEGORY = "AI and Machine Learning"
# One subcategory per ServiceName (the spec's SHOULD, which the validator checks): an embedding
# or a transcription is the same API's generative-AI service as a completion.
SUBCATEGORY = "Generative AI"
CENTRE_TAG = "x_CostCentre"
QUANTITY_PLACES = Decimal("0.000001")
MILLION = Decimal(1_000_000)

# A bucket's quantity unit → (ConsumedUnit, PricingUnit, consumed units per pricing unit).
UNITS: dict[str, tuple[str, str, Decimal]] = {
    "tokens": ("Tokens", "1000000 Tokens", MILLION),
    "token": ("Tokens", "1000000 Tokens", MILLION),
    "gibibyte_hours": ("GiB-Hours", "GiB-Hours", Decimal(1)),
    "images": ("Images", "Images", Decimal(1)),
    "characters": ("Characters", "1000000 Characters", MILLION),
    "duration_seconds": ("Seconds", "Seconds", Decimal(1)),
    "sources": ("Sources", "Sources", Decimal(1)),
    "requests": ("Requests", "Requests", Decimal(1)),
}


def _unit(quantity_unit: str, line_item: str) -> tuple[str, str, Decimal]:
    """The units of a bucket; a unit the API leaves empty comes from the line item's words
    ("web search tool calls" → Calls, "code interpreter sessions" → Sessions)."""
    if quantity_unit.lower() in UNITS:
        return UNITS[quantity_unit.lower()]
    text = line_item.lower()
    for word, unit in (("session", "Sessions"), ("call", "Calls"), ("image", "Images")):
        if word in text:
            return unit, unit, Decimal(1)
    if "token" in text:
        return UNITS["tokens"]
    name = "".join(w.capitalize() for w in quantity_unit.replace("_", " ").split()) or "Units"
    return name, name, Decimal(1)


def sku_id(line_item: str) -> str:
    """The line item without its pricing tier: "gpt-4o, input (batch)" → "gpt-4o, input"."""
    text = " ".join(line_item.split())
    head, paren, _tail = text.rpartition(" (")
    return head if paren and text.endswith(")") else text


def iso(moment: dt.date) -> str:
    """A UTC day's start as FOCUS writes a date/time."""
    return f"{moment.isoformat()}T00:00:00Z"


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of `month` and of the month after."""
    start = month.replace(day=1)
    after = (start + dt.timedelta(days=32)).replace(day=1)
    return start, after


@dataclass(frozen=True)
class Price:
    """A billed item's unit price from an invoice: dollars per PricingUnit."""

    pricing_unit: str
    consumed_unit: str
    per_pricing_unit: Decimal
    consumed_per_pricing: Decimal


@dataclass
class Account:
    """One connection as a FOCUS billing account, for one month."""

    org: Organization
    month: dt.date
    invoice_id: str
    sub_account_id: str = ""  # xAI: the team (every row); OpenAI: each row's project
    prices: dict[str, Price] = field(default_factory=dict)
    tax: Decimal | None = None

    @property
    def provider(self) -> str:
        return self.org.provider_info.label

    @property
    def account_id(self) -> str:
        return billing_account_id(self.org)


def billing_account_id(org: Organization) -> str:
    """The provider's id of what the connection manages, else one made from the connection."""
    return org.account_id or f"{org.provider}-{org.pk}"


@dataclass(frozen=True)
class Names:
    projects: dict[str, str]
    keys: dict[str, str]


Bucket = tuple[dt.date, str, str, str, str, Decimal, str, Decimal | None, str]
BUCKET_FIELDS = (
    "day",
    "line_item",
    "model",
    "project_id",
    "api_key_id",
    "amount",
    "currency",
    "quantity",
    "quantity_unit",
)


def _tags(centre: str | None) -> str | None:
    return json.dumps({CENTRE_TAG: centre}, ensure_ascii=False) if centre else None


def _quantities(
    account: Account, line_item: str, amount: Decimal, quantity: Decimal | None, unit: str
) -> tuple[Decimal | None, str, Decimal | None, str, str]:
    """(PricingQuantity, PricingUnit, ConsumedQuantity, ConsumedUnit, source)."""
    if quantity is not None:
        consumed_unit, pricing_unit, per = _unit(unit, line_item)
        return quantity / per, pricing_unit, quantity, consumed_unit, "api"
    price = account.prices.get(line_item)
    if price is None or not price.per_pricing_unit:
        return None, "", None, "", ""
    pricing = (amount / price.per_pricing_unit).quantize(QUANTITY_PLACES)
    consumed = (pricing * price.consumed_per_pricing).quantize(QUANTITY_PLACES)
    return pricing, price.pricing_unit, consumed, price.consumed_unit, "derived"


def usage_row(
    account: Account, bucket: Bucket, names: Names, centre_of: CentreOf | None
) -> list[Cell]:
    """One CostBucket as a FOCUS row, in COLUMNS' order."""
    day, line_item, model, project, key, amount, currency, quantity, unit = bucket
    sub_id = account.sub_account_id or project
    sub_name = account.org.name if account.sub_account_id else names.projects.get(project, project)
    pricing, pricing_unit, consumed, consumed_unit, source = _quantities(
        account, line_item, amount, quantity, unit
    )
    centre = centre_of(project, key) if centre_of is not None else None
    return [
        *_account_cells(account, currency),
        account.invoice_id,
        *_provider_cells(account),
        SUBCATEGORY,
        sub_id or None,
        (sub_name or sub_id) if sub_id else None,
        key or None,
        names.keys.get(key, key) if key else None,
        "API Key" if key else None,
        "Usage",
        None,
        "Usage-Based",
        line_item or model or "Usage",
        iso(day),
        iso(day + dt.timedelta(days=1)),
        sku_id(line_item),
        line_item,
        "Standard",
        pricing,
        pricing_unit or None,
        consumed,
        consumed_unit or None,
        amount,
        amount,
        amount,
        amount,
        _tags(centre),
        centre,
        model or None,
        source or None,
    ]


def _account_cells(account: Account, currency: str) -> list[Cell]:
    start, end = month_bounds(account.month)
    return [account.account_id, account.org.name, currency.upper(), iso(start), iso(end)]


def _provider_cells(account: Account) -> list[Cell]:
    name = account.provider
    return [name, name, name, name, name, f"{name} API", SERVICE_CATEGORY]


def tax_row(account: Account, currency: str = "usd") -> list[Cell]:
    """The invoice's tax for the month, as one Tax row charged over the whole month."""
    start, end = month_bounds(account.month)
    tax = account.tax
    nulls: list[Cell] = [None] * 6
    return [
        *_account_cells(account, currency),
        account.invoice_id,
        *_provider_cells(account),
        SUBCATEGORY,
        account.sub_account_id or None,
        account.org.name if account.sub_account_id else None,
        None,
        None,
        None,
        "Tax",
        None,
        "Recurring",
        "Tax on the invoice",
        iso(start),
        iso(end),
        *nulls,  # SkuId, SkuPriceId, PricingCategory, PricingQuantity/Unit, ConsumedQuantity
        None,  # ConsumedUnit
        tax,
        tax,
        tax,
        tax,
        None,
        None,
        None,
        None,
    ]


def account_rows(
    account: Account, buckets: Iterable[Bucket], names: Names, centre_of: CentreOf | None
) -> Iterator[list[Cell]]:
    """Every row of one account's month: its buckets, then its tax (when the invoice has one)."""
    currency = "usd"
    for bucket in buckets:
        currency = bucket[6]
        yield usage_row(account, bucket, names, centre_of)
    if account.tax:
        yield tax_row(account, currency)


# --- reading ---------------------------------------------------------------------------------


def _buckets(org: Organization, month: dt.date) -> Iterator[Bucket]:
    start, end = month_bounds(month)
    rows = (
        CostBucket.objects.filter(org=org, day__gte=start, day__lt=end)
        .order_by("day", "project_id", "line_item", "api_key_id")
        .values_list(*BUCKET_FIELDS)
    )
    return rows.iterator(chunk_size=2000)


def _names(org: Organization, month: dt.date) -> Names:
    start, end = month_bounds(month)
    keys = (
        CostBucket.objects.filter(org=org, day__gte=start, day__lt=end)
        .exclude(api_key_id="")
        .values_list("api_key_id", flat=True)
        .distinct()
    )
    projects = {p: name for (_o, p), name in org_project_names(orgs=[org], ids=None).items()}
    return Names(projects=projects, keys=names_for(org=org, ids=list(keys)))


def account_for(org: Organization, month: dt.date) -> Account:
    """The connection as a billing account for `month`; an xAI team's invoice is read from its
    API (OrgAPIError when refused)."""
    if org.provider != Organization.Provider.XAI:
        return Account(org=org, month=month, invoice_id=provisional_invoice_id(org, month))
    return _xai_account(org, month, today=timezone.now().date())


def provisional_invoice_id(org: Organization, month: dt.date) -> str:
    """An invoice id made before (or without) the provider's: `<BillingAccountId>-<YYYY-MM>`."""
    return f"{billing_account_id(org)}-{month:%Y-%m}"


def price_of(line: BillingLine) -> Price:
    """An invoice line's unit price per FOCUS PricingUnit."""
    consumed_unit, pricing_unit, per = _unit(line.unit_type, line.description)
    return Price(pricing_unit, consumed_unit, line.unit_price * per, per)


def _xai_account(org: Organization, month: dt.date, *, today: dt.date) -> Account:
    """An xAI team's month: the invoice's id, tax and unit prices (the invoice preview's for the
    open month, whose invoice isn't issued yet). One request."""
    team = org.account_id or team_id(org)
    account = Account(org, month, provisional_invoice_id(org, month), sub_account_id=team)
    with xai_client(org) as client:
        if (month.year, month.month) == (today.year, today.month):
            preview = billing_month_to_date(client=client, team=team)
            lines, account.tax = preview.lines, preview.vat
        else:
            found = billing_invoices(client=client, team=team, cycle=month.replace(day=1)).rows
            # A purchase of prepaid credits has its own invoice: the month's is the usage one.
            usage = [i for i in found if any(ln.unit_type != "credits" for ln in i.lines)]
            invoice = usage[0] if usage else None
            lines = invoice.lines if invoice else []
            if invoice is not None:
                account.invoice_id, account.tax = invoice.invoice_id, invoice.tax
    account.prices = {line.description: price_of(line) for line in lines}
    return account


def focus_rows(
    *, org: Organization, month: dt.date, centre_of: CentreOf | None, account: Account
) -> Iterator[list[Cell]]:
    """The FOCUS rows of one connection's billing month, read in chunks."""
    yield from account_rows(account, _buckets(org, month), _names(org, month), centre_of)


def filename(month: dt.date, orgs: Sequence[Organization]) -> str:
    scope = f"org{orgs[0].pk}" if len(orgs) == 1 else "all_organizations"
    return f"focus_{scope}_{month:%Y-%m}.csv"


def focus_export(
    *,
    orgs: Sequence[Organization],
    month: dt.date,
    centre_of: Callable[[Organization], CentreOf | None] | None = None,
) -> tuple[Iterator[str], str]:
    """The FOCUS CSV of a billing month of `orgs` (text chunks) and its file name. `centre_of`
    gives a connection's cost-centre lookup, `lookup(project_id, api_key_id) -> name | None`.
    Every xAI team's invoice is read first (OrgAPIError before any text is sent)."""
    accounts = [account_for(org, month) for org in orgs]

    def rows() -> Iterator[list[Any]]:
        for org, account in zip(orgs, accounts, strict=True):
            lookup = centre_of(org) if centre_of is not None else None
            yield from focus_rows(org=org, month=month, centre_of=lookup, account=account)

    return csv_stream(COLUMNS, rows()), filename(month, orgs)
