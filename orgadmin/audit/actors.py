"""Who really acted: an audit event made with the dashboard's admin key, paired with the line
of our own action log that made it. Pure functions, no Django.

OpenAI records the admin key's owner as the actor of every change made through this dashboard.
Our action log knows the person who clicked. The two are the same change when they name the
same resource within MATCH_WINDOW of each other (and, when both carry a request id, the same
one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

# Not a setting: it is a property of the two logs, not of a deployment. OpenAI stamps the event
# when it makes the change and our line is written right after its answer, so the two are
# seconds apart; five minutes leaves room for a slow answer and a skewed clock, while the same
# resource changed twice through the dashboard by two people within five minutes stays rare
# (and then the nearest line in time wins).
MATCH_WINDOW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Candidate:
    """One action-log line as the pairing sees it."""

    key: int  # the line's primary key
    resource_id: str
    at: dt.datetime
    request_id: str = ""


def request_id_of(raw: object) -> str:
    """The request id an event carries, if any (the spec has none; a future field may)."""
    if not isinstance(raw, dict):
        return ""
    value = raw.get("request_id")
    return value.strip() if isinstance(value, str) else ""


def best_match(
    *, resource_ids: Iterable[str], at: dt.datetime, request_id: str, candidates: list[Candidate]
) -> Candidate | None:
    """The action line nearest in time to an event at `at` touching `resource_ids`, within
    MATCH_WINDOW; a line and an event that both have a request id must agree on it."""
    wanted = {r for r in resource_ids if r}
    best: Candidate | None = None
    for c in candidates:
        if c.resource_id not in wanted or abs(c.at - at) > MATCH_WINDOW:
            continue
        if request_id and c.request_id and request_id != c.request_id:
            continue
        if best is None or abs(c.at - at) < abs(best.at - at):
            best = c
    return best


def via_dashboard(person: str, owner: str) -> str:
    """The label: "Ana Silva via this dashboard (admin key of Jamal Haddad)"."""
    return f"{person} via this dashboard (admin key of {owner or 'an unknown owner'})"
