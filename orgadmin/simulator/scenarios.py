"""Seeded scenarios: `demo` (a believable mid-size company) and `large` (for benchmarks).

Everything is anchored on "now": the scenario always has 13 months of history up to today.
For a fixed seed and a fixed `now`, two builds are identical.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from orgadmin.simulator.audit import EVENT_TYPES, Actor, AuditLog, audit_id
from orgadmin.simulator.store import (
    ALNUM,
    HOSTED_TOOLS,
    SECRET_ALPHABET,
    ULID,
    AdminKey,
    Certificate,
    Group,
    Invite,
    Project,
    ProjectApiKey,
    ProjectMember,
    RateLimit,
    Role,
    ServiceAccount,
    SpendAlert,
    SpendLimit,
    Store,
    User,
    redact,
)
from orgadmin.simulator.usage import (
    COMPLETION_PRICES,
    DAY,
    EMBEDDING_PRICES,
    FAMILIES,
    IMAGE_PRICES,
    MODERATION_MODELS,
    SPEECH_PRICES,
    TRANSCRIPTION_PRICES,
    UsageEngine,
    line_items,
)

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

FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keira",
    "Liam", "Maya", "Noah", "Olivia", "Pedro", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Vera",
    "Wen", "Ximena", "Yusuf", "Zoe", "Amara", "Bruno", "Camille", "Dmitri", "Esther", "Felix",
    "Gita", "Hugo", "Isla", "Jamal", "Kofi", "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Rafael",
    "Sofia", "Tomas", "Uma", "Viktor", "Willa", "Yara", "Zane",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Lindqvist", "Moreau", "Tanaka", "Rossi", "Haddad", "Kowalski", "Nguyen", "Silva",
    "Becker", "O'Neill", "Novak", "Fischer", "Ibrahim", "Jensen", "Kaur", "Lopez", "Mensah",
    "Nakamura", "Ortega", "Petrov", "Quint", "Ramos", "Schmidt", "Takahashi", "Underwood",
    "Varga", "Walsh", "Xu", "Yilmaz", "Zimmer", "Abara", "Brandt", "Castillo", "Dubois", "Eriksen",
    "Fontaine", "Gupta", "Horvat", "Iyer", "Jovanovic", "Kim", "Larsen", "Mbeki", "Nilsson",
)  # fmt: skip
DEMO_PROJECTS = (
    "Support Assistant", "Search & Discovery", "Data Pipeline", "Marketing Studio", "Voice Agent",
    "Internal Tools", "Analytics Copilot", "Mobile App", "Research Sandbox",
)  # fmt: skip
DEMO_ARCHIVED = ("Legacy Chatbot", "Hackathon 2024")
TEAMS = (
    "Payments", "Search", "Growth", "Risk", "Support", "Catalog", "Logistics", "Ads", "Identity",
    "Billing", "Mobile", "Data", "Platform", "Security", "Marketing", "Sales", "Legal", "HR",
    "Finance", "Research",
)  # fmt: skip
TEAM_PRODUCTS = ("Copilot", "Pipeline", "Agent", "Insights", "Assistant")
KEY_NAMES = (
    "prod-backend", "staging", "ci-evals", "batch-nightly", "notebook", "local-dev", "worker",
    "webhook-handler", "etl", "experiments", "mobile-api", "cron", "playground", "load-test",
)  # fmt: skip
TECH_LEVELS = ("beginner", "intermediate", "advanced", "expert", None)
PERSONAS = ("backend engineer", "data scientist", "ML engineer", "product manager", "analyst", None)
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/139.0.0.0 Safari/537.36",
)
RATE_LIMITS: dict[str, dict[str, int]] = {
    "text": {
        "max_requests_per_1_minute": 10_000,
        "max_tokens_per_1_minute": 10_000_000,
        "batch_1_day_max_input_tokens": 1_000_000_000,
    },
    "reasoning": {
        "max_requests_per_1_minute": 5_000,
        "max_tokens_per_1_minute": 4_000_000,
        "max_requests_per_1_day": 500_000,
        "batch_1_day_max_input_tokens": 400_000_000,
    },
    "audio": {
        "max_requests_per_1_minute": 5_000,
        "max_tokens_per_1_minute": 2_000_000,
        "max_audio_megabytes_per_1_minute": 100,
    },
    "image": {
        "max_requests_per_1_minute": 500,
        "max_tokens_per_1_minute": 1_000_000,
        "max_images_per_1_minute": 50,
    },
    "embedding": {
        "max_requests_per_1_minute": 10_000,
        "max_tokens_per_1_minute": 10_000_000,
        "batch_1_day_max_input_tokens": 4_000_000_000,
    },
}
PERMISSIONS = (
    "api.usage.read", "api.audit_logs.read", "api.groups.read", "api.groups.write",
    "api.projects.read", "api.projects.write", "api.keys.read", "api.keys.write",
    "api.billing.read", "api.members.read", "api.members.write", "api.rate_limits.write",
)  # fmt: skip
CUSTOM_ROLES = (
    ("Billing Viewer", "Reads usage, costs and invoices", ("api.usage.read", "api.billing.read")),
    ("Key Auditor", "Reviews keys and the audit log", ("api.keys.read", "api.audit_logs.read")),
    (
        "API Group Manager",
        "Allows managing organization groups",
        ("api.groups.read", "api.groups.write"),
    ),
    (
        "Project Admin",
        "Creates and configures projects",
        ("api.projects.read", "api.projects.write"),
    ),
    (
        "Rate Limit Editor",
        "Tunes project rate limits",
        ("api.projects.read", "api.rate_limits.write"),
    ),
)


def build(
    scenario: str, *, seed: int, now: Callable[[], float], admin_keys: tuple[str, ...]
) -> Store:
    """Build the named scenario; deterministic for a seed and a fixed `now`."""
    if scenario not in SIZES:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {sorted(SIZES)}")
    return _Builder(scenario, SIZES[scenario], seed, int(now()), now).run(admin_keys)


class _Builder:
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
        self.events: list[dict[str, Any]] = []

    # --- helpers -------------------------------------------------------------------------------

    def id(self, prefix: str, length: int = 24, alphabet: str = ALNUM) -> str:
        if alphabet is ALNUM:  # the fast path: base64 of random bytes, made alphanumeric
            raw = base64.b64encode(self.rng.randbytes(length * 3 // 4 + 3), altchars=b"Qz")
            return prefix + raw[:length].decode()
        return prefix + "".join(self.rng.choices(alphabet, k=length))

    def between(self, lo: int, hi: int) -> int:
        return lo + int(self.rng.random() * max(1, hi - lo))

    def secret(self, prefix: str, length: int) -> str:
        return prefix + "".join(self.rng.choices(SECRET_ALPHABET, k=length))

    # --- the build -----------------------------------------------------------------------------

    def run(self, admin_keys: tuple[str, ...]) -> Store:
        store = self.store
        store.org_id = self.id("org-")
        store.org_name = self.size.org_name
        store.domain = self.size.domain
        self.users()
        self.roles()
        self.projects()
        self.members()
        self.service_accounts()
        self.keys()
        self.admin_keys(admin_keys)
        self.invites()
        self.groups()
        self.certificates()
        self.rate_limits()
        self.settings()
        self.usage()
        self.history()
        return store

    def users(self) -> None:
        size, store = self.size, self.store
        names: set[tuple[str, str]] = set()
        while len(names) < size.users:
            names.add((self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)))
        ordered = sorted(names)
        self.rng.shuffle(ordered)
        times = sorted(self.between(self.founded, self.anchor - 3 * DAY) for _ in ordered)
        times[0] = self.founded
        for i, ((first, last), added) in enumerate(zip(ordered, times, strict=True)):
            local = f"{first}.{last}".lower().replace("'", "")
            user = User(
                id=self.id("user-"),
                name=f"{first} {last}",
                email=f"{local}@{size.domain}",
                role="owner" if i < size.owners else "reader",
                added_at=added,
                created=added - self.between(DAY, 900 * DAY),
                technical_level=self.rng.choice(TECH_LEVELS),
                developer_persona=self.rng.choice(PERSONAS),
                is_scim_managed=i >= size.owners and self.rng.random() < 0.3,
            )
            store.users[user.id] = user
        store.owner_user_id = next(iter(store.users))

    def roles(self) -> None:
        store = self.store
        for name, description in (
            ("Owner", "Full access to the organization"),
            ("Reader", "Read-only access to the organization"),
        ):
            role = Role(
                id=self.id("role_", 26, ULID),
                name=name,
                description=description,
                permissions=list(PERMISSIONS if name == "Owner" else PERMISSIONS[::2]),
                resource_type="api.organization",
                predefined=True,
                created_at=None,
                updated_at=None,
                created_by=None,
            )
            store.roles[role.id] = role
        owners = [u for u in store.users.values() if u.role == "owner"]
        for name, description, permissions in CUSTOM_ROLES[: self.size.custom_roles]:
            created = self.between(self.history_start, self.anchor - 10 * DAY)
            role = Role(
                id=self.id("role_", 26, ULID),
                name=name,
                description=description,
                permissions=list(permissions),
                resource_type="api.organization",
                predefined=False,
                created_at=created,
                updated_at=created,
                created_by=self.rng.choice(owners).id,
            )
            store.roles[role.id] = role
        for name, description in (
            ("Project Owner", "Manages the project"),
            ("Project Member", "Uses the project"),
            ("Project Viewer", "Reads the project"),
        ):
            role = Role(
                id=self.id("role_", 26, ULID),
                name=name,
                description=description,
                permissions=["api.projects.read"],
                resource_type="api.project",
                predefined=True,
                created_at=None,
                updated_at=None,
                created_by=None,
            )
            store.project_roles[role.id] = role
        readers = [u for u in store.users.values() if u.role == "reader"]
        custom = [r for r in store.roles.values() if not r.predefined]
        for user in self.rng.sample(readers, min(len(readers), max(2, len(readers) // 8))):
            role = self.rng.choice(custom)
            at = max(user.added_at, role.created_at or 0) + self.between(DAY, 20 * DAY)
            if at < self.now:
                store.user_roles.setdefault(user.id, {})[role.id] = at

    def projects(self) -> None:
        size, store = self.size, self.store
        default = Project(
            id=self.id("proj_"), name="Default project", created_at=self.founded, is_default=True
        )
        store.projects[default.id] = default
        store.default_project_id = default.id
        if store.scenario == "demo":
            names = list(DEMO_PROJECTS) + list(DEMO_ARCHIVED)
        else:
            names = [f"{t} {p}" for p in TEAM_PRODUCTS for t in TEAMS][: size.projects - 1]
        created = [self.between(self.founded + 20 * DAY, self.anchor - 20 * DAY) for _ in names]
        # The archived projects are old ones: they ran for a while, then were shut down.
        archived = set(names[-size.archived :]) if size.archived else set()
        for n, name in enumerate(sorted(archived)):
            created[names.index(name)] = self.founded + (40 + 25 * n) * DAY
        for name, at in sorted(zip(names, created, strict=True), key=lambda pair: pair[1]):
            project = Project(id=self.id("proj_"), name=name, created_at=at)
            if name in archived:
                project.archived_at = self.between(
                    self.history_start + 60 * DAY, self.anchor - 30 * DAY
                )
            if self.rng.random() < 0.08:
                project.residency = "EU_STORAGE_PROCESSING"
            store.projects[project.id] = project

    def members(self) -> None:
        store = self.store
        users = list(store.users.values())
        for project in store.projects.values():
            if project.is_default:
                chosen = users
            else:
                chosen = self.rng.sample(users, min(len(users), self.rng.randint(3, 10)))
            for user in chosen:
                role = "owner" if user.role == "owner" or self.rng.random() < 0.15 else "member"
                at = max(user.added_at, project.created_at) + self.between(0, 5 * DAY)
                project.members[user.id] = ProjectMember(role, min(at, self.anchor - 3 * DAY))
        for project in store.projects.values():
            if project.archived_at is not None:
                project.members.clear()  # archived projects have no users

    def service_accounts(self) -> None:
        store = self.store
        candidates = [p for p in store.projects.values() if not p.is_default]
        for _ in range(self.size.service_accounts):
            project = self.rng.choice(candidates)
            if project.archived_at is not None:
                continue
            sa = ServiceAccount(
                id=self.id("svc_acct_"),
                project_id=project.id,
                name=self.rng.choice(("ci-bot", "etl-runner", "support-bot", "evals", "deployer"))
                + f"-{len(project.service_accounts) + 1}",
                role=self.rng.choice(("member", "member", "owner")),
                created_at=self.between(project.created_at, self.anchor - 5 * DAY),
            )
            project.service_accounts[sa.id] = sa

    def keys(self) -> None:
        store = self.store
        projects = list(store.projects.values())
        weights = [0.5 if p.is_default else 0.3 if p.archived_at else 1.0 for p in projects]
        self.key_plans: list[tuple[ProjectApiKey, int | None]] = []
        for n in range(self.size.keys):
            project = self.rng.choices(projects, weights)[0]
            owners: list[tuple[str, str, int]] = [
                ("user", uid, m.added_at) for uid, m in project.members.items()
            ]
            owners += [
                ("service_account", sa.id, sa.created_at)
                for sa in project.service_accounts.values()
            ]
            if project.archived_at is not None:  # members were cleared: pick former users
                owners = [
                    ("user", u.id, max(u.added_at, project.created_at))
                    for u in store.users.values()
                ][:8]
            if not owners:
                continue
            owner_type, owner_id, since = self.rng.choice(owners)
            latest = project.archived_at or self.anchor - 2 * DAY
            created = self.between(since, latest - DAY) if latest - DAY > since else since
            prefix = "sk-svcacct-" if owner_type == "service_account" else "sk-proj-"
            value = self.secret(prefix, 64)
            key = ProjectApiKey(
                id=self.id("key_", 16),
                project_id=project.id,
                name=f"{self.rng.choice(KEY_NAMES)}-{n + 1}",
                created_at=created,
                owner_type=owner_type,
                owner_id=owner_id,
                redacted_value=redact(value, prefix),
                value=value,
            )
            end: int | None = None
            draw = self.rng.random()
            if project.archived_at is not None:
                end = self.between(created, project.archived_at)
            elif draw < 0.06:
                end = -1  # never used
            elif draw < 0.22:
                end = self.between(max(created, self.anchor - 220 * DAY), self.anchor - 30 * DAY)
            if end is not None and end != -1 and end <= created:
                end = created + DAY
            if end == -1:
                key.last_used_at = None
            elif end is not None:
                key.last_used_at = end
            else:
                key.uses_usage_clock = True
            store.api_keys[key.id] = key
            self.key_plans.append((key, end))
        self._departures()

    def _departures(self) -> None:
        """Some owners left a project; their keys stayed behind and went quiet."""
        store = self.store
        busy = [
            k
            for k, end in self.key_plans
            if end is None
            and k.owner_type == "user"
            and not store.projects[k.project_id].is_default
            and k.created_at < self.anchor - 30 * DAY
        ]
        for leaver in self.rng.sample(busy, min(len(busy), max(2, self.size.keys // 25))):
            project = store.projects[leaver.project_id]
            if leaver.owner_id not in project.members:
                continue
            left = self.between(
                max(leaver.created_at + DAY, self.anchor - 120 * DAY), self.anchor - 7 * DAY
            )
            project.members.pop(leaver.owner_id)
            for i, (key, end) in enumerate(self.key_plans):
                same = key.project_id == project.id and key.owner_id == leaver.owner_id
                if same and end != -1 and (end is None or end > left):
                    key.uses_usage_clock = False
                    key.last_used_at = max(left, key.created_at + DAY)
                    self.key_plans[i] = (key, key.last_used_at)

    def admin_keys(self, values: tuple[str, ...]) -> None:
        store = self.store
        owner = store.owner_user_id
        seeded = (
            ("Main admin key", None, 200),
            ("Terraform", None, 90),
            ("Finance export", 365 * DAY, 40),
        )
        for name, ttl, age_days in seeded:
            value = self.secret("sk-admin-", 56)
            created = self.anchor - age_days * DAY
            key = AdminKey(
                id=self.id("key_", 16),
                name=name,
                value=value,
                redacted_value=redact(value, "sk-admin"),
                created_at=created,
                expires_at=created + ttl if ttl else None,
                last_used_at=self.between(self.anchor - 3 * DAY, self.now),
                owner_user_id=owner,
            )
            store.admin_keys[key.id] = key
        for i, value in enumerate(values):
            key = AdminKey(
                id=self.id("key_", 16),
                name="Dashboard" if i == 0 else f"Dashboard {i + 1}",
                value=value,
                redacted_value=redact(value, "sk-admin"),
                created_at=self.anchor - 7 * DAY + i,
                expires_at=None,
                last_used_at=None,
                owner_user_id=owner,
            )
            store.admin_keys[key.id] = key

    def invites(self) -> None:
        size, store = self.size, self.store
        default = store.default_project_id
        for user in list(store.users.values())[1:]:  # everyone but the founder was invited
            if user.added_at < self.history_start - 60 * DAY and self.rng.random() < 0.5:
                continue  # older invites were cleaned up
            sent = user.added_at - self.between(3600, 5 * DAY)
            invite = Invite(
                id=self.id("invite-"),
                email=user.email,
                role=user.role,
                status="accepted",
                created_at=sent,
                expires_at=sent + 7 * DAY,
                accepted_at=user.added_at,
                projects=[{"id": default, "role": "member"}],
            )
            store.invites[invite.id] = invite
        active = [p for p in store.projects.values() if p.archived_at is None]
        for n in range(size.pending_invites + size.expired_invites):
            pending = n < size.pending_invites
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            sent = (
                self.between(self.now - 6 * DAY, self.now - 3600)
                if pending
                else self.between(self.anchor - 90 * DAY, self.anchor - 10 * DAY)
            )
            project = self.rng.choice(active)
            invite = Invite(
                id=self.id("invite-"),
                email=_email(first, last, n, size.domain),
                role="reader" if self.rng.random() < 0.85 else "owner",
                status="pending" if pending else "expired",
                created_at=sent,
                expires_at=sent + 7 * DAY,
                accepted_at=None,
                projects=[{"id": project.id, "role": self.rng.choice(("member", "owner"))}],
            )
            store.invites[invite.id] = invite
        store.invites = dict(sorted(store.invites.items(), key=lambda i: i[1].created_at))

    def groups(self) -> None:
        store = self.store
        names = ["Engineering", "Data Science", "Finance", "Support", "Platform Admins"]
        names += [f"{t} Team" for t in TEAMS]
        users = list(store.users.values())
        custom = [r for r in store.roles.values() if not r.predefined]
        project_roles = list(store.project_roles)
        projects = [p for p in store.projects.values() if p.archived_at is None]
        for i, name in enumerate(names[: self.size.groups]):
            created = self.between(self.history_start, self.anchor - 20 * DAY)
            group = Group(
                id=self.id("group_", 26, ULID),
                name=name,
                created_at=created,
                is_scim_managed=name == "Platform Admins",
            )
            for user in self.rng.sample(users, min(len(users), self.rng.randint(3, 12))):
                group.users[user.id] = max(created, user.added_at) + self.between(0, 3 * DAY)
            if custom and i % 2 == 0:
                group.roles[self.rng.choice(custom).id] = created + DAY
            for project in self.rng.sample(projects, min(len(projects), self.rng.randint(0, 2))):
                project.groups[group.id] = (
                    self.rng.choice(project_roles),
                    max(created, project.created_at) + DAY,
                )
            store.groups[group.id] = group

    def certificates(self) -> None:
        store = self.store
        projects = [p for p in store.projects.values() if p.archived_at is None]
        labels = ("mTLS gateway", "Partner API", "Edge proxy", "Batch uploader", "VPN egress")
        for n in range(self.size.certificates):
            expired = n == self.size.certificates - 1  # one has lapsed and was never removed
            latest = self.anchor - (90 if expired else 5) * DAY
            uploaded = self.between(self.history_start, latest)
            valid_at = uploaded - self.between(DAY, 30 * DAY)
            lapsed = self.anchor - self.between(5 * DAY, 60 * DAY)
            expires_at = lapsed if expired else valid_at + 730 * DAY
            name = f"{labels[n % len(labels)]} {2025 + n // len(labels)}"
            cert = Certificate(
                id=self.id("cert_"),
                name=name,
                created_at=uploaded,
                pem=_make_certificate(self.rng, name, self.size.domain, valid_at, expires_at),
                valid_at=valid_at,
                expires_at=expires_at,
                active=not expired and n % 3 == 0,
            )
            store.certificates[cert.id] = cert
            if not expired and n % 3 == 1:
                for project in self.rng.sample(projects, min(2, len(projects))):
                    project.active_certificates.add(cert.id)

    def rate_limits(self) -> None:
        store = self.store
        models = [
            *self.size.completion_models,
            *EMBEDDING_PRICES,
            "gpt-image-1",
            "dall-e-3",
            "tts-1",
            "whisper-1",
        ]
        if store.scenario == "large":
            models += [
                "dall-e-2",
                "tts-1-hd",
                "gpt-4o-mini-tts",
                "gpt-4o-transcribe",
                "gpt-4o-mini-transcribe",
            ]
        for model in dict.fromkeys(models):
            store.rate_limit_defaults[model] = dict(RATE_LIMITS[_model_kind(model)])
        for project in store.projects.values():
            for model, ceilings in store.rate_limit_defaults.items():
                limits = dict(ceilings)
                if not project.is_default and self.rng.random() < 0.1:
                    limits["max_requests_per_1_minute"] = max(
                        1, ceilings["max_requests_per_1_minute"] // self.rng.choice((2, 4, 10))
                    )
                rl_id = f"rl-{model}"
                project.rate_limits[rl_id] = RateLimit(rl_id, model, limits, dict(ceilings))

    def settings(self) -> None:
        store = self.store
        domain = self.size.domain
        store.data_retention = "modified_abuse_monitoring"
        for threshold, recipients in (
            (500_000, ["finance@", "cto@"]),
            (1_000_000, ["finance@", "cfo@", "cto@"]),
            (2_000_000, ["cfo@"]),
        ):
            alert = SpendAlert(
                id=self.id("alert_"),
                threshold_amount=threshold,
                currency="USD",
                interval="month",
                recipients=[r + domain for r in recipients],
                subject_prefix="[OpenAI spend]",
                created_at=self.between(self.history_start, self.anchor - 30 * DAY),
            )
            store.spend_alerts[alert.id] = alert
        store.spend_limit = SpendLimit(threshold_amount=int(self.size.daily_cost_today * 60 * 100))
        active = [p for p in store.projects.values() if p.archived_at is None and not p.is_default]
        for i, project in enumerate(active[:3]):
            alert = SpendAlert(
                id=self.id("alert_"),
                threshold_amount=(i + 1) * 50_000,
                currency="USD",
                interval="month",
                recipients=[f"team-{i + 1}@{domain}"],
                subject_prefix=None,
                created_at=self.between(project.created_at, self.anchor - DAY),
            )
            project.spend_alerts[alert.id] = alert
        if active:
            active[0].spend_limit = SpendLimit(threshold_amount=100)  # $1: always enforcing
            active[-1].spend_limit = SpendLimit(threshold_amount=100_000_000)  # $1M: inactive
            active[0].model_permissions = ("allow_list", list(self.size.completion_models[:3]))
            active[-1].hosted_tools = dict.fromkeys(HOSTED_TOOLS, True) | {
                "web_search": False,
                "image_generation": False,
            }
            active[len(active) // 2].data_retention = "zero_data_retention"

    # --- usage ---------------------------------------------------------------------------------

    def usage(self) -> None:
        engine = self.store.usage
        rng = self.rng
        models = self.size.completion_models
        text = [m for m in models if "audio" not in m and "realtime" not in m]
        audio = [m for m in models if "audio" in m or "realtime" in m] or text
        plans: list[_Plan] = []
        for key, end in self.key_plans:
            if end == -1:
                continue
            volume = math.exp(rng.gauss(0, 1.1))  # heavy-tailed: a few keys dominate
            personas = [
                rng.choice(
                    ("chat", "chat", "batch", "rag", "images", "voice", "search", "moderation")
                )
            ]
            if rng.random() < 0.35:
                personas.append(rng.choice(("chat", "rag", "search", "moderation", "batch")))
            for persona in dict.fromkeys(personas):
                plans += self._key_plans(key, end, persona, volume, text, audio)
        # Every family has 13 months of history: the oldest busy key picks up what is missing.
        old_keys = sorted(
            (k for k, e in self.key_plans if e is None and k.created_at < self.history_start),
            key=lambda k: k.created_at,
        )
        for family, persona in _FAMILY_PERSONA.items():
            covered = any(
                p.family == family
                and p.start <= self.history_start
                and (p.end is None or p.end > self.history_start + 60 * DAY)
                for p in plans
            )
            if old_keys and not covered:
                key = old_keys[len(plans) % len(old_keys)]
                found = self._key_plans(key, None, persona, 5.0, text, audio)
                plans += [p for p in found if p.family == family]
        file_search_projects = {
            p.dims["project_id"] for p in plans if p.family == "file_search_calls"
        }
        for project in self.store.projects.values():
            start = max(project.created_at, self.history_start - 30 * DAY)
            if project.id in file_search_projects or project.is_default or rng.random() < 0.25:
                mib = rng.choice((150, 800, 2500, 9000, 30000))
                plans.append(
                    _Plan(
                        "vector_stores",
                        {"project_id": project.id},
                        {"usage_bytes": mib},
                        0,
                        start,
                        project.archived_at,
                    )
                )
            if project.is_default or rng.random() < 0.35:
                sessions = rng.choice((3, 12, 40))
                plans.append(
                    _Plan(
                        "code_interpreter_sessions",
                        {"project_id": project.id},
                        {"num_sessions": sessions},
                        0,
                        start,
                        project.archived_at,
                    )
                )
        # Scale each family so that today's bill is about `daily_cost_today`, split like a
        # typical organization's (mostly tokens).
        costs = _daily_costs(plans)
        scales = {
            family: share * self.size.daily_cost_today / costs[family]
            for family, share in COST_SHARES.items()
            if costs.get(family)
        }
        requests = {
            family: sum(
                p.leaves.get("num_model_requests", 0.0)
                for p in plans
                if p.family == family and p.end is None
            )
            for family in ("completions", "moderations")
        }
        if requests["moderations"]:  # free: about one moderation call per three completions
            completions = requests["completions"] * scales.get("completions", 1.0)
            scales["moderations"] = 0.3 * completions / requests["moderations"]
        for plan in plans:
            fam = FAMILIES[plan.family]
            leaves = plan.leaves
            if not fam.gauge:
                leaves = {k: v * scales.get(plan.family, 1.0) for k, v in leaves.items()}
                count = fam.leaves[fam.count_leaf]
                leaves[count] = max(2.0, leaves.get(count, 0.0))
            engine.add_stream(
                plan.family, plan.dims, leaves, start=plan.start, end=plan.end, profile=plan.profile
            )
        busy = [k for k, e in self.key_plans if e is None]
        for _ in range(5 if self.store.scenario == "demo" else 12):
            day = (self.anchor - self.between(10 * DAY, HISTORY_DAYS * DAY)) // DAY
            if busy:
                engine.spikes[(day, rng.choice(busy).id)] = rng.uniform(4.0, 9.0)

    def _key_plans(
        self,
        key: ProjectApiKey,
        end: int | None,
        persona: str,
        volume: float,
        text: list[str],
        audio: list[str],
    ) -> list[_Plan]:
        user_id = key.owner_id if key.owner_type == "user" else None
        base = {"project_id": key.project_id, "user_id": user_id, "api_key_id": key.id}
        return [
            _Plan(
                family,
                {**base, **dims},
                {k: v * volume for k, v in leaves.items()},
                profile,
                key.created_at,
                end,
            )
            for family, dims, leaves, profile in self._persona(persona, text, audio)
        ]

    def _persona(
        self, persona: str, text_models: list[str], audio_models: list[str]
    ) -> list[tuple[str, dict[str, Any], dict[str, float], int]]:
        rng = self.rng
        out: list[tuple[str, dict[str, Any], dict[str, float], int]] = []

        def completion(
            model: str,
            *,
            batch: bool = False,
            tier: str = "default",
            requests: float = 400.0,
            audio: bool = False,
            images: bool = False,
        ) -> None:
            inp = rng.uniform(600, 4000)
            cached = rng.uniform(0.1, 0.6) if not batch else rng.uniform(0.0, 0.2)
            leaves = {
                "num_model_requests": requests,
                "input_text_tokens": requests * inp * (1 - cached) * 0.9,
                "input_cached_text_tokens": requests * inp * cached,
                "input_cache_write_tokens": requests * inp * 0.05,
                "output_text_tokens": requests * rng.uniform(150, 900),
            }
            if audio:
                leaves |= {
                    "input_audio_tokens": requests * rng.uniform(200, 900),
                    "input_cached_audio_tokens": requests * rng.uniform(0, 120),
                    "output_audio_tokens": requests * rng.uniform(200, 700),
                }
            if images or rng.random() < 0.15:
                leaves |= {
                    "input_image_tokens": requests * rng.uniform(50, 800),
                    "input_cached_image_tokens": requests * rng.uniform(0, 60),
                }
                if rng.random() < 0.1:
                    leaves["output_image_tokens"] = requests * rng.uniform(20, 200)
            out.append(
                (
                    "completions",
                    {"model": model, "batch": batch, "service_tier": tier},
                    leaves,
                    1 if batch else 0,
                )
            )

        if persona == "chat":
            for model in rng.sample(text_models, min(len(text_models), rng.randint(1, 3))):
                tier = rng.choices(("default", "flex", "priority"), (8, 1, 1))[0]
                completion(model, tier=tier, requests=rng.uniform(200, 1500))
        elif persona == "batch":
            completion(rng.choice(text_models), batch=True, requests=rng.uniform(500, 5000))
            if rng.random() < 0.5:
                completion(rng.choice(text_models), tier="flex", requests=rng.uniform(100, 600))
        elif persona == "rag":
            completion(rng.choice(text_models), requests=rng.uniform(200, 900), images=False)
            embed = rng.choice(list(EMBEDDING_PRICES)[:2])
            out.append(
                (
                    "embeddings",
                    {"model": embed},
                    {
                        "num_model_requests": rng.uniform(300, 3000),
                        "input_tokens": rng.uniform(3e5, 6e6),
                    },
                    1,
                )
            )
            out.append(
                (
                    "file_search_calls",
                    {"vector_store_id": self.id("vs_")},
                    {"num_requests": rng.uniform(50, 600)},
                    0,
                )
            )
        elif persona == "images":
            model = rng.choice(("gpt-image-1", "dall-e-3"))
            for size in rng.sample(sorted(IMAGE_PRICES[model]), 2):
                source = rng.choice(("image.generation", "image.generation", "image.edit"))
                requests = rng.uniform(20, 200)
                out.append(
                    (
                        "images",
                        {"model": model, "size": size, "source": source},
                        {
                            "num_model_requests": requests,
                            "images": requests * rng.uniform(1.0, 2.5),
                        },
                        0,
                    )
                )
            if rng.random() < 0.3:
                out.append(
                    (
                        "images",
                        {"model": "dall-e-2", "size": "512x512", "source": "image.variation"},
                        {"num_model_requests": 15.0, "images": 40.0},
                        0,
                    )
                )
        elif persona == "voice":
            completion(rng.choice(audio_models), requests=rng.uniform(100, 600), audio=True)
            tts = rng.choice(list(SPEECH_PRICES)[: 3 if self.store.scenario == "large" else 2])
            out.append(
                (
                    "audio_speeches",
                    {"model": tts},
                    {
                        "num_model_requests": (r := rng.uniform(100, 800)),
                        "characters": r * rng.uniform(150, 700),
                    },
                    0,
                )
            )
            stt = rng.choice(list(TRANSCRIPTION_PRICES))
            out.append(
                (
                    "audio_transcriptions",
                    {"model": stt},
                    {
                        "num_model_requests": (r := rng.uniform(50, 500)),
                        "seconds": r * rng.uniform(20, 240),
                    },
                    0,
                )
            )
        elif persona == "search":
            model = rng.choice(text_models[:4])
            completion(model, requests=rng.uniform(100, 500))
            for level in rng.sample(("low", "medium", "high"), rng.randint(1, 2)):
                calls = rng.uniform(30, 400)
                out.append(
                    (
                        "web_search_calls",
                        {"model": model, "context_level": level},
                        {
                            "num_model_requests": calls,
                            "num_requests": calls * rng.uniform(1.0, 1.6),
                        },
                        0,
                    )
                )
        elif persona == "moderation":
            model = MODERATION_MODELS[0] if rng.random() < 0.8 else MODERATION_MODELS[1]
            out.append(
                (
                    "moderations",
                    {"model": model},
                    {
                        "num_model_requests": (r := rng.uniform(500, 8000)),
                        "input_tokens": r * rng.uniform(80, 400),
                    },
                    0,
                )
            )
        return out

    # --- audit history -------------------------------------------------------------------------

    def history(self) -> None:
        store, rng = self.store, self.rng
        start = self.anchor - 365 * DAY
        end = self.now - 60
        users = list(store.users.values())
        owners = [u for u in users if u.role == "owner"]
        ips = {u.id: _ip(rng) for u in users}
        agents = {u.id: rng.choice(USER_AGENTS) for u in users}
        terraform = next(k for k in store.admin_keys.values() if k.name == "Terraform")
        owner = store.users[store.owner_user_id]
        bot = Actor("api_key", owner.id, owner.email, key_id=terraform.id)
        events: list[
            tuple[int, str, Actor | None, dict[str, Any] | None, Project | None, tuple[str, ...]]
        ] = []

        def session(user: User) -> Actor:
            return Actor(
                "session", user.id, user.email, ip_address=ips[user.id], user_agent=agents[user.id]
            )

        def add(
            at: int,
            type_: str,
            actor: Actor | None,
            payload: dict[str, Any] | None = None,
            project: Project | None = None,
            resources: tuple[str, ...] = (),
        ) -> None:
            if start <= at <= end:
                events.append((at, type_, actor, payload, project, resources))

        def by_owner() -> Actor:
            return session(rng.choice(owners)) if rng.random() < 0.8 else bot

        for user in users:
            weeks_active = max(0.0, (end - max(start, user.added_at)) / (7 * DAY))
            for _ in range(
                int(weeks_active * self.size.logins_per_user_week * rng.uniform(0.5, 1.5))
            ):
                at = self.between(max(start, user.added_at), end)
                if rng.random() < 0.04:
                    add(
                        at,
                        "login.failed",
                        session(user),
                        {
                            "error_code": "invalid_credentials",
                            "error_message": "Invalid email or password.",
                        },
                    )
                    at += rng.randint(20, 300)
                add(at, "login.succeeded", session(user), {})
                if rng.random() < 0.25:
                    add(at + rng.randint(600, 6 * 3600), "logout.succeeded", session(user), {})
        for invite in store.invites.values():
            add(
                invite.created_at,
                "invite.sent",
                by_owner(),
                {"id": invite.id, "data": {"email": invite.email, "role": invite.role}},
            )
            if invite.accepted_at:
                invitee = next((u for u in users if u.email == invite.email), None)
                add(
                    invite.accepted_at,
                    "invite.accepted",
                    session(invitee) if invitee else None,
                    {"id": invite.id},
                )
        for _ in range(max(2, len(users) // 10)):
            add(self.between(start, end), "invite.deleted", by_owner(), {"id": self.id("invite-")})
        for project in store.projects.values():
            add(
                project.created_at,
                "project.created",
                by_owner(),
                {"id": project.id, "data": {"name": project.name, "title": project.name}},
                project,
            )
            if project.archived_at:
                add(
                    project.archived_at, "project.archived", by_owner(), {"id": project.id}, project
                )
            for uid, member in project.members.items():
                if not project.is_default:
                    add(
                        member.added_at,
                        "user.added",
                        by_owner(),
                        {"id": uid, "data": {"role": member.role}},
                        project,
                    )
            for sa in project.service_accounts.values():
                add(
                    sa.created_at,
                    "service_account.created",
                    by_owner(),
                    {"id": sa.id, "data": {"role": sa.role}},
                    project,
                )
            if not project.is_default and rng.random() < 0.3:
                add(
                    self.between(max(start, project.created_at), end),
                    "project.updated",
                    by_owner(),
                    {"id": project.id, "changes_requested": {"title": project.name}},
                    project,
                )
            for rl in project.rate_limits.values():
                if rl.limits != rl.org_limits:
                    add(
                        self.between(max(start, project.created_at), end),
                        "rate_limit.updated",
                        bot,
                        {
                            "id": rl.id,
                            "changes_requested": {
                                k: v for k, v in rl.limits.items() if rl.org_limits[k] != v
                            },
                        },
                        project,
                    )
        for key in store.api_keys.values():
            project = store.projects[key.project_id]
            creator = store.users.get(key.owner_id) if key.owner_type == "user" else None
            actor = session(creator) if creator else by_owner()
            add(
                key.created_at,
                "api_key.created",
                actor,
                {"id": key.id, "data": {"scopes": key.scopes}},
                project,
            )
        for _ in range(max(3, len(store.api_keys) // 6)):  # keys that were created and deleted
            project = rng.choice(list(store.projects.values()))
            gone = self.id("key_", 16)
            created = self.between(start, end - 20 * DAY)
            add(
                created,
                "api_key.created",
                by_owner(),
                {"id": gone, "data": {"scopes": ["api.all"]}},
                project,
            )
            if rng.random() < 0.4:
                add(
                    created + DAY,
                    "api_key.updated",
                    by_owner(),
                    {"id": gone, "changes_requested": {"scopes": ["api.model.request"]}},
                    project,
                )
            add(
                self.between(created + 2 * DAY, end),
                "api_key.deleted",
                by_owner(),
                {"id": gone},
                project,
            )
        for cert in store.certificates.values():
            add(
                cert.created_at,
                "certificate.created",
                by_owner(),
                {"id": cert.id, "name": cert.name},
            )
            if cert.active:
                add(
                    cert.created_at + 3600,
                    "certificates.activated",
                    by_owner(),
                    {"certificates": [{"id": cert.id, "name": cert.name}]},
                    None,
                    (cert.id,),
                )
        for group in store.groups.values():
            add(
                group.created_at,
                "group.created",
                by_owner(),
                {"id": group.id, "data": {"group_name": group.name}},
            )
            for uid, at in group.users.items():
                add(at, "tenant.group.member.added", by_owner(), None, None, (group.id, uid))
            for rid, at in group.roles.items():
                add(
                    at,
                    "role.assignment.created",
                    by_owner(),
                    {
                        "id": rid,
                        "principal_id": group.id,
                        "principal_type": "group",
                        "resource_id": store.org_id,
                        "resource_type": "api.organization",
                    },
                )
        for role in store.roles.values():
            if not role.predefined and role.created_at:
                add(
                    role.created_at,
                    "role.created",
                    by_owner(),
                    {
                        "id": role.id,
                        "role_name": role.name,
                        "permissions": role.permissions,
                        "resource_type": role.resource_type,
                        "resource_id": store.org_id,
                    },
                )
        for uid, assigned in store.user_roles.items():
            for rid, at in assigned.items():
                add(
                    at,
                    "role.assignment.created",
                    by_owner(),
                    {
                        "id": rid,
                        "principal_id": uid,
                        "principal_type": "user",
                        "resource_id": store.org_id,
                        "resource_type": "api.organization",
                    },
                )
        readers = [u for u in users if u.role == "reader"]
        for _ in range(max(3, len(users) // 8)):
            user = rng.choice(readers)
            add(
                self.between(max(start, user.added_at), end),
                "user.updated",
                by_owner(),
                {"id": user.id, "changes_requested": {"role": "reader"}},
            )
        for _ in range(max(2, len(users) // 20)):
            add(self.between(start, end), "user.deleted", by_owner(), {"id": self.id("user-")})
        self._rare_events(add, by_owner, bot, start, end)
        events.sort(key=lambda e: e[0])
        log = store.audit
        for at, type_, actor, payload, project, resources in events:
            log.add(
                event_id=audit_id(self.id(""), at),
                type=type_,
                effective_at=at,
                actor=actor,
                payload=payload,
                project={"id": project.id, "name": project.name} if project else None,
                resource_ids=(*resources, *((project.id,) if project else ())),
            )

    def _rare_events(
        self,
        add: Callable[..., None],
        by_owner: Callable[[], Actor],
        bot: Actor,
        start: int,
        end: int,
    ) -> None:
        """A sprinkle of the less common types, including ones with no payload schema."""
        rng, store = self.rng, self.store
        allowlist = self.id("ipal_")
        at = self.between(start, end - 100 * DAY)
        ips = ["203.0.113.0/24", "198.51.100.17/32"]
        add(
            at,
            "ip_allowlist.created",
            by_owner(),
            {"id": allowlist, "name": "Office egress", "allowed_ips": ips},
        )
        add(
            at + DAY,
            "ip_allowlist.config.activated",
            by_owner(),
            {"configs": [{"id": allowlist, "name": "Office egress"}]},
            None,
            (allowlist,),
        )
        add(
            at + 40 * DAY,
            "ip_allowlist.updated",
            by_owner(),
            {"id": allowlist, "allowed_ips": [*ips, "192.0.2.8/32"]},
        )
        add(
            self.between(start, end),
            "organization.updated",
            by_owner(),
            {
                "id": store.org_id,
                "changes_requested": {
                    "title": store.org_name,
                    "usage_dashboard_visibility": "OWNERS",
                    "api_call_logging": "enabled_per_call",
                },
            },
        )
        add(self.between(start, end), "scim.enabled", by_owner(), {"id": store.org_id})
        ft = f"ft:gpt-4o-mini-2024-07-18:helio::{self.id('', 8)}:ckpt-step-{rng.randint(100, 900)}"
        add(
            self.between(start, end),
            "checkpoint.permission.created",
            by_owner(),
            {
                "id": self.id("cp_"),
                "data": {"project_id": store.default_project_id, "fine_tuned_model_checkpoint": ft},
            },
        )
        add(
            self.between(start, end),
            "external_key.registered",
            by_owner(),
            {"id": self.id("ek_"), "data": {"provider": "aws_kms"}},
        )
        wip = self.id("wip_")
        add(
            self.between(start, end),
            "workload_identity_provider.created",
            bot,
            {"id": wip, "data": {"issuer": "https://token.actions.githubusercontent.com"}},
        )
        add(
            self.between(start, end),
            "workload_identity_provider_mapping.created",
            bot,
            {
                "id": self.id("wipm_"),
                "identity_provider_id": wip,
                "data": {"subject": "repo:helio/app:ref:refs/heads/main"},
            },
        )
        add(
            self.between(start, end),
            "resource.deleted",
            by_owner(),
            None,
            None,
            (self.id("file-"),),
        )
        add(self.between(start, end), "tunnel.created", bot, None, None, (self.id("tun_"),))
        tenant_types = [t for t in EVENT_TYPES if t.startswith("tenant.")]
        for _ in range(15 if store.scenario == "demo" else 60):
            add(
                self.between(start, end),
                rng.choice(tenant_types),
                by_owner(),
                None,
                None,
                (store.org_id,),
            )
        for _ in range(3):
            add(
                self.between(start, end),
                "role.bound_to_resource",
                by_owner(),
                {
                    "id": self.id("rb_"),
                    "role_id": rng.choice(list(store.roles)),
                    "resource_id": f"ws_{self.id('', 10)}__conn_{self.id('', 8)}",
                    "resource_type": "chatgpt.connector",
                    "permissions": ["connector.use"],
                    "enabled": True,
                    "source": "role_toggle",
                },
            )


def _email(first: str, last: str, n: int, domain: str) -> str:
    host = "gmail.example" if n % 3 == 0 else domain
    return f"{first}.{last}{n}@{host}".lower().replace("'", "")


def _ip(rng: random.Random) -> str:
    parts = (rng.choice((81, 92, 104, 185, 203)), *(rng.randint(1, 254) for _ in range(3)))
    return ".".join(str(p) for p in parts)


def _model_kind(model: str) -> str:
    if model in EMBEDDING_PRICES:
        return "embedding"
    if model in IMAGE_PRICES:
        return "image"
    if (
        model in SPEECH_PRICES
        or model in TRANSCRIPTION_PRICES
        or "audio" in model
        or "realtime" in model
    ):
        return "audio"
    if model.startswith(("o1", "o3", "o4")):
        return "reasoning"
    return "text"


@dataclass(frozen=True)
class _Plan:
    """A usage stream to create once the volumes are scaled."""

    family: str
    dims: dict[str, Any]
    leaves: dict[str, float]
    profile: int
    start: int
    end: int | None


COST_SHARES = {  # of today's bill, by usage family (vector storage comes on top)
    "completions": 0.76,
    "embeddings": 0.03,
    "images": 0.06,
    "audio_speeches": 0.02,
    "audio_transcriptions": 0.03,
    "web_search_calls": 0.05,
    "file_search_calls": 0.03,
    "code_interpreter_sessions": 0.02,
}
_FAMILY_PERSONA = {
    "completions": "chat",
    "embeddings": "rag",
    "file_search_calls": "rag",
    "moderations": "moderation",
    "images": "images",
    "audio_speeches": "voice",
    "audio_transcriptions": "voice",
    "web_search_calls": "search",
}


def _daily_costs(plans: list[_Plan]) -> dict[str, float]:
    """About what today costs per family at unit scale: leaves times their prices."""
    totals: dict[str, float] = {}
    for plan in plans:
        if plan.end is not None:
            continue  # stale streams cost nothing today
        fam = FAMILIES[plan.family]
        values = [plan.leaves.get(leaf, 0.0) for leaf in fam.leaves]
        for item in line_items(plan.family, plan.dims):
            cost = sum(values[i] for i in item.leaves) * item.pico_per_unit / 1e12
            totals[plan.family] = totals.get(plan.family, 0.0) + cost
    return totals


def _make_certificate(
    rng: random.Random, name: str, domain: str, valid_at: int, expires_at: int
) -> str:
    """A real, deterministic self-signed certificate (Ed25519 signatures are deterministic)."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(rng.getrandbits(8) for _ in range(32)))
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name.lower().replace(' ', '-')}.{domain}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, domain.split(".")[0].title()),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(rng.getrandbits(64) + 1)
        .not_valid_before(dt.datetime.fromtimestamp(valid_at, dt.UTC))
        .not_valid_after(dt.datetime.fromtimestamp(expires_at, dt.UTC))
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()
