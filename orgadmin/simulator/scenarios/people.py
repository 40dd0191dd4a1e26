"""The people of a scenario: users, organization roles, invites and groups."""

from __future__ import annotations

from orgadmin.simulator.scenarios.base import TEAMS, ScenarioBase
from orgadmin.simulator.store import ULID, Group, Invite, Role, User
from orgadmin.simulator.usage.families import DAY

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
TECH_LEVELS = ("beginner", "intermediate", "advanced", "expert", None)
PERSONAS = ("backend engineer", "data scientist", "ML engineer", "product manager", "analyst", None)
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


class People(ScenarioBase):
    """Users, roles, invites and groups."""

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


def _email(first: str, last: str, n: int, domain: str) -> str:
    host = "gmail.example" if n % 3 == 0 else domain
    return f"{first}.{last}{n}@{host}".lower().replace("'", "")
