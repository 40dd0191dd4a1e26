"""What we know about audit event types: the SDK's list, their categories, and how one raw event
(a dict, exactly as the API returned it) maps onto the indexed columns we store.

Pure functions, no Django: the sync, the selectors and the benchmark generator all use them. An
event type we have never heard of is still stored and shown; it only gets a generic category.
"""

from __future__ import annotations

import datetime as dt
import typing
from dataclasses import dataclass, field
from typing import Any

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
# The search text lives in an index: PostgreSQL caps an index entry near 2.7 kB.
SEARCH_TEXT_BYTES = 1200


def category_of(event_type: str) -> str:
    """The category of a type: `certificates.activated` → `certificate`; unknown → first segment."""
    head = (event_type or "").split(".", 1)[0].strip().lower() or "other"
    return _CATEGORY_ALIASES.get(head, head)[:60]


def category_label(category: str) -> str:
    return CATEGORIES.get(category) or category.replace("_", " ").capitalize()


def category_types(category: str) -> list[str]:
    """The known types of a category, in spec order."""
    return [t for t in EVENT_TYPES if category_of(t) == category]


def day_number(moment: dt.datetime) -> int:
    """Days since 1970-01-01 (UTC) of an aware datetime."""
    return (moment.astimezone(dt.UTC).date() - dt.date(1970, 1, 1)).days


def date_of_day(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


@dataclass
class Normalized:
    """The indexed columns of one event, and the ids it touches."""

    event_id: str
    type: str
    category: str
    effective_at: dt.datetime
    day: int
    actor_type: str = ""
    actor_id: str = ""
    actor_email: str = ""
    actor_key: str = ""
    api_key_id: str = ""
    ip_address: str = ""
    user_agent: str = ""
    project_id: str = ""
    project_name: str = ""
    resource_id: str = ""
    resource_ids: list[str] = field(default_factory=list)
    search_text: str = ""
    names: dict[str, str] = field(default_factory=dict)


class MalformedEvent(ValueError):
    """An event without the three fields the spec requires (id, type, effective_at)."""


def _str(value: Any, limit: int = MAX_ID_LENGTH) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()[:limit]


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def payload_of(raw: dict) -> dict:
    """The type-specific payload: the key named exactly like the event type (may be absent)."""
    return _dict(raw.get(raw.get("type") or ""))


def _ids_in(value: Any, key: str = "", depth: int = 0) -> list[str]:
    """Every id-like string in a payload: `id`, `*_id` and `*_ids` keys, also inside lists."""
    if depth > 4:
        return []
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _ids_in(v, k, depth + 1)
    elif isinstance(value, list):
        for item in value[:200]:
            found += _ids_in(item, key if isinstance(item, str) else "", depth + 1)
    elif isinstance(value, str) and (key == "id" or key.endswith(("_id", "_ids"))):
        text = value.strip()
        if text and len(text) <= MAX_ID_LENGTH and " " not in text:
            found.append(text)
    return found


def _strings_in(value: Any, depth: int = 0) -> list[str]:
    """Short string values of a payload, for the free-text search."""
    if depth > 4:
        return []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings_in(v, depth + 1)]
    if isinstance(value, list):
        return [s for v in value[:50] for s in _strings_in(v, depth + 1)]
    if isinstance(value, str) and len(value) <= 200:
        return [value]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [str(value)]
    return []


# Where a payload names the thing its `id` points at: type → (section, field).
_NAME_FIELDS = {
    "project.created": ("data", "title"),
    "project.updated": ("changes_requested", "title"),
    "invite.sent": ("data", "email"),
    "group.created": ("data", "group_name"),
    "group.updated": ("changes_requested", "group_name"),
    "role.created": ("", "role_name"),
    "role.updated": ("changes_requested", "role_name"),
}


def _named_objects(value: Any, depth: int = 0) -> dict[str, str]:
    """`{"id": …, "name": …}` pairs anywhere in a payload (certificates, allowlists, …)."""
    if depth > 4:
        return {}
    found: dict[str, str] = {}
    if isinstance(value, dict):
        object_id, name = _str(value.get("id")), _str(value.get("name"), 254)
        if object_id and name:
            found[object_id] = name
        for v in value.values():
            found.update(_named_objects(v, depth + 1))
    elif isinstance(value, list):
        for v in value[:200]:
            found.update(_named_objects(v, depth + 1))
    return found


def names_in(raw: dict) -> dict[str, str]:
    """Every id → name pair an event reveals: project, actor email, names in the payload."""
    names: dict[str, str] = {}
    project = _dict(raw.get("project"))
    if _str(project.get("id")) and _str(project.get("name")):
        names[_str(project.get("id"))] = _str(project.get("name"), 254)
    who = actor_fields(raw)
    if who["actor_id"] and who["actor_email"]:
        names[who["actor_id"]] = who["actor_email"]
    payload = payload_of(raw)
    names.update(_named_objects(payload))
    section, name_field = _NAME_FIELDS.get(str(raw.get("type")), ("", ""))
    if name_field:
        source = _dict(payload.get(section)) if section else payload
        object_id, name = _str(payload.get("id")), _str(source.get(name_field), 254)
        if not name and raw.get("type") == "project.created":
            name = _str(source.get("name"), 254)
        if object_id and name:
            names[object_id] = name
    connector, connector_name = (
        _str(payload.get("connector_id")),
        _str(payload.get("connector_name")),
    )
    if connector and connector_name:
        names[connector] = connector_name
    return names


def actor_fields(raw: dict) -> dict[str, str]:
    """Who did it: the actor's type, id, email, key id, IP and user agent (blank when unknown)."""
    actor = _dict(raw.get("actor"))
    session = _dict(actor.get("session"))
    api_key = _dict(actor.get("api_key"))
    actor_type = _str(actor.get("type"), 20) or (
        "session" if session else "api_key" if api_key else ""
    )
    user = _dict(session.get("user")) or _dict(api_key.get("user"))
    service_account = _dict(api_key.get("service_account"))
    actor_id = _str(user.get("id")) or _str(service_account.get("id"))
    email = _str(user.get("email"), 254).lower()
    key_id = _str(api_key.get("id"))
    return {
        "actor_type": actor_type,
        "actor_id": actor_id,
        "actor_email": email,
        # One name per actor for filters and facets: the email, else the service account,
        # else the key.
        "actor_key": (email or actor_id or key_id)[:254],
        "api_key_id": key_id,
        "ip_address": _str(session.get("ip_address"), 64),
        "user_agent": _str(session.get("user_agent"), 500),
    }


def normalize(raw: dict) -> Normalized:
    """Map one raw event onto our columns. Raises MalformedEvent without id, type or time."""
    if not isinstance(raw, dict):
        raise MalformedEvent("not an object")
    event_id = _str(raw.get("id"))
    event_type = _str(raw.get("type"), MAX_TYPE_LENGTH)
    try:
        effective_at = dt.datetime.fromtimestamp(int(raw.get("effective_at")), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise MalformedEvent(f"event {event_id or '?'} has no valid effective_at") from None
    if not event_id or not event_type:
        raise MalformedEvent("an event without an id or a type")
    project = _dict(raw.get("project"))
    payload = payload_of(raw)
    who = actor_fields(raw)
    resources = list(dict.fromkeys(_ids_in(payload)))
    primary = _str(payload.get("id")) or (resources[0] if resources else "")
    project_id = _str(project.get("id"))
    project_name = _str(project.get("name"))
    # What a person types to find an event: ids, emails, addresses, names and payload values.
    # Not the type or the actor's kind (filters do those), nor the user agent: every byte here
    # is read by each free-text search.
    searchable = ("actor_id", "actor_email", "actor_key", "api_key_id", "ip_address")
    words = [
        *(who[key] for key in searchable),
        project_id,
        project_name,
        *resources,
        *_strings_in(payload),
    ]
    search = " ".join(dict.fromkeys(w.lower() for w in words if w))
    search = search.encode()[:SEARCH_TEXT_BYTES].decode(errors="ignore")
    return Normalized(
        event_id=event_id,
        type=event_type,
        category=category_of(event_type),
        effective_at=effective_at,
        day=day_number(effective_at),
        project_id=project_id,
        project_name=project_name,
        resource_id=primary,
        resource_ids=resources,
        search_text=search,
        names=names_in(raw),
        **who,
    )
