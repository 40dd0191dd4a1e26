"""Audit events that come with no type: when, who, and a description of what happened.

xAI's audit log sends exactly that (`eventId`, `eventTime`, `description`, `user {userId, email,
givenName, familyName, profileImageUrl}`), and what happened is only in the description's words.
Such an event is stored as it came, under one neutral type (`UNTYPED_TYPE`): no type is guessed
from the words. Its sentence is the description as sent, its actor the user.

The raw event's shape says which reading applies (`is_untyped`), not the connection's provider.
Pure functions, no Django.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from orgadmin.audit.catalog import (
    MAX_ID_LENGTH,
    UNTYPED_CATEGORY,
    UNTYPED_TYPE,
    day_number,
)

# The search text lives in an index (see orgadmin.audit.raw.SEARCH_TEXT_BYTES).
_SEARCH_BYTES = 1200
# RFC 3339 as proto JSON writes it: up to nine fractional digits, "Z" or an offset.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def is_untyped(raw: Any) -> bool:
    """True for an event that has no type, only an id, a time and a description."""
    return isinstance(raw, dict) and "type" not in raw and "eventId" in raw


def _text(value: Any, limit: int = MAX_ID_LENGTH) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()[:limit]


def user_of(raw: dict) -> dict:
    user = raw.get("user")
    return user if isinstance(user, dict) else {}


def event_time(raw: dict) -> dt.datetime | None:
    """`eventTime` as an aware datetime (microseconds kept, nanoseconds dropped), or None."""
    text = _text(raw.get("eventTime"), 64)
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(_FRACTION.sub(r"\1", text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def person_name(raw: dict) -> str:
    """The user's name as the event gives it: "givenName familyName" ("" when it has none)."""
    user = user_of(raw)
    parts = (_text(user.get("givenName"), 120), _text(user.get("familyName"), 120))
    return " ".join(p for p in parts if p)[:254]


def description_of(raw: dict) -> str:
    """What happened, as sent."""
    value = raw.get("description")
    return value if isinstance(value, str) else _text(value, 2000)


def actor_fields(raw: dict) -> dict[str, str]:
    """The actor columns (as orgadmin.audit.raw.actor_fields gives them): always a user."""
    user = user_of(raw)
    user_id = _text(user.get("userId"))
    email = _text(user.get("email"), 254).lower()
    return {
        "actor_type": "user" if (user_id or email) else "",
        "actor_id": user_id,
        "actor_email": email,
        "actor_key": (email or user_id)[:254],
        "api_key_id": "",
        "ip_address": "",
        "user_agent": "",
    }


def names_in(raw: dict) -> dict[str, str]:
    """The user's name under their id and their email, for labels and the name search."""
    who = actor_fields(raw)
    name = person_name(raw)
    if name:
        return {key: name for key in (who["actor_id"], who["actor_email"]) if key}
    return {who["actor_id"]: who["actor_email"]} if who["actor_id"] and who["actor_email"] else {}


def columns(raw: dict) -> dict[str, Any] | None:
    """The indexed columns of an untyped event (see orgadmin.audit.raw.Normalized); None
    without an id or a valid time."""
    event_id = _text(raw.get("eventId"))
    moment = event_time(raw)
    if not event_id or moment is None:
        return None
    who = actor_fields(raw)
    # What a person types to find one: the description's words, the user's names, email and id.
    words = [description_of(raw), person_name(raw), who["actor_email"], who["actor_id"]]
    search = " ".join(dict.fromkeys(w.lower() for w in words if w))
    return {
        "event_id": event_id,
        "type": UNTYPED_TYPE,
        "category": UNTYPED_CATEGORY,
        "effective_at": moment,
        "day": day_number(moment),
        "search_text": search.encode()[:_SEARCH_BYTES].decode(errors="ignore"),
        "names": names_in(raw),
        **who,
    }
