"""The audit history of a scenario: a year of events, from logins to rare event types."""

from __future__ import annotations

import random
from typing import Any

from orgadmin.simulator.audit import EVENT_TYPES, Actor, audit_id
from orgadmin.simulator.scenarios.base import ScenarioBase
from orgadmin.simulator.store import Project, User
from orgadmin.simulator.usage.families import DAY

USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/138.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/139.0.0.0 Safari/537.36",
)


class _Timeline:
    """The audit history being written: its window, its actors, and the events so far.

    The random draws (a session's IP address and user agent, which owner acted) come from the
    scenario's generator, in the order the steps call them.
    """

    def __init__(self, builder: ScenarioBase, start: int, end: int) -> None:
        store, rng = builder.store, builder.rng
        self.rng = rng
        self.start, self.end = start, end
        users = list(store.users.values())
        self.owners = [u for u in users if u.role == "owner"]
        self.ips = {u.id: _ip(rng) for u in users}
        self.agents = {u.id: rng.choice(USER_AGENTS) for u in users}
        terraform = next(k for k in store.admin_keys.values() if k.name == "Terraform")
        owner = store.users[store.owner_user_id]
        self.bot = Actor("api_key", owner.id, owner.email, key_id=terraform.id)
        self.events: list[
            tuple[int, str, Actor | None, dict[str, Any] | None, Project | None, tuple[str, ...]]
        ] = []

    def session(self, user: User) -> Actor:
        """The user, signed in from their own address and browser."""
        return Actor(
            "session",
            user.id,
            user.email,
            ip_address=self.ips[user.id],
            user_agent=self.agents[user.id],
        )

    def add(
        self,
        at: int,
        type_: str,
        actor: Actor | None,
        payload: dict[str, Any] | None = None,
        project: Project | None = None,
        resources: tuple[str, ...] = (),
    ) -> None:
        """Record an event, if it falls within the history's window."""
        if self.start <= at <= self.end:
            self.events.append((at, type_, actor, payload, project, resources))

    def by_owner(self) -> Actor:
        """An owner in a browser, or (one time in five) the Terraform admin key."""
        return self.session(self.rng.choice(self.owners)) if self.rng.random() < 0.8 else self.bot


class History(ScenarioBase):
    """The audit log's events, written once every other step is done."""

    def history(self) -> None:
        t = _Timeline(self, self.anchor - 365 * DAY, self.now - 60)
        self._login_events(t)
        self._invite_events(t)
        for project in self.store.projects.values():
            self._project_events(t, project)
            self._project_change_events(t, project)
        self._key_events(t)
        self._deleted_key_events(t)
        self._certificate_events(t)
        self._group_events(t)
        self._role_events(t)
        self._user_events(t)
        self._rare_org_events(t)
        self._rare_integration_events(t)
        self._write(t)

    def _login_events(self, t: _Timeline) -> None:
        """Sign-ins (a few failed first) and sign-outs, about as often as `size` says."""
        store, rng = self.store, self.rng
        users = list(store.users.values())
        for user in users:
            weeks_active = max(0.0, (t.end - max(t.start, user.added_at)) / (7 * DAY))
            for _ in range(
                int(weeks_active * self.size.logins_per_user_week * rng.uniform(0.5, 1.5))
            ):
                at = self.between(max(t.start, user.added_at), t.end)
                if rng.random() < 0.04:
                    t.add(
                        at,
                        "login.failed",
                        t.session(user),
                        {
                            "error_code": "invalid_credentials",
                            "error_message": "Invalid email or password.",
                        },
                    )
                    at += rng.randint(20, 300)
                t.add(at, "login.succeeded", t.session(user), {})
                if rng.random() < 0.25:
                    t.add(at + rng.randint(600, 6 * 3600), "logout.succeeded", t.session(user), {})

    def _invite_events(self, t: _Timeline) -> None:
        store = self.store
        users = list(store.users.values())
        for invite in store.invites.values():
            t.add(
                invite.created_at,
                "invite.sent",
                t.by_owner(),
                {"id": invite.id, "data": {"email": invite.email, "role": invite.role}},
            )
            if invite.accepted_at:
                invitee = next((u for u in users if u.email == invite.email), None)
                t.add(
                    invite.accepted_at,
                    "invite.accepted",
                    t.session(invitee) if invitee else None,
                    {"id": invite.id},
                )
        for _ in range(max(2, len(users) // 10)):
            t.add(
                self.between(t.start, t.end),
                "invite.deleted",
                t.by_owner(),
                {"id": self.id("invite-")},
            )

    def _project_events(self, t: _Timeline, project: Project) -> None:
        """A project's creation, archival, members and service accounts."""
        t.add(
            project.created_at,
            "project.created",
            t.by_owner(),
            {"id": project.id, "data": {"name": project.name, "title": project.name}},
            project,
        )
        if project.archived_at:
            t.add(
                project.archived_at, "project.archived", t.by_owner(), {"id": project.id}, project
            )
        for uid, member in project.members.items():
            if not project.is_default:
                t.add(
                    member.added_at,
                    "user.added",
                    t.by_owner(),
                    {"id": uid, "data": {"role": member.role}},
                    project,
                )
        for sa in project.service_accounts.values():
            t.add(
                sa.created_at,
                "service_account.created",
                t.by_owner(),
                {"id": sa.id, "data": {"role": sa.role}},
                project,
            )

    def _project_change_events(self, t: _Timeline, project: Project) -> None:
        """A project's later changes: its title, its rate limits."""
        rng = self.rng
        if not project.is_default and rng.random() < 0.3:
            t.add(
                self.between(max(t.start, project.created_at), t.end),
                "project.updated",
                t.by_owner(),
                {"id": project.id, "changes_requested": {"title": project.name}},
                project,
            )
        for rl in project.rate_limits.values():
            if rl.limits != rl.org_limits:
                t.add(
                    self.between(max(t.start, project.created_at), t.end),
                    "rate_limit.updated",
                    t.bot,
                    {
                        "id": rl.id,
                        "changes_requested": {
                            k: v for k, v in rl.limits.items() if rl.org_limits[k] != v
                        },
                    },
                    project,
                )

    def _key_events(self, t: _Timeline) -> None:
        store = self.store
        for key in store.api_keys.values():
            project = store.projects[key.project_id]
            creator = store.users.get(key.owner_id) if key.owner_type == "user" else None
            actor = t.session(creator) if creator else t.by_owner()
            t.add(
                key.created_at,
                "api_key.created",
                actor,
                {"id": key.id, "data": {"scopes": key.scopes}},
                project,
            )

    def _deleted_key_events(self, t: _Timeline) -> None:
        """Keys that were created, sometimes updated, and deleted."""
        store, rng = self.store, self.rng
        for _ in range(max(3, len(store.api_keys) // 6)):  # keys that were created and deleted
            project = rng.choice(list(store.projects.values()))
            gone = self.id("key_", 16)
            created = self.between(t.start, t.end - 20 * DAY)
            t.add(
                created,
                "api_key.created",
                t.by_owner(),
                {"id": gone, "data": {"scopes": ["api.all"]}},
                project,
            )
            if rng.random() < 0.4:
                t.add(
                    created + DAY,
                    "api_key.updated",
                    t.by_owner(),
                    {"id": gone, "changes_requested": {"scopes": ["api.model.request"]}},
                    project,
                )
            t.add(
                self.between(created + 2 * DAY, t.end),
                "api_key.deleted",
                t.by_owner(),
                {"id": gone},
                project,
            )

    def _certificate_events(self, t: _Timeline) -> None:
        store = self.store
        for cert in store.certificates.values():
            t.add(
                cert.created_at,
                "certificate.created",
                t.by_owner(),
                {"id": cert.id, "name": cert.name},
            )
            if cert.active:
                t.add(
                    cert.created_at + 3600,
                    "certificates.activated",
                    t.by_owner(),
                    {"certificates": [{"id": cert.id, "name": cert.name}]},
                    None,
                    (cert.id,),
                )

    def _group_events(self, t: _Timeline) -> None:
        store = self.store
        for group in store.groups.values():
            t.add(
                group.created_at,
                "group.created",
                t.by_owner(),
                {"id": group.id, "data": {"group_name": group.name}},
            )
            for uid, at in group.users.items():
                t.add(at, "tenant.group.member.added", t.by_owner(), None, None, (group.id, uid))
            for rid, at in group.roles.items():
                t.add(
                    at,
                    "role.assignment.created",
                    t.by_owner(),
                    {
                        "id": rid,
                        "principal_id": group.id,
                        "principal_type": "group",
                        "resource_id": store.org_id,
                        "resource_type": "api.organization",
                    },
                )

    def _role_events(self, t: _Timeline) -> None:
        """Custom roles, and their assignments to users."""
        store = self.store
        for role in store.roles.values():
            if not role.predefined and role.created_at:
                t.add(
                    role.created_at,
                    "role.created",
                    t.by_owner(),
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
                t.add(
                    at,
                    "role.assignment.created",
                    t.by_owner(),
                    {
                        "id": rid,
                        "principal_id": uid,
                        "principal_type": "user",
                        "resource_id": store.org_id,
                        "resource_type": "api.organization",
                    },
                )

    def _user_events(self, t: _Timeline) -> None:
        """Role changes of readers, and users who were removed."""
        store, rng = self.store, self.rng
        users = list(store.users.values())
        readers = [u for u in users if u.role == "reader"]
        for _ in range(max(3, len(users) // 8)):
            user = rng.choice(readers)
            t.add(
                self.between(max(t.start, user.added_at), t.end),
                "user.updated",
                t.by_owner(),
                {"id": user.id, "changes_requested": {"role": "reader"}},
            )
        for _ in range(max(2, len(users) // 20)):
            t.add(
                self.between(t.start, t.end), "user.deleted", t.by_owner(), {"id": self.id("user-")}
            )

    def _rare_org_events(self, t: _Timeline) -> None:
        """A sprinkle of the less common types: the organization's settings."""
        rng, store = self.rng, self.store
        allowlist = self.id("ipal_")
        at = self.between(t.start, t.end - 100 * DAY)
        ips = ["203.0.113.0/24", "198.51.100.17/32"]
        t.add(
            at,
            "ip_allowlist.created",
            t.by_owner(),
            {"id": allowlist, "name": "Office egress", "allowed_ips": ips},
        )
        t.add(
            at + DAY,
            "ip_allowlist.config.activated",
            t.by_owner(),
            {"configs": [{"id": allowlist, "name": "Office egress"}]},
            None,
            (allowlist,),
        )
        t.add(
            at + 40 * DAY,
            "ip_allowlist.updated",
            t.by_owner(),
            {"id": allowlist, "allowed_ips": [*ips, "192.0.2.8/32"]},
        )
        t.add(
            self.between(t.start, t.end),
            "organization.updated",
            t.by_owner(),
            {
                "id": store.org_id,
                "changes_requested": {
                    "title": store.org_name,
                    "usage_dashboard_visibility": "OWNERS",
                    "api_call_logging": "enabled_per_call",
                },
            },
        )
        t.add(self.between(t.start, t.end), "scim.enabled", t.by_owner(), {"id": store.org_id})
        ft = f"ft:gpt-4o-mini-2024-07-18:helio::{self.id('', 8)}:ckpt-step-{rng.randint(100, 900)}"
        t.add(
            self.between(t.start, t.end),
            "checkpoint.permission.created",
            t.by_owner(),
            {
                "id": self.id("cp_"),
                "data": {"project_id": store.default_project_id, "fine_tuned_model_checkpoint": ft},
            },
        )
        t.add(
            self.between(t.start, t.end),
            "external_key.registered",
            t.by_owner(),
            {"id": self.id("ek_"), "data": {"provider": "aws_kms"}},
        )

    def _rare_integration_events(self, t: _Timeline) -> None:
        """More of the less common types, including ones with no payload schema."""
        rng, store = self.rng, self.store
        wip = self.id("wip_")
        t.add(
            self.between(t.start, t.end),
            "workload_identity_provider.created",
            t.bot,
            {"id": wip, "data": {"issuer": "https://token.actions.githubusercontent.com"}},
        )
        t.add(
            self.between(t.start, t.end),
            "workload_identity_provider_mapping.created",
            t.bot,
            {
                "id": self.id("wipm_"),
                "identity_provider_id": wip,
                "data": {"subject": "repo:helio/app:ref:refs/heads/main"},
            },
        )
        t.add(
            self.between(t.start, t.end),
            "resource.deleted",
            t.by_owner(),
            None,
            None,
            (self.id("file-"),),
        )
        t.add(self.between(t.start, t.end), "tunnel.created", t.bot, None, None, (self.id("tun_"),))
        tenant_types = [t for t in EVENT_TYPES if t.startswith("tenant.")]
        for _ in range(15 if store.scenario == "demo" else 60):
            t.add(
                self.between(t.start, t.end),
                rng.choice(tenant_types),
                t.by_owner(),
                None,
                None,
                (store.org_id,),
            )
        for _ in range(3):
            t.add(
                self.between(t.start, t.end),
                "role.bound_to_resource",
                t.by_owner(),
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

    def _write(self, t: _Timeline) -> None:
        """Into the audit log, oldest first, each with a seeded id."""
        t.events.sort(key=lambda e: e[0])
        log = self.store.audit
        for at, type_, actor, payload, project, resources in t.events:
            log.add(
                event_id=audit_id(self.id(""), at),
                type=type_,
                effective_at=at,
                actor=actor,
                payload=payload,
                project={"id": project.id, "name": project.name} if project else None,
                resource_ids=(*resources, *((project.id,) if project else ())),
            )


def _ip(rng: random.Random) -> str:
    parts = (rng.choice((81, 92, 104, 185, 203)), *(rng.randint(1, 254) for _ in range(3)))
    return ".".join(str(p) for p in parts)
