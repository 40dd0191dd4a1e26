"""What we know about audit event types: the SDK's list, their categories, and days.

Pure functions, no Django. An event type we have never heard of is still stored and shown; it
only gets a generic category.
"""

from __future__ import annotations

import datetime as dt
import typing

from openai.types.admin.organization.audit_log_list_params import AuditLogListParams


def _sdk_event_types() -> tuple[str, ...]:
    """The event types openai-python knows, in its (the spec's) order: the spec's 145 and the
    ones added since (external_storage.*, tenant.trusted_access.*)."""
    hints = typing.get_type_hints(AuditLogListParams)
    (literal,) = typing.get_args(hints["event_types"])
    return typing.get_args(literal)


EVENT_TYPES: tuple[str, ...] = _sdk_event_types()
KNOWN_TYPES = frozenset(EVENT_TYPES)

# Category (the resource an event is about) → label, in the order the filters list them.
CATEGORIES: dict[str, str] = {
    "api_key": "API keys",
    "certificate": "Certificates",
    "checkpoint": "Fine-tuning checkpoints",
    "external_key": "External keys",
    "external_storage": "External storage",
    "group": "Groups",
    "invite": "Invites",
    "ip_allowlist": "IP allowlists",
    "login": "Sign-ins",
    "organization": "Organization",
    "project": "Projects",
    "rate_limit": "Rate limits",
    "resource": "Resources",
    "role": "Roles",
    "scim": "SCIM",
    "service_account": "Service accounts",
    "tunnel": "Tunnels",
    "user": "Users",
    "workload_identity": "Workload identity",
    "tenant": "Tenant",
}
# First segments that belong to another category.
_CATEGORY_ALIASES = {
    "certificates": "certificate",
    "logout": "login",
    "workload_identity_provider": "workload_identity",
    "workload_identity_provider_mapping": "workload_identity",
}
# Resource families whose ids repeat across projects (a rate limit id is "rl-gpt-4o" in every
# project), so their history is per project.
PROJECT_SCOPED_CATEGORIES = frozenset({"rate_limit", "service_account", "user"})
# Of those, the ones that exist only inside a project: an event about one that came without its
# project (the live API sends such events) can't be placed in any project's history.
PROJECT_BOUND_CATEGORIES = frozenset({"rate_limit", "service_account"})

MAX_TYPE_LENGTH = 120
MAX_ID_LENGTH = 200

# Events that come with no type, only a description of what happened and who did it (xAI's
# audit log), are stored under this one neutral type: no type is guessed from the words.
# orgadmin.audit.untyped reads them.
UNTYPED_TYPE = "xai.event"
UNTYPED_CATEGORY = "xai"
_OTHER_LABELS = {UNTYPED_CATEGORY: "xAI"}


def category_of(event_type: str) -> str:
    """The category of a type: `certificates.activated` → `certificate`; unknown → first segment."""
    head = (event_type or "").split(".", 1)[0].strip().lower() or "other"
    return _CATEGORY_ALIASES.get(head, head)[:60]


def category_label(category: str) -> str:
    return (
        CATEGORIES.get(category)
        or _OTHER_LABELS.get(category)
        or category.replace("_", " ").capitalize()
    )


def category_types(category: str) -> list[str]:
    """The known types of a category, in spec order."""
    return [t for t in EVENT_TYPES if category_of(t) == category]


def day_number(moment: dt.datetime) -> int:
    """Days since 1970-01-01 (UTC) of an aware datetime."""
    return (moment.astimezone(dt.UTC).date() - dt.date(1970, 1, 1)).days


def date_of_day(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)
