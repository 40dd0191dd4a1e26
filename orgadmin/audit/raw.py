"""One raw event (a dict, exactly as the API returned it): safe reads of its fields, its payload
and actor, the names it reveals, and how it maps onto the indexed columns we store.

Pure functions, no Django: the sync, the sentences and the benchmark generator all use them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from orgadmin.audit import untyped
from orgadmin.audit.catalog import MAX_ID_LENGTH, MAX_TYPE_LENGTH, category_of, day_number

# The search text lives in an index: PostgreSQL caps an index entry near 2.7 kB.
SEARCH_TEXT_BYTES = 1200


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


def as_text(value: Any) -> str:
    """A scalar field as stripped text; "" for nothing, a dict or a list."""
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any, limit: int = MAX_ID_LENGTH) -> str:
    return as_text(value)[:limit]


def payload_of(raw: dict) -> dict:
    """The type-specific payload: the key named exactly like the event type (may be absent)."""
    return as_dict(raw.get(raw.get("type") or ""))


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
    if untyped.is_untyped(raw):
        return untyped.names_in(raw)
    names: dict[str, str] = {}
    project = as_dict(raw.get("project"))
    if _str(project.get("id")) and _str(project.get("name")):
        names[_str(project.get("id"))] = _str(project.get("name"), 254)
    who = actor_fields(raw)
    if who["actor_id"] and who["actor_email"]:
        names[who["actor_id"]] = who["actor_email"]
    payload = payload_of(raw)
    names.update(_named_objects(payload))
    section, name_field = _NAME_FIELDS.get(str(raw.get("type")), ("", ""))
    if name_field:
        source = as_dict(payload.get(section)) if section else payload
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
    if untyped.is_untyped(raw):
        return untyped.actor_fields(raw)
    actor = as_dict(raw.get("actor"))
    session = as_dict(actor.get("session"))
    api_key = as_dict(actor.get("api_key"))
    actor_type = _str(actor.get("type"), 20) or (
        "session" if session else "api_key" if api_key else ""
    )
    user = as_dict(session.get("user")) or as_dict(api_key.get("user"))
    service_account = as_dict(api_key.get("service_account"))
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
    if untyped.is_untyped(raw):
        # No type, only a description: stored under one neutral type (orgadmin.audit.untyped).
        columns = untyped.columns(raw)
        if columns is None:
            raise MalformedEvent(f"event {raw.get('eventId') or '?'} has no valid eventTime")
        return Normalized(**columns)
    event_id = _str(raw.get("id"))
    event_type = _str(raw.get("type"), MAX_TYPE_LENGTH)
    try:
        effective_at = dt.datetime.fromtimestamp(int(raw.get("effective_at")), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise MalformedEvent(f"event {event_id or '?'} has no valid effective_at") from None
    if not event_id or not event_type:
        raise MalformedEvent("an event without an id or a type")
    project = as_dict(raw.get("project"))
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
