"""`GET /audit/teams/{teamId}/events`: the team's audit events, paged.

There is no event type: what happened is only in `description`. *Inferred*: newest first
unless `orderBy=TIME_ASCENDING`; `pageSize` defaults to 100 and is capped at 1,000;
`eventFilter.query` matches the description case-insensitively; `eventTimeFrom` is inclusive and
`eventTimeTo` exclusive; the next token is `nextPageToken`, an empty string on the last page.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from orgadmin.xai.simulator.errors import invalid
from orgadmin.xai.simulator.routing import AUDIT_READ, Request, parse_time, route
from orgadmin.xai.simulator.store import AuditEvent

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
ORDERS = ("TIME_ASCENDING", "TIME_DESCENDING")


def _sort_key(event: AuditEvent) -> tuple[str, int]:
    return event.event_time.isoformat(), event.seq


def _token(event: AuditEvent) -> str:
    raw = json.dumps(list(_sort_key(event))).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(token: str) -> tuple[str, int]:
    try:
        padded = token + "=" * (-len(token) % 4)
        stamp, seq = json.loads(base64.urlsafe_b64decode(padded))
        return str(stamp), int(seq)
    except (ValueError, TypeError):
        raise invalid("Invalid pageToken.") from None


def _filtered(req: Request) -> list[AuditEvent]:
    since = parse_time(req.q("eventTimeFrom", "event_time_from"), "eventTimeFrom")
    until = parse_time(req.q("eventTimeTo", "event_time_to"), "eventTimeTo")
    user_id = req.q("eventFilter.userId", "event_filter.user_id")
    text = (req.q("eventFilter.query", "event_filter.query") or "").lower()
    event_id = req.q("eventFilter.eventId", "event_filter.event_id")
    found = []
    for event in req.store.audit:
        if since is not None and event.event_time < since:
            continue
        if until is not None and event.event_time >= until:
            continue
        if user_id and event.user_id != user_id:
            continue
        if event_id and event.event_id != event_id:
            continue
        if text and text not in event.description.lower():
            continue
        found.append(event)
    return found


@route("GET", "/audit/teams/{teamId}/events", AUDIT_READ)
def list_events(req: Request) -> dict[str, Any]:
    order = req.q("orderBy", "order_by") or "TIME_DESCENDING"
    if order not in ORDERS:
        raise invalid(f"orderBy must be one of {', '.join(ORDERS)}.")
    descending = order == "TIME_DESCENDING"
    size = req.q_int("pageSize", PAGE_SIZE, high=MAX_PAGE_SIZE)
    events = sorted(_filtered(req), key=_sort_key, reverse=descending)
    token = req.q("pageToken", "page_token")
    if token:
        cursor = _cursor(token)
        events = [
            e for e in events if (_sort_key(e) < cursor if descending else _sort_key(e) > cursor)
        ]
    page = events[:size]
    users = req.store.users
    return {
        "events": [req.shaper.audit_event(e, users.get(e.user_id)) for e in page],
        "nextPageToken": _token(page[-1]) if len(events) > size else "",
    }
