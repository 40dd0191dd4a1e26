"""The simulator's state: one team's keys, billing, usage and audit log, in memory.

Everything sits behind one re-entrant lock (the HTTP server is threaded). Money is whole US cents
everywhere. Besides what the handlers need, the store offers ground-truth helpers for tests
(`usage_cents`, `usage_totals`, `secret_valid`, `balance_cents`, `top_ups`) so a test can prove a
client synced exactly what the API holds.
"""

from __future__ import annotations

import calendar
import copy
import random
import string
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from orgadmin.xai.simulator.errors import invalid, not_found

SECRET_ALPHABET = string.ascii_letters + string.digits
ROTATE_DEFAULT = timedelta(hours=24)
ROTATE_MAX = timedelta(days=7)
PROPAGATION_DELAY = timedelta(
    seconds=20
)  # *inferred*: how long a new secret takes to reach a cluster
CLUSTERS = ("us-east-1.api.x.ai", "us-west-2.api.x.ai", "eu-west-1.api.x.ai")
TAX_BASIS_POINTS = 825  # *inferred*: a flat 8.25 % sales tax on every invoice
# The billed items ("description" in usage and invoice lines): model + kind, the unit and the
# unit price in 1/1,000,000 US cents (billing.proto `Line.unit_price`). Prices are xAI's list
# prices at the time of writing; the unit names are *inferred*.
BILLED_ITEMS: dict[str, tuple[str, str, int]] = {
    "grok-4 input tokens": ("grok-4", "tokens", 300),
    "grok-4 cached input tokens": ("grok-4", "tokens", 75),
    "grok-4 output tokens": ("grok-4", "tokens", 1500),
    "grok-3-mini input tokens": ("grok-3-mini", "tokens", 30),
    "grok-3-mini output tokens": ("grok-3-mini", "tokens", 50),
    "grok-code-fast-1 input tokens": ("grok-code-fast-1", "tokens", 20),
    "grok-code-fast-1 output tokens": ("grok-code-fast-1", "tokens", 150),
    "grok-2-image images": ("grok-2-image", "images", 7_000_000),
    "Live Search sources": ("live-search", "sources", 2_500_000),
}


@dataclass
class User:
    user_id: str
    email: str
    given_name: str
    family_name: str
    profile_image_url: str = ""


@dataclass
class ApiKey:
    api_key_id: str
    name: str
    secret: str
    user_id: str
    create_time: datetime
    modify_time: datetime
    acls: list[str] = field(default_factory=list)
    qps: int | None = None
    qpm: int | None = None
    tpm: int | None = None
    disabled: bool = False
    expire_time: datetime | None = None
    old_secret: str | None = None
    old_secret_expire_time: datetime | None = None
    propagated_at: datetime | None = None  # when every cluster knows the current secret

    def active(self, now: datetime) -> bool:
        return not self.disabled and (self.expire_time is None or self.expire_time > now)


@dataclass
class ManagementKey:
    value: str
    api_key_id: str
    name: str
    owner_user_id: str
    acls: tuple[str, ...]
    create_time: datetime


@dataclass
class Line:
    description: str
    unit_type: str
    unit_price: int  # 1/1,000,000 US cents per unit
    num_units: int
    amount: int  # US cents
    cluster_name: str = "us-east-1"


@dataclass
class Invoice:
    invoice_id: str
    invoice_number: str
    create_time: datetime
    status: str  # PENDING | PAID | WILL_NEVER_BE_CHARGED | FAILED
    year: int
    month: int
    lines: list[Line]
    subtotal: int
    tax: int
    flavour: str = "monthly"  # monthly | prepaid
    prepaid_used: int = 0

    @property
    def total(self) -> int:
        return self.subtotal + self.tax


@dataclass
class BalanceChange:
    origin: str  # PURCHASE (negative) | SPEND (positive) | REFUND (negative) | MANUAL
    amount: int  # US cents, signed as billing.proto says
    create_time: datetime
    invoice_id: str | None = None
    invoice_number: str | None = None
    topup_status: str | None = None
    spend_year: int | None = None
    spend_month: int | None = None


@dataclass
class PaymentMethod:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    payment_type: str = "card"


@dataclass
class AuditEvent:
    event_id: str
    event_time: datetime
    description: str
    user_id: str
    seq: int = 0  # the order of recording: breaks ties between events of the same instant


def tax_of(subtotal: int) -> int:
    """The tax in cents on a subtotal, rounded half up."""
    return (subtotal * TAX_BASIS_POINTS + 5000) // 10000


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """The first day of the month and the first day of the next."""
    last = calendar.monthrange(year, month)[1]
    return date(year, month, 1), date(year, month, last) + timedelta(days=1)


def redact(secret: str) -> str:
    """How the API shows a secret (*inferred*: the prefix, stars and the last four)."""
    return f"xai-...{secret[-4:]}"


class Store:
    """One team and everything the Management API shows of it."""

    def __init__(self, *, scenario: str, seed: int, team_id: str, now: Callable[[], float]) -> None:
        self.scenario = scenario
        self.seed = seed
        self.team_id = team_id
        self.clock = now
        self.lock = threading.RLock()
        self.rng = random.Random(f"xai-store:{scenario}:{seed}")
        self.users: dict[str, User] = {}
        self.keys: dict[str, ApiKey] = {}
        self.deleted_key_names: dict[str, str] = {}
        self.management_keys: dict[str, ManagementKey] = {}
        self.models: list[dict] = []
        self.billing_info: dict = {}
        self.payment_methods: list[PaymentMethod] = []
        self.default_payment_method_id: str | None = None
        self.invoices: list[Invoice] = []
        self.balance_changes: list[BalanceChange] = []
        self.soft_limit: int | None = None
        self.hard_limit_auto = 0
        self.hard_limit_override: int | None = None
        self.default_credits = 0
        self.audit: list[AuditEvent] = []
        # usage[day] = [(description, api_key_id, cents)], whole UTC days
        self.usage: dict[date, list[tuple[str, str, int]]] = {}

    # --- identity --------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_secret(self) -> str:
        return "xai-" + "".join(self.rng.choices(SECRET_ALPHABET, k=80))

    def clone(self) -> Store:
        """A deep copy with its own lock (tests build a scenario once and clone it)."""
        lock, self.lock = self.lock, None  # type: ignore[assignment]
        try:
            twin = copy.deepcopy(self)
        finally:
            self.lock = lock
        twin.lock = threading.RLock()
        return twin

    # --- API keys --------------------------------------------------------------------------------

    def key(self, api_key_id: str) -> ApiKey:
        found = self.keys.get(api_key_id)
        if found is None:
            raise not_found(f"API key {api_key_id} not found.")
        return found

    def key_create(self, *, name: str, user_id: str, when: datetime, **limits: object) -> ApiKey:
        """A new key (no ACL unless given, as the docs say) and its audit event."""
        key = ApiKey(
            api_key_id=self.new_id(),
            name=name,
            secret=self.new_secret(),
            user_id=user_id,
            create_time=when,
            modify_time=when,
            propagated_at=when + PROPAGATION_DELAY,
            **limits,  # type: ignore[arg-type]
        )
        self.keys[key.api_key_id] = key
        self.audit_add(f'Created API key "{name}"', user_id, when)
        return key

    def key_update(
        self, api_key_id: str, changes: dict[str, object], *, user_id: str, when: datetime
    ) -> ApiKey:
        """Set exactly the `changes` (attribute name → value) and record the event."""
        key = self.key(api_key_id)
        before_disabled = key.disabled
        for name, value in changes.items():
            setattr(key, name, value)
        key.modify_time = when
        if "disabled" in changes and key.disabled != before_disabled:
            verb = "Disabled" if key.disabled else "Enabled"
            self.audit_add(f'{verb} API key "{key.name}"', user_id, when)
        others = sorted(set(changes) - {"disabled"})
        if others:
            self.audit_add(f'Updated API key "{key.name}" ({", ".join(others)})', user_id, when)
        return key

    def key_rotate(
        self, api_key_id: str, old_expire: datetime | None, *, user_id: str, when: datetime
    ) -> ApiKey:
        """A new secret; the old one keeps working until `old_expire` (default 24 h, max 7 d)."""
        key = self.key(api_key_id)
        expire = old_expire or when + ROTATE_DEFAULT
        if expire > when + ROTATE_MAX:
            raise invalid("oldSecretExpireTime must be at most 7 days in the future.")
        key.old_secret, key.old_secret_expire_time = key.secret, expire
        key.secret = self.new_secret()
        key.modify_time = when
        key.propagated_at = when + PROPAGATION_DELAY
        self.audit_add(f'Rotated API key "{key.name}"', user_id, when)
        return key

    def key_delete(self, api_key_id: str, *, user_id: str, when: datetime) -> None:
        key = self.key(api_key_id)
        del self.keys[api_key_id]
        self.deleted_key_names[api_key_id] = key.name
        self.audit_add(f'Deleted API key "{key.name}"', user_id, when)

    def secret_valid(self, secret: str, when: datetime | None = None) -> bool:
        """Whether an inference call with this secret would authenticate (for tests)."""
        when = when or self.now()
        for key in self.keys.values():
            if not key.active(when):
                continue
            if key.secret == secret:
                return True
            if key.old_secret == secret and key.old_secret_expire_time > when:  # type: ignore[operator]
                return True
        return False

    def key_name(self, api_key_id: str) -> str:
        key = self.keys.get(api_key_id)
        return key.name if key else self.deleted_key_names.get(api_key_id, api_key_id)

    # --- audit -----------------------------------------------------------------------------------

    def audit_add(self, description: str, user_id: str, when: datetime) -> AuditEvent:
        event = AuditEvent(self.new_id(), when, description, user_id, len(self.audit))
        self.audit.append(event)
        return event

    # --- usage -----------------------------------------------------------------------------------

    def usage_totals(
        self, start: date, end: date, *, api_key_id: str | None = None
    ) -> dict[tuple[str, str], int]:
        """Cents per (description, api_key_id) over the UTC days [start, end)."""
        totals: dict[tuple[str, str], int] = defaultdict(int)
        day = start
        while day < end:
            for description, key_id, cents in self.usage.get(day, ()):
                if api_key_id is None or key_id == api_key_id:
                    totals[description, key_id] += cents
            day += timedelta(days=1)
        return dict(totals)

    def usage_cents(self, start: date, end: date, *, api_key_id: str | None = None) -> int:
        """Total cents spent over the UTC days [start, end) (end exclusive, as the API's)."""
        return sum(self.usage_totals(start, end, api_key_id=api_key_id).values())

    def lines_between(self, start: date, end: date) -> list[Line]:
        """Invoice lines for [start, end): one per billed item, amounts summing the usage."""
        by_item: dict[str, int] = defaultdict(int)
        for (description, _key), cents in self.usage_totals(start, end).items():
            by_item[description] += cents
        lines = []
        for description in sorted(by_item):
            _model, unit_type, unit_price = BILLED_ITEMS.get(description, ("", "units", 1_000_000))
            cents = by_item[description]
            units = cents * 1_000_000 // unit_price
            lines.append(Line(description, unit_type, unit_price, units, cents))
        return lines

    # --- billing ---------------------------------------------------------------------------------

    def balance_cents(self) -> int:
        """The prepaid credits available: purchases are negative changes, spends positive."""
        return -sum(change.amount for change in self.balance_changes)

    def effective_hard_limit(self) -> int:
        if self.hard_limit_override is not None:
            return self.hard_limit_override
        return self.hard_limit_auto

    def effective_limit(self) -> int:
        hard = self.effective_hard_limit()
        return hard if self.soft_limit is None else min(hard, self.soft_limit)

    def set_soft_limit(self, cents: int, *, user_id: str, when: datetime) -> int:
        if cents < 0:
            raise invalid("desiredSoftSpendingLimit must not be negative.")
        if cents > self.effective_hard_limit():
            raise invalid("desiredSoftSpendingLimit exceeds the effective hard spending limit.")
        self.soft_limit = cents
        self.audit_add(f"Set the monthly soft spending limit to ${cents / 100:,.2f}", user_id, when)
        return cents

    def top_ups(self) -> list[BalanceChange]:
        """Every purchase of prepaid credits, seeded or made through the API."""
        return [c for c in self.balance_changes if c.origin == "PURCHASE"]

    def top_up(self, cents: int, *, user_id: str, when: datetime) -> BalanceChange:
        """Buy prepaid credits with the default payment method (the sign is disregarded)."""
        cents = abs(cents)
        if cents == 0:
            raise invalid("amount must not be zero.")
        if self.default_payment_method_id is None:
            raise invalid("The team has no default payment method.")
        invoice = self.prepaid_invoice(cents, when)
        change = BalanceChange(
            "PURCHASE",
            -cents,
            when,
            invoice_id=invoice.invoice_id,
            invoice_number=invoice.invoice_number,
            topup_status="SUCCEEDED",
        )
        self.balance_changes.append(change)
        self.audit_add(f"Purchased ${cents / 100:,.2f} of prepaid credits", user_id, when)
        return change

    def prepaid_invoice(self, cents: int, when: datetime) -> Invoice:
        """The (paid) invoice of a credit purchase."""
        line = Line("Prepaid credits", "credits", 1_000_000, cents, cents)
        invoice = Invoice(
            self.new_id(),
            f"XAI-{when:%Y%m}-{len(self.invoices) + 1:04d}",
            when,
            "PAID",
            when.year,
            when.month,
            [line],
            cents,
            0,
            flavour="prepaid",
        )
        self.invoices.append(invoice)
        return invoice

    def payment_method(self, payment_method_id: str) -> PaymentMethod:
        for method in self.payment_methods:
            if method.payment_method_id == payment_method_id:
                return method
        raise not_found(f"Payment method {payment_method_id} not found.")
