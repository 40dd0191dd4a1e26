"""Seeded scenarios: `demo` (one team, 8 keys, 120 days) and `large` (200 keys, 365 days).

Everything comes from `random.Random(f"xai:{scenario}:{seed}")` and the clock at build time, so
the same seed and `now` give the same team. Usage runs up to yesterday (UTC): *inferred*, xAI
reports billing items with a delay. Invoices exist for every month before the current one that
has usage (their lines sum that month's usage) and one empty month before, never charged.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from orgadmin.xai.simulator.store import (
    BILLED_ITEMS,
    ApiKey,
    BalanceChange,
    Invoice,
    ManagementKey,
    PaymentMethod,
    Store,
    User,
    month_bounds,
    tax_of,
)


@dataclass(frozen=True)
class Size:
    keys: int
    days: int
    events: int
    users: int


SIZES = {"demo": Size(8, 120, 200, 4), "large": Size(200, 365, 2000, 12)}
DEMO_KEYS = (
    ("Production backend", ["api-key:model:*", "api-key:endpoint:*"], (50, 2000, 4_000_000)),
    ("Staging", ["api-key:model:grok-3-mini", "api-key:endpoint:chat"], (5, 100, None)),
    ("Data science notebooks", ["api-key:model:grok-4", "api-key:endpoint:chat"], (None,) * 3),
    ("CI integration tests", ["api-key:model:grok-code-fast-1", "api-key:endpoint:chat"],
     (2, 60, 200_000)),
    ("Customer support bot", ["api-key:model:grok-4", "api-key:endpoint:chat",
                              "api-key:endpoint:tokenize"], (20, 600, None)),
    ("Image pipeline", ["api-key:model:grok-2-image", "api-key:endpoint:image"], (1, 30, None)),
    ("Old prototype", [], (None,) * 3),
    ("Contractor access", ["api-key:model:*", "api-key:endpoint:chat"], (None, 100, None)),
)  # fmt: skip
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Frances", "Dennis")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Allen", "Ritchie")
# *Inferred* shape of `GET /auth/teams/{teamId}/models`: prices in USD cents per 100M tokens
# (as the inference API's language-models answer has them) and rate limits per cluster.
MODELS = (
    ("grok-4", ["text", "image"], ["text"], 30_000, 7_500, 150_000),
    ("grok-3-mini", ["text"], ["text"], 3_000, 750, 5_000),
    ("grok-code-fast-1", ["text"], ["text"], 2_000, 200, 15_000),
    ("grok-2-image", ["text"], ["image"], 0, 0, 0),
)
EVENT_TEMPLATES = (
    "Signed in to the console",
    'Viewed API key "{key}"',
    'Updated API key "{key}" (qps)',
    'Updated API key "{key}" (aclStrings)',
    "Invited {email} to the team",
    "Downloaded invoice {invoice}",
    "Viewed the usage explorer",
    "Changed the team name",
    'Created management key "{key} automation"',
)


def build(
    scenario: str,
    *,
    seed: int,
    now: Callable[[], float],
    management_keys: dict[str, tuple[str, ...]],
) -> Store:
    """A fresh store for `scenario` ("demo" or "large")."""
    if scenario not in SIZES:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {sorted(SIZES)}")
    size = SIZES[scenario]
    store = Store(scenario=scenario, seed=seed, team_id=f"team-{scenario}-0001", now=now)
    rng = random.Random(f"xai:{scenario}:{seed}")
    clock = store.now()
    _users(store, rng, size.users)
    _management_keys(store, management_keys, clock)
    _models(store)
    _keys(store, rng, size, clock)
    _usage(store, rng, size, clock)
    _billing(store, clock, large=scenario == "large")
    _prepaid(store, clock)
    _events(store, rng, size, clock)
    store.audit.sort(key=lambda e: (e.event_time, e.event_id))
    for seq, event in enumerate(store.audit):
        event.seq = seq
    return store


def _users(store: Store, rng: random.Random, count: int) -> None:
    for i in range(count):
        given, family = FIRST_NAMES[i % 8], LAST_NAMES[(i * 3) % 8]
        suffix = "" if i < 8 else str(i)
        user = User(
            store.new_id(),
            f"{given.lower()}.{family.lower()}{suffix}@demo-robotics.example",
            given,
            family,
            f"https://avatars.example/{rng.getrandbits(32):08x}.png" if i % 2 == 0 else "",
        )
        store.users[user.user_id] = user


def _management_keys(store: Store, keys: dict[str, tuple[str, ...]], clock: datetime) -> None:
    owners = list(store.users)
    for n, (value, acls) in enumerate(keys.items()):
        store.management_keys[value] = ManagementKey(
            value=value,
            api_key_id=store.new_id(),
            name=f"Dashboard management key {n + 1}",
            owner_user_id=owners[n % len(owners)],
            acls=tuple(acls),
            create_time=(clock - timedelta(days=30 + n)).replace(microsecond=0),
        )


def _models(store: Store) -> None:
    for name, inputs, outputs, prompt, cached, completion in MODELS:
        store.models.append(
            {
                "name": name,
                "aliases": [f"{name}-latest"],
                "inputModalities": inputs,
                "outputModalities": outputs,
                "promptTextTokenPrice": prompt,
                "cachedPromptTextTokenPrice": cached,
                "completionTextTokenPrice": completion,
                "clusterRateLimits": [
                    {"clusterName": "us-east-1", "rpm": 480, "tpm": 2_000_000},
                    {"clusterName": "eu-west-1", "rpm": 240, "tpm": 1_000_000},
                ],
            }
        )


def _key_spec(i: int, rng: random.Random) -> tuple[str, list[str], tuple]:
    if i < len(DEMO_KEYS):
        return DEMO_KEYS[i]
    model = rng.choice([m[0] for m in MODELS] + ["*"])
    limits = (rng.choice([None, 5, 10]), rng.choice([None, 100, 600]), rng.choice([None, 10**6]))
    return f"Service key {i:03d}", [f"api-key:model:{model}", "api-key:endpoint:chat"], limits


def _keys(store: Store, rng: random.Random, size: Size, clock: datetime) -> None:
    users = list(store.users)
    for i in range(size.keys):
        name, acls, (qps, qpm, tpm) = _key_spec(i, rng)
        created = clock - timedelta(days=size.days + 5 - i * size.days // (size.keys + 2))
        created += timedelta(seconds=rng.randrange(86_400), microseconds=rng.randrange(1, 10**6))
        key = ApiKey(
            api_key_id=store.new_id(),
            name=name,
            secret=store.new_secret(),
            user_id=users[i % len(users)],
            create_time=created,
            modify_time=created + timedelta(days=rng.randrange(3)),
            acls=list(acls),
            qps=qps,
            qpm=qpm,
            tpm=tpm,
            disabled=i % 8 == 6,
            propagated_at=created,
        )
        if i % 8 == 7:  # the contractor's key expired last week
            key.expire_time = (clock - timedelta(days=7)).replace(microsecond=0)
        elif i % 8 == 3:  # the CI key expires next quarter
            key.expire_time = (clock + timedelta(days=90)).replace(microsecond=0)
        store.keys[key.api_key_id] = key
        store.audit_add(f'Created API key "{name}"', key.user_id, created)


def _usage(store: Store, rng: random.Random, size: Size, clock: datetime) -> None:
    today = clock.date()
    items = list(BILLED_ITEMS)
    for n, key in enumerate(store.keys.values()):
        if not key.acls:
            continue  # a key with no ACL can't make a call
        chosen = rng.sample(items, 2 + n % 3)
        scale = rng.choice((40, 150, 600, 2500))
        day = max(key.create_time.date(), today - timedelta(days=size.days))
        while day < today:
            weekend = day.weekday() >= 5
            for description in chosen:
                if rng.random() < (0.35 if weekend else 0.85):
                    cents = int(scale * rng.uniform(0.2, 1.6) * (0.5 if weekend else 1.0))
                    if cents:
                        store.usage.setdefault(day, []).append((description, key.api_key_id, cents))
            day += timedelta(days=1)


def _billing(store: Store, clock: datetime, *, large: bool) -> None:
    store.billing_info = {
        "name": "Demo Robotics Inc.",
        "address": {
            "line1": "1 Market Street",
            "line2": "Suite 300",
            "city": "San Francisco",
            "country": "US",
            "postalCode": "94105",
            "state": "CA",
        },
        "email": "billing@demo-robotics.example",
        "taxIdType": "us_ein",
        "taxNumber": "12-3456789",
    }
    store.payment_methods = [
        PaymentMethod("pm_demo_visa_4242", "visa", "4242", 12, clock.year + 2),
        PaymentMethod("pm_demo_amex_0005", "amex", "0005", 3, clock.year + 1),
    ]
    store.default_payment_method_id = "pm_demo_visa_4242"
    store.hard_limit_auto = 2_000_000 if large else 500_000
    store.hard_limit_override = 5_000_000 if large else None
    store.soft_limit = 250_000
    months = _billed_months(store, clock)
    statuses = ["PENDING", "FAILED"] + ["PAID"] * len(months)
    for (year, month), status in zip(reversed(months), statuses, strict=False):
        start, end = month_bounds(year, month)
        lines = store.lines_between(start, end)
        subtotal = sum(line.amount for line in lines)
        created = datetime(end.year, end.month, end.day, 6, tzinfo=UTC)
        number = f"XAI-{year}{month:02d}-{len(store.invoices) + 1:04d}"
        status = status if subtotal else "WILL_NEVER_BE_CHARGED"
        invoice = Invoice(
            store.new_id(), number, created, status, year, month, lines, subtotal, tax_of(subtotal)
        )
        store.invoices.append(invoice)


def _billed_months(store: Store, clock: datetime) -> list[tuple[int, int]]:
    """Every month before the current one from one month before the first usage."""
    first = min(store.usage, default=clock.date())
    year, month = (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
    months = []
    while (year, month) < (clock.year, clock.month):
        months.append((year, month))
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return months


def _prepaid(store: Store, clock: datetime) -> None:
    """Two purchases, a manual credit, and prepaid credits spent on each charged invoice."""
    first = min(store.usage, default=clock.date())
    events: list[tuple[datetime, str, int]] = [
        (datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=2), "P", 50_000),
        (clock - timedelta(days=40), "P", 100_000),
        (clock - timedelta(days=20), "M", 2_500),
    ]
    events += [(i.create_time, i.invoice_id, 0) for i in store.invoices if i.status == "PAID"]
    for when, what, cents in sorted(events, key=lambda e: e[0]):
        if what == "P":
            invoice = store.prepaid_invoice(cents, when)
            store.balance_changes.append(
                BalanceChange(
                    "PURCHASE",
                    -cents,
                    when,
                    invoice.invoice_id,
                    invoice.invoice_number,
                    "SUCCEEDED",
                )
            )
        elif what == "M":
            store.balance_changes.append(BalanceChange("MANUAL", -cents, when))
        else:
            _spend(store, what, when)


def _spend(store: Store, invoice_id: str, when: datetime) -> None:
    invoice = next(i for i in store.invoices if i.invoice_id == invoice_id)
    used = min(store.balance_cents(), invoice.total)
    if used <= 0 or invoice.flavour != "monthly":
        return
    invoice.prepaid_used = used
    store.balance_changes.append(
        BalanceChange(
            "SPEND",
            used,
            when,
            invoice.invoice_id,
            invoice.invoice_number,
            spend_year=invoice.year,
            spend_month=invoice.month,
        )
    )


def _events(store: Store, rng: random.Random, size: Size, clock: datetime) -> None:
    users = list(store.users.values())
    names = [k.name for k in store.keys.values()]
    invoices = [i.invoice_number for i in store.invoices] or ["XAI-000000-0000"]
    span = size.days * 86_400
    while len(store.audit) < size.events:
        user = users[rng.randrange(len(users))]
        text = rng.choice(EVENT_TEMPLATES).format(
            key=rng.choice(names),
            email=f"new.hire{rng.randrange(100)}@demo-robotics.example",
            invoice=rng.choice(invoices),
        )
        when = clock - timedelta(seconds=rng.randrange(1, span), microseconds=rng.randrange(10**6))
        store.audit_add(text, user.user_id, when)


def first_usage_day(store: Store) -> date:
    """The first day with usage (tests use it to ask for everything)."""
    return min(store.usage)
