"""The directory of a scenario: projects, members, service accounts, keys, admin keys,
certificates, rate limits and settings."""

from __future__ import annotations

import datetime as dt
import random

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from orgadmin.simulator.scenarios.base import TEAMS, ScenarioBase
from orgadmin.simulator.store import (
    HOSTED_TOOLS,
    AdminKey,
    Certificate,
    Project,
    ProjectApiKey,
    ProjectMember,
    RateLimit,
    ServiceAccount,
    SpendAlert,
    SpendLimit,
    redact,
)
from orgadmin.simulator.usage.families import DAY
from orgadmin.simulator.usage.prices import (
    EMBEDDING_PRICES,
    IMAGE_PRICES,
    SPEECH_PRICES,
    TRANSCRIPTION_PRICES,
)

DEMO_PROJECTS = (
    "Support Assistant", "Search & Discovery", "Data Pipeline", "Marketing Studio", "Voice Agent",
    "Internal Tools", "Analytics Copilot", "Mobile App", "Research Sandbox",
)  # fmt: skip
DEMO_ARCHIVED = ("Legacy Chatbot", "Hackathon 2024")
TEAM_PRODUCTS = ("Copilot", "Pipeline", "Agent", "Insights", "Assistant")
KEY_NAMES = (
    "prod-backend", "staging", "ci-evals", "batch-nightly", "notebook", "local-dev", "worker",
    "webhook-handler", "etl", "experiments", "mobile-api", "cron", "playground", "load-test",
)  # fmt: skip
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


class Directory(ScenarioBase):
    """Projects and everything in them, admin keys, certificates and the org's settings."""

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
        # The finance team's key may only read usage and costs, as a "Restricted" key of the
        # live UI would (scopes.py); choosing it draws nothing, so the scenario is unchanged.
        finance = {"*": "none", "usage": "read", "costs": "read"}
        seeded = (
            ("Main admin key", None, 200, None),
            ("Terraform", None, 90, None),
            ("Finance export", 365 * DAY, 40, finance),
        )
        for name, ttl, age_days, permissions in seeded:
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
                permissions=permissions,
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
