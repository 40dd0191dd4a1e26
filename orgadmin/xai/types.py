"""The xAI Management API's answers as msgspec structs, tolerant of every documented shape.

The API speaks proto JSON in camelCase (`rename="camel"`). An int64 arrives as a number or as a
string and a bool may arrive as `"false"` (the docs' own example): `decode()` decodes with
`strict=False`, which accepts both. A key's ACLs are `aclStrings`, or `acl_strings` in the docs'
example; a page token is `paginationToken` for keys and `nextPageToken` for audit events (any of
the three names is read). Money is a `Cent` (`{"val": …}`, US cents) where the docs say so, and a
plain int64 of cents in the billing proto's invoices: both decode to `Cent`. Usage values decode
to `Decimal` from the JSON text itself, so no float rounding happens on the way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

import msgspec

__all__ = [
    "ApiKey",
    "ApiKeyPage",
    "AuditEvent",
    "AuditPage",
    "AuditUser",
    "BalanceChange",
    "BillingAddress",
    "BillingCycle",
    "BillingInfo",
    "Cent",
    "ClusterRateLimit",
    "CoreInvoice",
    "EndpointAcl",
    "Invoice",
    "InvoiceLine",
    "InvoicePreview",
    "ManagementKey",
    "NewApiKey",
    "Point",
    "PrepaidBalance",
    "Series",
    "SpendingLimits",
    "TeamModel",
    "UsageAnswer",
    "cents_to_usd",
    "decode",
]

T = TypeVar("T")


def cents_to_usd(val: int) -> Decimal:
    """US cents as dollars, exactly: 12345 → Decimal('123.45')."""
    return Decimal(int(val)).scaleb(-2)


class Cent:
    """An amount of US cents (`prod_charger.Cent`). Decodes from `{"val": 123}`, `{"val": "123"}`,
    `{}` (zero, as proto3 omits it), or a bare int64 number or string."""

    __slots__ = ("val",)

    def __init__(self, val: int = 0) -> None:
        if isinstance(val, bool) or not isinstance(val, int):
            raise TypeError("a Cent is a whole number of cents")
        self.val = val

    @property
    def usd(self) -> Decimal:
        """The amount in dollars, exact."""
        return cents_to_usd(self.val)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cent) and other.val == self.val

    def __hash__(self) -> int:
        return hash(("Cent", self.val))

    def __repr__(self) -> str:
        return f"Cent(val={self.val})"


def _cents(obj: Any) -> Cent:
    if isinstance(obj, dict):
        obj = obj.get("val", 0)
    if isinstance(obj, str) and obj.strip().lstrip("+-").isdigit():
        obj = int(obj)
    if isinstance(obj, bool) or not isinstance(obj, int):
        # No value in the message: it could be anything, and error messages get shown.
        raise ValueError("expected a whole number of US cents")
    return Cent(obj)


def _dec_hook(kind: type, obj: Any) -> Any:
    if kind is Cent:
        return _cents(obj)
    raise NotImplementedError(f"can't decode {kind!r}")


@cache
def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind, strict=False, dec_hook=_dec_hook)


def decode(data: bytes, kind: type[T]) -> T:
    """Decode an answer's JSON into `kind`; raises `msgspec.ValidationError` or `DecodeError`."""
    return _decoder(kind).decode(data)


def _utc(value: datetime | None) -> datetime | None:
    """Aware, in UTC: the API's timestamps are UTC, some written without a zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Wire(msgspec.Struct, rename="camel", kw_only=True):
    """proto JSON: camelCase names; unknown fields are ignored (the API grows)."""


# --- keys ---------------------------------------------------------------------------------------


class ManagementKey(_Wire):
    """The management key describing itself (`/auth/management-keys/validation`)."""

    api_key_id: str = ""
    scope: str = ""  # SCOPE_TEAM or SCOPE_ORGANIZATION
    scope_id: str = ""  # the team id, for a team's key
    owner_user_id: str = ""
    name: str = ""
    acls: list[str] = msgspec.field(default_factory=list)
    redacted_api_key: str = ""
    ip_ranges: list[str] = msgspec.field(default_factory=list)
    create_time: datetime | None = None
    modify_time: datetime | None = None
    request_id: str = ""  # of the answer: set by the client, never sent by the API

    def __post_init__(self) -> None:
        self.create_time = _utc(self.create_time)
        self.modify_time = _utc(self.modify_time)


class ApiKey(_Wire):
    """A team's API key. `acl_strings` holds the ACLs whichever name they came under."""

    api_key_id: str = ""
    name: str = ""
    redacted_api_key: str = ""
    user_id: str = ""
    team_id: str = ""
    create_time: datetime | None = None
    modify_time: datetime | None = None
    disabled: bool = False  # "false" in the docs' example: strict=False reads it
    expire_time: datetime | None = None
    qps: int | None = None
    qpm: int | None = None
    tpm: int | None = None  # sent as a string
    acl_strings: list[str] = msgspec.field(default_factory=list)
    # The docs' example writes `acl_strings`; the inference side's key says `acls`.
    acl_strings_snake: list[str] | None = msgspec.field(default=None, name="acl_strings")
    acls_plain: list[str] | None = msgspec.field(default=None, name="acls")
    request_id: str = ""

    def __post_init__(self) -> None:
        if not self.acl_strings:
            self.acl_strings = list(self.acl_strings_snake or self.acls_plain or [])
        self.acl_strings_snake = self.acls_plain = None
        self.create_time = _utc(self.create_time)
        self.modify_time = _utc(self.modify_time)
        self.expire_time = _utc(self.expire_time)


class NewApiKey(ApiKey):
    """A key just created or rotated: `api_key` is its secret, shown this once and never kept."""

    api_key: str = ""

    def __repr__(self) -> str:  # the secret stays out of logs and tracebacks
        return f"NewApiKey(api_key_id={self.api_key_id!r}, name={self.name!r}, api_key=<secret>)"


class _Paged(_Wire):
    # Keys page with `paginationToken`, audit events with `nextPageToken`; `pageToken` is the
    # request's name, seen echoed by some clients. Empty or missing: the last page.
    pagination_token: str | None = None
    next_page_token: str | None = None
    page_token: str | None = None

    @property
    def next_token(self) -> str:
        return self.pagination_token or self.next_page_token or self.page_token or ""


class ApiKeyPage(_Paged):
    api_keys: list[ApiKey] = msgspec.field(default_factory=list)


class Propagation(_Wire):
    ic_propagation: dict[str, bool] = msgspec.field(default_factory=dict)


class ClusterRateLimit(_Wire):
    cluster_name: str = ""
    rpm: int | None = None
    tpm: int | None = None


class TeamModel(_Wire):
    """A model the team may use (`/auth/teams/{team}/models`). Only the list is documented: the
    prices (*inferred*: USD cents per 100M tokens, as the inference API's language-models answer
    has them) and the rate limits per cluster are read when present."""

    name: str = ""
    aliases: list[str] = msgspec.field(default_factory=list)
    input_modalities: list[str] = msgspec.field(default_factory=list)
    output_modalities: list[str] = msgspec.field(default_factory=list)
    prompt_text_token_price: int | None = None
    cached_prompt_text_token_price: int | None = None
    completion_text_token_price: int | None = None
    cluster_rate_limits: list[ClusterRateLimit] = msgspec.field(default_factory=list)


class EndpointAcl(_Wire):
    """An ACL a key can be granted (`/auth/teams/{team}/endpoints`)."""

    acl: str = ""
    description: str = ""
    namespace: str = ""
    key: str = ""
    value: str = ""


# --- billing ------------------------------------------------------------------------------------


class BillingAddress(_Wire):
    line1: str = ""
    line2: str = ""
    city: str = ""
    country: str = ""
    postal_code: str = ""
    state: str = ""


class BillingInfo(_Wire):
    name: str = ""
    address: BillingAddress | None = None
    email: str = ""
    tax_id_type: str = ""
    tax_number: str = ""
    request_id: str = ""


class BillingInfoAnswer(_Wire):
    billing_info: BillingInfo | None = None


class BillingCycle(_Wire):
    year: int = 0
    month: int = 0


class InvoiceLine(_Wire):
    cluster_name: str = ""
    description: str = ""  # the billed item, e.g. "grok-4 input tokens"
    unit_type: str = ""
    unit_price: Cent = msgspec.field(default_factory=Cent)
    num_units: int = 0
    amount: Cent = msgspec.field(default_factory=Cent)


class Invoice(_Wire):
    invoice_id: str = ""
    invoice_number: str = ""
    team_id: str = ""
    create_time: datetime | None = None
    invoice_status: str = ""  # PENDING, PAID, WILL_NEVER_BE_CHARGED, FAILED
    lines: list[InvoiceLine] = msgspec.field(default_factory=list)
    subtotal: Cent = msgspec.field(default_factory=Cent)
    tax: Cent = msgspec.field(default_factory=Cent)
    total: Cent = msgspec.field(default_factory=Cent)

    def __post_init__(self) -> None:
        self.create_time = _utc(self.create_time)


class InvoiceList(_Wire):
    invoices: list[Invoice] = msgspec.field(default_factory=list)


class CoreInvoice(_Wire):
    lines: list[InvoiceLine] = msgspec.field(default_factory=list)
    amount_before_vat: Cent = msgspec.field(default_factory=Cent)
    vat_cost: Cent = msgspec.field(default_factory=Cent)
    amount_after_vat: Cent = msgspec.field(default_factory=Cent)
    auto_credits_issued: Cent = msgspec.field(default_factory=Cent)
    default_credits_issued: Cent = msgspec.field(default_factory=Cent)
    total_with_corr: Cent | None = None
    prepaid_credits: Cent = msgspec.field(default_factory=Cent)
    prepaid_credits_used: Cent = msgspec.field(default_factory=Cent)


class InvoicePreview(_Wire):
    """The month so far (`postpaid/invoice/preview`)."""

    core_invoice: CoreInvoice = msgspec.field(default_factory=CoreInvoice)
    effective_spending_limit: Cent = msgspec.field(default_factory=Cent)
    default_credits: Cent = msgspec.field(default_factory=Cent)
    billing_cycle: BillingCycle | None = None
    request_id: str = ""


class SpendingLimits(_Wire):
    """None where the API sets no such limit (the override and the soft limit are optional)."""

    hard_sl_override: Cent | None = None
    hard_sl_auto: Cent | None = None
    effective_hard_sl: Cent | None = None
    soft_sl: Cent | None = None
    effective_sl: Cent | None = None
    request_id: str = ""


class SpendingLimitsAnswer(_Wire):
    spending_limits: SpendingLimits | None = None


class BalanceChange(_Wire):
    change_origin: str = ""  # PURCHASE (negative), SPEND (positive), REFUND, MANUAL
    amount: Cent = msgspec.field(default_factory=Cent)
    topup_status: str | None = None
    invoice_id: str | None = None
    invoice_number: str | None = None
    create_time: datetime | None = None
    team_id: str = ""

    def __post_init__(self) -> None:
        self.create_time = _utc(self.create_time)


class PrepaidBalance(_Wire):
    total: Cent = msgspec.field(default_factory=Cent)
    changes: list[BalanceChange] = msgspec.field(default_factory=list)
    request_id: str = ""


# --- usage analytics ----------------------------------------------------------------------------


class Point(_Wire):
    timestamp: datetime
    values: list[Decimal] = msgspec.field(default_factory=list)  # in the request's values' order

    def __post_init__(self) -> None:
        self.timestamp = _utc(self.timestamp) or self.timestamp


class Series(_Wire):
    group: list[str] = msgspec.field(default_factory=list)
    group_labels: list[str] = msgspec.field(default_factory=list)
    data_points: list[Point] = msgspec.field(default_factory=list)


class UsageAnswer(_Wire):
    time_series: list[Series] = msgspec.field(default_factory=list)
    limit_reached: bool = False  # True: only a subset of the series came back
    request_id: str = ""


# --- audit --------------------------------------------------------------------------------------


class AuditUser(_Wire):
    user_id: str = ""
    email: str = ""
    given_name: str = ""
    family_name: str = ""
    profile_image_url: str = ""


class AuditEvent(_Wire):
    """What happened is only in `description`: the API has no event type."""

    event_id: str = ""
    event_time: datetime | None = None
    description: str = ""
    user: AuditUser | None = None

    def __post_init__(self) -> None:
        self.event_time = _utc(self.event_time)


class AuditPage(_Paged):
    events: list[AuditEvent] = msgspec.field(default_factory=list)


class RawAuditPage(_Paged):
    """A page whose events stay as xAI sent them (JSON objects), for a log that keeps them raw."""

    events: list[dict[str, Any]] = msgspec.field(default_factory=list)
