"""The simulator's state: the organization's directory, settings, audit log and usage.

Everything lives in memory behind one re-entrant lock, because the HTTP server is threaded.
The `Store` also offers ground-truth helpers (`usage_totals`, `cost_total`, `directory`,
`audit_event_ids`) that tests use to prove a client synced exactly what the API holds.
"""

from __future__ import annotations

import pickle
import random
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from orgadmin.simulator.errors import not_found
from orgadmin.simulator.quirks import Quirks

if TYPE_CHECKING:
    from orgadmin.simulator.audit import AuditLog
    from orgadmin.simulator.usage.engine import UsageEngine

ALNUM = string.ascii_letters + string.digits
ULID = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SECRET_ALPHABET = ALNUM + "-_"
HOSTED_TOOLS = ("file_search", "web_search", "image_generation", "mcp", "code_interpreter")


def redact(value: str, prefix: str) -> str:
    """How the API shows a secret key: its prefix and its last characters."""
    return f"{prefix.rstrip('-')}...{value[-3:]}"


@dataclass
class User:
    id: str
    name: str
    email: str
    role: str  # "owner" | "reader"
    added_at: int
    created: int
    technical_level: str | None = None
    developer_persona: str | None = None
    is_scim_managed: bool = False
    picture: str | None = None


@dataclass
class Invite:
    id: str
    email: str
    role: str
    status: str  # "pending" | "accepted" | "expired"
    created_at: int
    expires_at: int | None
    accepted_at: int | None
    projects: list[dict[str, str]]


@dataclass
class ProjectMember:
    role: str  # "owner" | "member"
    added_at: int


@dataclass
class ServiceAccount:
    id: str
    project_id: str
    name: str
    role: str  # "owner" | "member" | "none"
    created_at: int


@dataclass
class RateLimit:
    id: str
    model: str
    limits: dict[str, int]  # only the fields relevant for the model
    org_limits: dict[str, int]  # the organization's ceiling for each field


@dataclass
class SpendAlert:
    id: str
    threshold_amount: int  # cents
    currency: str
    interval: str
    recipients: list[str]
    subject_prefix: str | None
    created_at: int


@dataclass
class SpendLimit:
    threshold_amount: int  # cents
    currency: str = "USD"
    interval: str = "month"


@dataclass
class Project:
    id: str
    name: str
    created_at: int
    archived_at: int | None = None
    external_key_id: str | None = None
    residency: str = "GLOBAL"
    is_default: bool = False
    members: dict[str, ProjectMember] = field(default_factory=dict)
    service_accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    spend_alerts: dict[str, SpendAlert] = field(default_factory=dict)
    spend_limit: SpendLimit | None = None
    data_retention: str = "organization_default"
    model_permissions: tuple[str, list[str]] | None = None  # (mode, model ids)
    hosted_tools: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(HOSTED_TOOLS, True))
    groups: dict[str, tuple[str, int]] = field(default_factory=dict)  # group id -> (role id, at)
    active_certificates: set[str] = field(default_factory=set)

    @property
    def status(self) -> str:
        return "archived" if self.archived_at is not None else "active"


@dataclass
class ProjectApiKey:
    id: str
    project_id: str
    name: str
    created_at: int
    owner_type: str  # "user" | "service_account"
    owner_id: str
    redacted_value: str
    value: str
    last_used_at: int | None = None  # fixed for stale/unused keys; None = derived from usage
    uses_usage_clock: bool = False  # True: last_used_at comes from the usage generator
    scopes: list[str] = field(default_factory=lambda: ["api.all"])


@dataclass
class AdminKey:
    id: str
    name: str | None
    value: str
    redacted_value: str
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    owner_user_id: str
    # None: every permission; else {area: "write" | "read" | "none"} (see scopes.py).
    permissions: dict[str, str] | None = None


@dataclass
class Certificate:
    id: str
    name: str | None
    created_at: int
    pem: str
    valid_at: int
    expires_at: int
    active: bool = False  # at organization scope


@dataclass
class Role:
    id: str
    name: str
    description: str | None
    permissions: list[str]
    resource_type: str  # "api.organization" | "api.project"
    predefined: bool
    created_at: int | None
    updated_at: int | None
    created_by: str | None


@dataclass
class Group:
    id: str
    name: str
    created_at: int
    is_scim_managed: bool = False
    group_type: str = "group"
    users: dict[str, int] = field(default_factory=dict)  # user id -> added at
    roles: dict[str, int] = field(default_factory=dict)  # role id -> assigned at


class Store:
    """All state of one simulated organization."""

    def __init__(
        self, *, scenario: str, seed: int, anchor: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.scenario = scenario
        self.seed = seed
        self.anchor = anchor  # UTC midnight of the day the scenario was built
        self.rng = random.Random(f"store:{scenario}:{seed}")
        self.org_id = ""
        self.org_name = ""
        self.domain = ""
        self.owner_user_id = ""
        self.default_project_id = ""
        self.users: dict[str, User] = {}
        self.invites: dict[str, Invite] = {}
        self.projects: dict[str, Project] = {}
        self.api_keys: dict[str, ProjectApiKey] = {}
        self.admin_keys: dict[str, AdminKey] = {}
        self.certificates: dict[str, Certificate] = {}
        self.roles: dict[str, Role] = {}
        self.project_roles: dict[str, Role] = {}
        self.groups: dict[str, Group] = {}
        self.user_roles: dict[str, dict[str, int]] = {}  # user id -> role id -> assigned at
        self.spend_alerts: dict[str, SpendAlert] = {}
        self.spend_limit: SpendLimit | None = None
        self.data_retention = "zero_data_retention"
        self.rate_limit_defaults: dict[str, dict[str, int]] = {}  # model -> org ceilings
        self.retired: dict[str, tuple[Any, ...]] = {}  # sort keys of deleted ids, for cursors
        self.audit: AuditLog
        self.usage: UsageEngine
        self._quirks = Quirks()  # live-API behaviours beyond the spec (create_app sets them)

    @property
    def quirks(self) -> Quirks:
        """The live-API behaviours this organization shows (see `orgadmin.simulator.quirks`)."""
        return self._quirks

    @quirks.setter
    def quirks(self, quirks: Quirks) -> None:
        self._quirks = quirks
        usage = self.__dict__.get("usage")
        if usage is not None:
            usage.quirks = quirks  # the same object: a change mid-run reaches both

    def clone(self) -> Store:
        """An independent copy of this state (much faster than building the scenario again)."""
        with self.lock:
            raw = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
            copied: Store = pickle.loads(raw)  # noqa: S301 - the bytes we just made
        copied.clock = self.clock
        return copied

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["lock"], state["clock"]  # a lock and a callable don't travel
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()
        self.clock = time.time

    # --- ids ---------------------------------------------------------------------------------

    def new_id(self, prefix: str, length: int = 24, alphabet: str = ALNUM) -> str:
        """A fresh id with the real API's prefix, drawn from the store's seeded RNG."""
        with self.lock:
            while True:
                candidate = prefix + "".join(self.rng.choices(alphabet, k=length))
                if not self._id_taken(candidate):
                    return candidate

    def new_secret(self, prefix: str, length: int = 48) -> str:
        """A fresh secret key value (deterministic for a seed, like every other id)."""
        with self.lock:
            return prefix + "".join(self.rng.choices(SECRET_ALPHABET, k=length))

    def _id_taken(self, candidate: str) -> bool:
        return candidate in self.retired or any(
            candidate in table
            for table in (
                self.users,
                self.invites,
                self.projects,
                self.api_keys,
                self.admin_keys,
                self.certificates,
                self.roles,
                self.groups,
                self.spend_alerts,
            )
        )

    def retire(self, object_id: str, sort_key: tuple[Any, ...]) -> None:
        """Remember a deleted object's sort key so that a cursor naming it still works."""
        self.retired[object_id] = sort_key

    # --- lookups that 404 ----------------------------------------------------------------------

    def get_user(self, user_id: str) -> User:
        """The org user, or a 404."""
        user = self.users.get(user_id)
        if user is None:
            raise not_found("user", user_id)
        return user

    def get_project(self, project_id: str) -> Project:
        """The project, or a 404."""
        project = self.projects.get(project_id)
        if project is None:
            raise not_found("project", project_id)
        return project

    def get_role(self, role_id: str) -> Role:
        """The organization role, or a 404."""
        role = self.roles.get(role_id)
        if role is None:
            raise not_found("role", role_id)
        return role

    def get_group(self, group_id: str) -> Group:
        """The group, or a 404."""
        group = self.groups.get(group_id)
        if group is None:
            raise not_found("group", group_id)
        return group

    def get_certificate(self, certificate_id: str) -> Certificate:
        """The certificate, or a 404."""
        certificate = self.certificates.get(certificate_id)
        if certificate is None:
            raise not_found("certificate", certificate_id)
        return certificate

    def project_keys(self, project_id: str) -> Iterator[ProjectApiKey]:
        """The project's API keys in creation order."""
        return (k for k in self.api_keys.values() if k.project_id == project_id)

    def key_owner_has_access(self, key: ProjectApiKey) -> bool:
        """Whether the key's owner can still use the project (`owner_project_access`)."""
        project = self.projects[key.project_id]
        if project.archived_at is not None:
            return False
        if key.owner_type == "service_account":
            return key.owner_id in project.service_accounts
        return key.owner_id in self.users and key.owner_id in project.members

    def key_last_used_at(self, key: ProjectApiKey, now: int) -> int | None:
        """When the key was last used: fixed for stale keys, else read off the usage clock."""
        if key.uses_usage_clock:
            return self.usage.last_used(key.id, now)
        return key.last_used_at

    def admin_key_add(
        self, value: str, *, permissions: dict[str, str] | None = None, name: str | None = None
    ) -> AdminKey:
        """Add an admin key with this secret value (restricted by `permissions`, see
        `scopes.parse_permissions`), owned by the organization's owner; returns it."""
        with self.lock:
            created = int(self.clock())
            key = AdminKey(
                id=f"key_{''.join(random.Random(value).choices(ALNUM, k=16))}",
                name=name or ("Dashboard (restricted)" if permissions else "Dashboard"),
                value=value,
                redacted_value=redact(value, "sk-admin"),
                created_at=created,
                expires_at=None,
                last_used_at=None,
                owner_user_id=self.owner_user_id,
                permissions=permissions,
            )
            self.admin_keys[key.id] = key
        return key

    def authenticate(self, value: str, now: int) -> AdminKey | None:
        """The live admin key with this secret value, if any; marks it used."""
        with self.lock:
            for key in self.admin_keys.values():
                if key.value == value and (key.expires_at is None or key.expires_at > now):
                    key.last_used_at = now
                    return key
        return None

    # --- ground truth for tests ----------------------------------------------------------------

    def usage_totals(
        self,
        family: str,
        start_time: int,
        end_time: int,
        *,
        now: int | None = None,
        filters: dict[str, Iterable[Any]] | None = None,
    ) -> dict[str, int]:
        """Exact totals of every metric of a usage family over `[start_time, end_time)`.

        Flow metrics are the same whatever bucket width or `group_by` a client uses to fetch
        them. `vector_stores.usage_bytes` is a level, so for it this sums the daily levels.
        """
        return self.usage.totals(
            family, start_time, end_time, now=self._now(now), filters=filters or {}
        )

    def cost_total(
        self,
        start_time: int,
        end_time: int,
        *,
        now: int | None = None,
        filters: dict[str, Iterable[Any]] | None = None,
    ) -> Decimal:
        """Exact total cost in dollars over `[start_time, end_time)`, as the costs API sums it."""
        return self.usage.cost_total(
            start_time, end_time, now=self._now(now), filters=filters or {}
        )

    def audit_event_ids(self, *, include_tenant: bool = True) -> list[str]:
        """Every audit event id, newest first (as the API lists them)."""
        return self.audit.ids(include_tenant=include_tenant)

    def directory(self) -> dict[str, Any]:
        """A plain snapshot of the directory: users, invites, projects, members, keys, groups."""
        with self.lock:
            return {
                "org_id": self.org_id,
                "owner_user_id": self.owner_user_id,
                "default_project_id": self.default_project_id,
                "users": {u.id: {"email": u.email, "role": u.role} for u in self.users.values()},
                "invites": {
                    i.id: {"email": i.email, "status": i.status} for i in self.invites.values()
                },
                "projects": {
                    p.id: {
                        "name": p.name,
                        "status": p.status,
                        "members": {uid: m.role for uid, m in p.members.items()},
                        "service_accounts": sorted(p.service_accounts),
                    }
                    for p in self.projects.values()
                },
                "api_keys": {
                    k.id: {"project_id": k.project_id, "owner": k.owner_id, "name": k.name}
                    for k in self.api_keys.values()
                },
                "admin_keys": sorted(self.admin_keys),
                "groups": {g.id: sorted(g.users) for g in self.groups.values()},
                "roles": sorted(self.roles),
                "certificates": sorted(self.certificates),
            }

    def _now(self, now: int | None) -> int:
        return int(self.clock()) if now is None else now
