"""Raw audit events shaped like the API's, for the facet tests and the 500,000-event benchmark.

Not an API: these dicts go straight into `audit_events_store`, the same code the sync uses for
each page. The mix is that of a large organization: sign-ins by many people dominate, admins
change keys, limits and members, automation acts through service-account keys, and a slice of
tenant-level and never-seen-before types that have no payload schema.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from orgadmin.audit import EVENT_TYPES

# (type, weight): roughly what a busy organization's year looks like.
MIX: list[tuple[str, float]] = [
    ("login.succeeded", 40),
    ("logout.succeeded", 12),
    ("login.failed", 4),
    ("api_key.created", 4),
    ("api_key.updated", 1),
    ("api_key.deleted", 3),
    ("rate_limit.updated", 4),
    ("rate_limit.deleted", 0.5),
    ("user.added", 2),
    ("user.updated", 1.5),
    ("user.deleted", 1),
    ("invite.sent", 2),
    ("invite.accepted", 1.5),
    ("invite.deleted", 0.5),
    ("project.created", 0.5),
    ("project.updated", 0.5),
    ("project.archived", 0.2),
    ("service_account.created", 1),
    ("service_account.updated", 0.5),
    ("service_account.deleted", 0.5),
    ("certificate.created", 0.2),
    ("certificates.activated", 0.2),
    ("group.created", 0.3),
    ("group.updated", 0.3),
    ("role.created", 0.3),
    ("role.updated", 0.5),
    ("role.assignment.created", 0.7),
    ("organization.updated", 0.3),
    ("ip_allowlist.updated", 0.3),
    ("resource.deleted", 0.5),
    ("tenant.*", 10),  # any tenant-scoped type: no payload schema
    ("future.*", 0.2),  # types no spec lists yet
]
TENANT_TYPES = [t for t in EVENT_TYPES if t.startswith("tenant.")]
FUTURE_TYPES = ["quantum_link.created", "quantum_link.entangled", "agent.memory.wiped"]
MODELS = ["gpt-4o", "gpt-4o-mini", "o3", "gpt-4.1", "text-embedding-3-large", "whisper-1"]
LIMIT_FIELDS = ["max_requests_per_1_minute", "max_tokens_per_1_minute", "max_requests_per_1_day"]
AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
]


class Org:
    """The people, projects and keys of a made-up organization of a given size."""

    def __init__(self, rng: random.Random, *, users: int, projects: int, accounts: int) -> None:
        self.users = [(f"user-{i:05d}", f"person{i:05d}@acme.example") for i in range(users)]
        self.admins = self.users[: max(3, users // 40)]
        self.projects = [(f"proj_{i:06d}", f"Project {i:03d}") for i in range(projects)]
        self.accounts = [(f"svc_acct_{i:04d}", f"key_sa{i:04d}") for i in range(accounts)]
        self.rng = rng
        # Some people and projects are much busier than others.
        self.user_weights = [1 / (i + 1) ** 0.6 for i in range(users)]
        self.project_weights = [1 / (i + 1) ** 0.8 for i in range(projects)]

    def user(self) -> tuple[str, str]:
        return self.rng.choices(self.users, self.user_weights)[0]

    def project(self) -> tuple[str, str]:
        return self.rng.choices(self.projects, self.project_weights)[0]


def _session(rng: random.Random, user: tuple[str, str]) -> dict:
    return {
        "type": "session",
        "session": {
            "user": {"id": user[0], "email": user[1]},
            "ip_address": f"203.0.{rng.randrange(256)}.{rng.randrange(256)}",
            "user_agent": rng.choice(AGENTS),
        },
    }


def _api_key(account: tuple[str, str]) -> dict:
    return {
        "type": "api_key",
        "api_key": {
            "id": account[1],
            "type": "service_account",
            "service_account": {"id": account[0]},
        },
    }


def _payload(rng: random.Random, org: Org, event_type: str, n: int) -> dict:
    rid = f"{n:08x}"
    if event_type == "api_key.created":
        return {"id": f"key_{rid}", "data": {"scopes": ["api.model.request"]}}
    if event_type == "api_key.updated":
        return {"id": f"key_{rid}", "changes_requested": {"scopes": ["api.model.read"]}}
    if event_type in ("api_key.deleted", "invite.accepted", "invite.deleted", "resource.deleted"):
        return {"id": f"{event_type.split('.')[0]}_{rid}"}
    if event_type == "rate_limit.updated":
        field = rng.choice(LIMIT_FIELDS)
        return {
            "id": f"rl-{rng.choice(MODELS)}",
            "changes_requested": {field: rng.choice([500, 1000, 5000, 10000])},
        }
    if event_type == "rate_limit.deleted":
        return {"id": f"rl-{rng.choice(MODELS)}"}
    if event_type in ("user.added", "service_account.created"):
        return {"id": org.user()[0], "data": {"role": rng.choice(["owner", "member"])}}
    if event_type in ("user.updated", "service_account.updated"):
        return {"id": org.user()[0], "changes_requested": {"role": rng.choice(["owner", "member"])}}
    if event_type in ("user.deleted", "service_account.deleted"):
        return {"id": org.user()[0]}
    if event_type == "invite.sent":
        return {
            "id": f"invite-{rid}",
            "data": {"email": f"new{rid}@acme.example", "role": "reader"},
        }
    if event_type == "project.created":
        return {"id": f"proj_{rid}", "data": {"name": f"p{rid}", "title": f"New project {rid}"}}
    if event_type == "project.updated":
        project = org.project()
        return {"id": project[0], "changes_requested": {"title": f"{project[1]} (renamed)"}}
    if event_type == "project.archived":
        return {"id": org.project()[0]}
    if event_type == "certificate.created":
        return {"id": f"cert_{rid}", "name": f"Cert {rid}"}
    if event_type == "certificates.activated":
        return {"certificates": [{"id": f"cert_{rid}", "name": f"Cert {rid}"}]}
    if event_type == "group.created":
        return {"id": f"group_{rid}", "data": {"group_name": f"Team {rid}"}}
    if event_type == "group.updated":
        return {"id": f"group_{rid}", "changes_requested": {"group_name": f"Team {rid}b"}}
    if event_type == "role.created":
        return {
            "id": f"role_{rid}",
            "role_name": f"Role {rid}",
            "permissions": ["api.groups.read"],
            "resource_type": "api.organization",
        }
    if event_type == "role.updated":
        return {"id": f"role_{rid}", "changes_requested": {"permissions_added": ["api.x.read"]}}
    if event_type == "role.assignment.created":
        return {
            "id": f"role_{rid}",
            "principal_id": org.user()[0],
            "principal_type": "user",
            "resource_id": org.project()[0],
            "resource_type": "api.project",
        }
    if event_type == "organization.updated":
        return {"id": "org-acme", "changes_requested": {"title": "Acme"}}
    if event_type == "ip_allowlist.updated":
        return {"id": "ipal_main", "allowed_ips": [f"198.51.100.{rng.randrange(256)}/32"]}
    if event_type == "login.failed":
        return {"error_code": "invalid_credentials", "error_message": "Wrong password"}
    return {}


def generate(
    count: int, *, start: int, end: int, seed: int = 0, org: Org | None = None
) -> Iterator[dict]:
    """`count` raw events with effective_at spread over [start, end) (Unix seconds), oldest
    first, each a dict as the audit log API returns it."""
    rng = random.Random(seed)
    if org is None:
        org = Org(
            rng,
            users=max(20, count // 400),
            projects=max(5, min(60, count // 5000)),
            accounts=max(4, min(40, count // 10000)),
        )
    kinds, weights = zip(*MIX, strict=True)
    span = end - start
    for n in range(count):
        event_type = rng.choices(kinds, weights)[0]
        if event_type == "tenant.*":
            event_type = rng.choice(TENANT_TYPES)
        elif event_type == "future.*":
            event_type = rng.choice(FUTURE_TYPES)
        event: dict = {
            "id": f"audit_log-{seed:02d}{n:08d}",
            "type": event_type,
            "effective_at": start + (n * span) // count + rng.randrange(max(1, span // count)),
        }
        if event_type.startswith(("login.", "logout.")):
            event["actor"] = _session(rng, org.user())
        elif rng.random() < 0.3:
            event["actor"] = _api_key(rng.choice(org.accounts))
        else:
            event["actor"] = _session(rng, rng.choice(org.admins))
        scoped = event_type.split(".")[0] in ("api_key", "rate_limit", "service_account")
        if scoped or (event_type.startswith("user.") and rng.random() < 0.5):
            project = org.project()
            event["project"] = {"id": project[0], "name": project[1]}
        payload = _payload(rng, org, event_type, n)
        if payload or not event_type.startswith("tenant."):
            event[event_type] = payload
        yield event
