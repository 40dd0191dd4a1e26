"""The areas of the Admin API that an admin key may be allowed to read, change, or neither.

OpenAI lets an owner make an admin key "Read only", or "Restricted" with read or write access
chosen per category (help.openai.com, "Managing Admin keys"; a restricted key with
"Organization Administration: Read" lists projects but may not create a service account,
community.openai.com/t/1368874). A request the key may not make is answered 401 with
"You have insufficient permissions for this operation. Missing scopes: api.management.read. …"
(community.openai.com/t/1345041). The dashboard learns such refusals per area: the syncs skip an
area the key may not read, and the pages hide the controls of an area it may not change.

No Django inside: the client, the syncs, the services and the pages all read this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    key: str
    label: str  # lower case, for sentences: "the key can only read {label}"
    title: str  # for lists


AREAS: dict[str, Area] = {
    a.key: a
    for a in (
        Area("members", "members and invites", "Members and invites"),
        Area("projects", "projects and their members", "Projects"),
        Area("keys", "API keys", "API keys and admin keys"),
        Area("certificates", "certificates", "Certificates"),
        Area("rate_limits", "rate limits", "Rate limits"),
        Area("groups_roles", "groups and roles", "Groups and roles"),
        Area("settings", "spend limits, alerts and data retention", "Spend and data retention"),
        Area("audit_log", "the audit log", "Audit log"),
        Area("usage", "usage", "Usage"),
        Area("costs", "costs", "Costs"),
        # xAI's Management API: invoices, the month so far, prepaid balance, spending limits.
        Area("billing", "billing", "Billing"),
    )
}

# Path (after /organization/) → area, the first match wins: the specific paths before the
# general ones.
_PATHS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), area)
    for pattern, area in (
        (r"^users/[^/]+/roles(/|$)", "groups_roles"),
        (r"^(users|invites)(/|$)", "members"),
        (r"^(groups|roles)(/|$)", "groups_roles"),
        (r"^admin_api_keys(/|$)", "keys"),
        (r"^certificates(/|$)", "certificates"),
        (r"^(spend_limit|spend_alerts|data_retention)(/|$)", "settings"),
        (r"^audit_logs(/|$)", "audit_log"),
        (r"^usage(/|$)", "usage"),
        (r"^costs(/|$)", "costs"),
        (r"^projects/[^/]+/(api_keys|service_accounts/[^/]+/api_keys)(/|$)", "keys"),
        (r"^projects/[^/]+/certificates(/|$)", "certificates"),
        (r"^projects/[^/]+/rate_limits(/|$)", "rate_limits"),
        (r"^projects/[^/]+/groups(/|$)", "groups_roles"),
        (r"^projects/[^/]+/(spend_limit|spend_alerts|data_retention)(/|$)", "settings"),
        (r"^projects(/|$)", "projects"),
    )
)

# A refusal that is about what this key may do, not about the key itself: "You have
# insufficient permissions for this operation. Missing scopes: …" (not "Incorrect API key").
_ABOUT_PERMISSIONS = re.compile(r"\b(?:permissions?|scopes?)\b", re.IGNORECASE)


# xAI's Management API (https://management-api.x.ai): its paths carry no /organization/.
_XAI_PATHS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), area)
    for pattern, area in (
        (r"^/auth/management-keys/", ""),  # the key describing itself: no area
        (r"^/auth/", "keys"),
        (r"^/v1/billing/teams/[^/]+/usage$", "costs"),
        (r"^/v1/billing/", "billing"),
        (r"^/audit/", "audit_log"),
    )
)


def area_of(path: str) -> str | None:
    """The area of an API path (`/v1/organization/projects/p/api_keys` → "keys",
    `/v1/billing/teams/t/invoices` → "billing"), or None."""
    _, found, rest = path.partition("/organization/")
    if not found:
        area = next((area for pattern, area in _XAI_PATHS if pattern.search(path)), None)
        return area or None
    return next((area for pattern, area in _PATHS if pattern.search(rest)), None)


def names_permissions(message: str) -> bool:
    """True when an error message is about permissions or scopes."""
    return bool(_ABOUT_PERMISSIONS.search(message or ""))
