"""The model vendors a connection can manage, and what each one's API lets the dashboard do.

A page or a sync asks a connection for a capability (`org.capabilities`, `has_capability`),
never for its provider's name: an xAI team has keys, billing, costs and an audit log through
its Management API, but no members, invites, projects or certificates, which are managed in the
xAI console. `capability_of_page` says which pages need what, and
`orgadmin.middleware.ProviderCapabilityMiddleware` answers a page the connection's API lacks
with a note that says where it is managed.

No Django inside: the models, the middleware, the navigation and the syncs all read this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Capability(StrEnum):
    MEMBERS = "members"  # users and invites
    GROUPS_ROLES = "groups_roles"
    PROJECTS = "projects"  # projects, their members, service accounts and rate limits
    PROJECT_KEYS = "project_keys"  # OpenAI's project API keys and admin keys
    CERTIFICATES = "certificates"
    ORG_SETTINGS = "org_settings"  # spend limits and alerts, data retention
    USAGE = "usage"  # token usage by family
    COSTS = "costs"  # costs synced into the cost tables
    AUDIT_LOG = "audit_log"
    TEAM_KEYS = "team_keys"  # xAI's team API keys, with ACLs and limits
    BILLING = "billing"  # invoices, the month so far, prepaid balance, spending limits


@dataclass(frozen=True)
class Provider:
    key: str
    label: str
    default_base_url: str
    key_noun: str  # what the connection's key is called: "admin key", "management key"
    key_prefix: str  # the key's visible kind, kept in its masked form
    key_help: str
    key_settings: str  # where the key's permissions are given: "…'s dashboard (… › Admin keys)"
    key_check: str  # what "Check again" asks of the API about what the key may do
    read_refused: str  # how it was learnt that the key may not read an area
    write_refused: str  # how it was learnt that the key may only read an area
    costs_source: str  # what the Costs page shows, in a sentence
    console: str  # where what the API lacks is managed
    console_url: str
    capabilities: frozenset[Capability]


OPENAI = Provider(
    key="openai",
    label="OpenAI",
    default_base_url="https://api.openai.com/v1",
    key_noun="admin key",
    key_prefix="sk-admin-",
    key_help="An admin key from platform.openai.com → Settings → Organization → Admin keys.",
    key_settings="OpenAI's dashboard (Organization settings › Admin keys)",
    read_refused="OpenAI refused a read",
    write_refused="OpenAI refused a change there",
    key_check=(
        "Check again reads each area once and, in each it may read, tries a change aimed at no "
        "existing object (nothing changes at OpenAI). When OpenAI's answer says nothing either "
        "way (an outage, a rate limit), what was known stays."
    ),
    costs_source="What OpenAI bills, per day and line item, as its costs API reports it.",
    console="the OpenAI platform",
    console_url="https://platform.openai.com/settings/organization",
    capabilities=frozenset(Capability) - {Capability.TEAM_KEYS, Capability.BILLING},
)

XAI = Provider(
    key="xai",
    label="xAI",
    default_base_url="https://management-api.x.ai",
    key_noun="management key",
    key_prefix="xai-",
    key_help="A management key from console.x.ai → Settings → Management Keys (not an API key).",
    key_settings="the xAI console (Settings › Management Keys)",
    read_refused="the key's ACLs grant no read",
    write_refused="the key's ACLs grant no write",
    key_check="Check again reads the management key's ACLs from xAI again: nothing is changed.",
    costs_source=(
        "What xAI bills this team, per day, billed item and API key, as its usage analytics "
        "report it."
    ),
    console="the xAI console",
    console_url="https://console.x.ai",
    capabilities=frozenset(
        {Capability.TEAM_KEYS, Capability.BILLING, Capability.COSTS, Capability.AUDIT_LOG}
    ),
)

PROVIDERS: dict[str, Provider] = {p.key: p for p in (OPENAI, XAI)}


def provider_named(key: str) -> Provider:
    """The provider of a connection (OpenAI for anything unknown, as every connection was)."""
    return PROVIDERS.get(key, OPENAI)


# URL name → the capability its page or action needs, the first match wins. URLs not matched here
# (Overview, Costs, the audit log, Activity, Connections, People) work for every provider.
_PAGES: tuple[tuple[re.Pattern[str], Capability], ...] = tuple(
    (re.compile(pattern), capability)
    for pattern, capability in (
        (r"^orgadmin:(member_role|member_group_add|group|role)", Capability.GROUPS_ROLES),
        (r"^orgadmin:(member|invite|directory_)", Capability.MEMBERS),
        (r"^access(_export|_changes)?$", Capability.MEMBERS),  # orgadmin/access_matrix/
        (r"^hygiene", Capability.MEMBERS),  # orgadmin/hygiene/: findings from the directory
        (r"^orgadmin:(keys|admin_key|project_key_|service_account_key_)", Capability.PROJECT_KEYS),
        (r"^orgadmin:(project|service_account|rate_limit)", Capability.PROJECTS),
        (r"^orgadmin:(org_settings|org_retention|certificate)", Capability.ORG_SETTINGS),
        (r"^usage(_export)?$", Capability.USAGE),
        (r"^orgadmin:team_key", Capability.TEAM_KEYS),
        (r"^orgadmin:billing", Capability.BILLING),
    )
)


def capability_of_page(url_name: str) -> Capability | None:
    """The capability the page or action of a URL name (`namespace:name`) needs, if any."""
    return next((c for pattern, c in _PAGES if pattern.search(url_name)), None)


CAPABILITY_TITLES: dict[Capability, str] = {
    Capability.MEMBERS: "Members and invites",
    Capability.GROUPS_ROLES: "Groups and roles",
    Capability.PROJECTS: "Projects",
    Capability.PROJECT_KEYS: "Project keys and admin keys",
    Capability.CERTIFICATES: "Certificates",
    Capability.ORG_SETTINGS: "Organization settings",
    Capability.USAGE: "Token usage",
    Capability.COSTS: "Costs",
    Capability.AUDIT_LOG: "Audit log",
    Capability.TEAM_KEYS: "Team API keys",
    Capability.BILLING: "Billing",
}
