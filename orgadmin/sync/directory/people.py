"""The directory's people: the organization's users and its invites."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orgadmin.models import Invite, Organization, OrgUser
from orgadmin.sync.directory.base import Fetcher, replace_rows, ts


def user_fields(u: Any) -> dict[str, Any]:
    return {
        "openai_id": u.id,
        "email": u.email or "",
        "name": u.name or "",
        "role": u.role or "",
        "added_at": ts(u.added_at),
    }


def invite_fields(i: Any) -> dict[str, Any]:
    return {
        "openai_id": i.id,
        "email": i.email,
        "role": i.role,
        "status": i.status,
        "created_at": ts(i.created_at),
        "expires_at": ts(i.expires_at),
        "accepted_at": ts(i.accepted_at),
        "projects": [{"id": p.id, "role": p.role} for p in (i.projects or [])],
    }


def sync_users(org: Organization, f: Fetcher) -> Callable[[], int]:
    rows = [user_fields(u) for u in f.all(lambda: f.api.users.list(limit=100))]
    return lambda: replace_rows(OrgUser, scope={"org": org}, key="openai_id", rows=rows)


def sync_invites(org: Organization, f: Fetcher) -> Callable[[], int]:
    rows = [invite_fields(i) for i in f.all(lambda: f.api.invites.list(limit=100))]
    return lambda: replace_rows(Invite, scope={"org": org}, key="openai_id", rows=rows)
