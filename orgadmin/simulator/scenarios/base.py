"""What every scenario step shares: the sizes, the builder's state and its random helpers."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass

from orgadmin.simulator.audit import AuditLog
from orgadmin.simulator.store import ALNUM, SECRET_ALPHABET, ProjectApiKey, Store
from orgadmin.simulator.usage.engine import UsageEngine
from orgadmin.simulator.usage.families import DAY
from orgadmin.simulator.usage.prices import COMPLETION_PRICES

HISTORY_DAYS = 395  # 13 months of usage and audit history


@dataclass(frozen=True)
class Size:
    """How big a scenario is."""

    org_name: str
    domain: str
    users: int
    owners: int
    projects: int  # including the default project
    archived: int
    keys: int
    service_accounts: int
    groups: int
    custom_roles: int
    certificates: int
    pending_invites: int
    expired_invites: int
    completion_models: tuple[str, ...]
    daily_cost_today: float  # dollars: the usage is scaled so that today costs about this
    logins_per_user_week: float


_DEMO_MODELS = (
    "gpt-5-2025-08-07",
    "gpt-5-mini-2025-08-07",
    "gpt-5-nano-2025-08-07",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4o-mini-2024-07-18",
    "o4-mini-2025-04-16",
    "gpt-4o-audio-preview-2024-12-17",
)
SIZES = {
    "demo": Size(
        org_name="Helio Labs",
        domain="heliolabs.example",
        users=40,
        owners=5,
        projects=12,
        archived=2,
        keys=60,
        service_accounts=10,
        groups=5,
        custom_roles=3,
        certificates=6,
        pending_invites=4,
        expired_invites=3,
        completion_models=_DEMO_MODELS,
        daily_cost_today=450.0,
        logins_per_user_week=1.3,
    ),
    "large": Size(
        org_name="Meridian Global",
        domain="meridian.example",
        users=400,
        owners=15,
        projects=100,
        archived=8,
        keys=300,
        service_accounts=80,
        groups=25,
        custom_roles=5,
        certificates=20,
        pending_invites=25,
        expired_invites=20,
        completion_models=tuple(COMPLETION_PRICES),
        daily_cost_today=9000.0,
        logins_per_user_week=1.0,
    ),
}
# Team names: the `large` scenario's projects and groups are named after them.
TEAMS = (
    "Payments", "Search", "Growth", "Risk", "Support", "Catalog", "Logistics", "Ads", "Identity",
    "Billing", "Mobile", "Data", "Platform", "Security", "Marketing", "Sales", "Legal", "HR",
    "Finance", "Research",
)  # fmt: skip


class ScenarioBase:
    """The state of one build and the seeded helpers that every step draws from."""

    def __init__(
        self, scenario: str, size: Size, seed: int, now: int, clock: Callable[[], float]
    ) -> None:
        self.size = size
        self.now = now
        self.anchor = now - now % DAY
        self.rng = random.Random(f"scenario:{scenario}:{seed}")
        self.store = Store(scenario=scenario, seed=seed, anchor=self.anchor, clock=clock)
        self.store.usage = UsageEngine(seed=seed, anchor=self.anchor)
        self.store.usage.quirks = self.store.quirks  # one object: changes reach both
        self.store.audit = AuditLog()
        self.history_start = self.anchor - HISTORY_DAYS * DAY
        self.founded = self.anchor - (HISTORY_DAYS + 330) * DAY
        # (key, last second of use): None still in use, -1 never used; set by `keys()`
        self.key_plans: list[tuple[ProjectApiKey, int | None]] = []

    def id(self, prefix: str, length: int = 24, alphabet: str = ALNUM) -> str:
        """A seeded id: `prefix` and `length` characters of `alphabet`."""
        if alphabet is ALNUM:  # the fast path: base64 of random bytes, made alphanumeric
            raw = base64.b64encode(self.rng.randbytes(length * 3 // 4 + 3), altchars=b"Qz")
            return prefix + raw[:length].decode()
        return prefix + "".join(self.rng.choices(alphabet, k=length))

    def between(self, lo: int, hi: int) -> int:
        """A seeded instant in `[lo, hi)` (`lo` when the range is empty)."""
        return lo + int(self.rng.random() * max(1, hi - lo))

    def secret(self, prefix: str, length: int) -> str:
        """A seeded secret key value."""
        return prefix + "".join(self.rng.choices(SECRET_ALPHABET, k=length))
