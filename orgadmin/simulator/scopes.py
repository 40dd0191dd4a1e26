"""Restricted and read-only admin keys: which requests a key may make, and the refusal.

OpenAI lets an owner give an admin key "All" permissions, "Read only" (read every endpoint,
change nothing), or "Restricted": read, write or none chosen per category (help.openai.com,
"Managing Admin keys", and "Assign API Key Permissions" for the same choice on project keys).
The spec declares none of it. What the live API answers to a request the key may not make was
published on the OpenAI community forum (community.openai.com/t/1345041 and /t/1368874): HTTP
401 with

    {"error": {"message": "You have insufficient permissions for this operation. Missing
     scopes: api.management.read. Check that you have the correct role in your organization,
     and if you're using a restricted API key, that it has the necessary scopes.",
     "type": "invalid_request_error", "param": null, "code": null}}

The live API names one scope for its "Organization Administration" category
(`api.management.read` / `.write`). The simulator's categories are finer, one per area of the
dashboard, and their scope names are its own, on the same `api.<area>.<read|write>` pattern as
the role permissions in the spec's examples (`api.groups.read`, `api.projects.write`).

A key's permissions are `None` (all), or {area: "write" | "read" | "none"}; `"*"` gives the
default for the areas not named (a restricted key the live UI makes defaults to none).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from orgadmin.simulator.errors import ApiError

# (path pattern under /organization/, area, scope prefix): the first match wins.
_AREAS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), area, scope)
    for pattern, area, scope in (
        (r"^users/[^/]+/roles(/|$)", "groups_roles", "api.groups"),
        (r"^(users|invites)(/|$)", "members", "api.members"),
        (r"^(groups|roles)(/|$)", "groups_roles", "api.groups"),
        (r"^admin_api_keys(/|$)", "keys", "api.keys"),
        (r"^certificates(/|$)", "certificates", "api.certificates"),
        (r"^(spend_limit|spend_alerts|data_retention)(/|$)", "settings", "api.billing"),
        (r"^audit_logs(/|$)", "audit_log", "api.audit_logs"),
        (r"^usage(/|$)", "usage", "api.usage"),
        (r"^costs(/|$)", "costs", "api.costs"),
        (r"^projects/[^/]+/(api_keys|service_accounts/[^/]+/api_keys)(/|$)", "keys", "api.keys"),
        (r"^projects/[^/]+/certificates(/|$)", "certificates", "api.certificates"),
        (r"^projects/[^/]+/rate_limits(/|$)", "rate_limits", "api.rate_limits"),
        (r"^projects/[^/]+/groups(/|$)", "groups_roles", "api.groups"),
        (
            r"^projects/[^/]+/(spend_limit|spend_alerts|data_retention)(/|$)",
            "settings",
            "api.billing",
        ),
        (r"^projects(/|$)", "projects", "api.projects"),
    )
)
AREAS: tuple[str, ...] = tuple(dict.fromkeys(area for _, area, _ in _AREAS))
LEVELS = ("none", "read", "write")
READ_ONLY: dict[str, str] = {"*": "read"}


def area_of(template: str) -> tuple[str, str] | None:
    """(area, scope prefix) of a route template such as `/organization/projects/{id}/users`."""
    rest = template.removeprefix("/organization/")
    return next(((a, s) for pattern, a, s in _AREAS if pattern.search(rest)), None)


def parse_permissions(spec: str | Mapping[str, str] | None) -> dict[str, str] | None:
    """Permissions from the command line's or a test's words: None or "all" (everything),
    "read_only", or "area=level,…" / {area: level} (levels none, read, write; `*` for the
    other areas, which are "write" unless given). Raises ValueError naming what is wrong."""
    if spec is None or spec == "all":
        return None
    if spec in ("read_only", "read-only"):
        return dict(READ_ONLY)
    if isinstance(spec, str):
        pairs = [part.partition("=") for part in spec.split(",") if part.strip()]
        if any(not sep for _, sep, _ in pairs):
            raise ValueError("write permissions as area=level, e.g. audit_log=none,members=read")
        spec = {k.strip(): v.strip() for k, _, v in pairs}
    permissions = {"*": "write", **spec}
    unknown = sorted(set(permissions) - {"*", *AREAS})
    if unknown:
        raise ValueError(f"unknown area(s) {', '.join(unknown)}; areas: {', '.join(AREAS)}")
    bad = sorted(f"{k}={v}" for k, v in permissions.items() if v not in LEVELS)
    if bad:
        raise ValueError(f"unknown level(s) {', '.join(bad)}; levels: {', '.join(LEVELS)}")
    return permissions


def check(permissions: Mapping[str, str] | None, method: str, template: str) -> None:
    """Refuse, as the live API does, a request the key's permissions don't cover."""
    if permissions is None:
        return
    found = area_of(template)
    if found is None:
        return
    area, scope = found
    level = permissions.get(area, permissions.get("*", "none"))
    needed = "read" if method == "GET" else "write"
    if LEVELS.index(level) >= LEVELS.index(needed):
        return
    raise ApiError(
        401,
        f"You have insufficient permissions for this operation. Missing scopes: "
        f"{scope}.{needed}. Check that you have the correct role in your organization, and if "
        "you're using a restricted API key, that it has the necessary scopes.",
    )
