"""Anomaly alerts: each episode of unusual spend the detector finds is one Alert over its life.

`anomalies_check(org=, today=)` runs after a usage sync. Each episode (`dashboard.anomaly_causes`:
a key's, project's or model's run of unusual days, with what it folds) is the alert
"<dimension>:<value>:<first day>": raised once (the channels hear of it once), updated while it
lasts (its days, amounts and cause; no new message), and ended when a normal day follows or the
episode is gone (`alert_end`: "Ended: …" once, unless people marked it expected).

Marking an alert expected teaches the detector: its details keep the (group, day) pairs of
`Episode.marked()`, and every check passes those of the alerts marked expected as `expected=`.
Those days count as normal and take no part in any later day's history (`dashboard.anomaly`),
so the same episode doesn't fire again. One marked expected while it still goes on is carried
on: the days that follow it (an episode starting the day after its last marked day) are added
to it, and make no new alert.

Reads: 2 queries of alerts, the detector's 2, the causes' 3 (none without episodes). Writes only
for an alert raised, changed or ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from dashboard import anomaly
from dashboard.alerts.models import Alert
from dashboard.alerts.services import alert_end, alert_raise
from dashboard.anomaly import Episode
from dashboard.anomaly_causes import HISTORY_DAYS, Cause, anomaly_episodes, episode_causes
from orgadmin.models import Organization

# How people call a group in a sentence.
WORDS = {"api_key_id": "key", "project_id": "project", "model": "model", "line_item": "line item"}
# An alert marked expected teaches the checks while its days may still be in what they read.
TEACH_DAYS = HISTORY_DAYS + anomaly.RECENT_DAYS + 4 * anomaly.PERIOD
MOVERS_SAID = 3  # the summary names this many other movers; the details keep them all
CHANGES_SAID = 3
MAX_RATIO = Decimal(100)  # above this (or nothing usual), the title says the dollars instead

Pair = tuple[tuple[str, str], dt.date]


@dataclass(frozen=True)
class Report:
    """What an alert says of an episode: its title, its summary (the message's body) and its
    details (JSON-safe: amounts as strings, days ISO), which the inbox shows."""

    title: str
    summary: str
    details: dict[str, Any]


def anomalies_check(*, org: Organization, today: dt.date) -> list[Alert]:
    """Raise, update and end `org`'s anomaly alerts from its synced costs (`today`: the UTC day
    under way). Returns the alerts of the episodes found now, biggest excess first."""
    taught = _expected_alerts(org, today)
    pairs = {pair for alert in taught for pair in marked_pairs(alert)}
    episodes = anomaly_episodes(org=org, today=today, expected=pairs)
    causes = episode_causes(org=org, episodes=episodes)
    known = _known_alerts(org, [episode_key(e) for e in episodes])
    found: list[Alert] = []
    for episode, cause in zip(episodes, causes, strict=True):
        carried = _carrying(taught, episode)
        if carried is not None:
            found.append(_carry_on(carried, episode))
        else:
            report = episode_report(episode, cause, today=today)
            found.append(_keep(org, known.get(episode_key(episode)), episode, report))
    seen = {alert.pk for alert in found}
    yesterday = today - dt.timedelta(days=1)
    for alert in [*known.values(), *taught]:
        if alert.pk in seen or not alert.ongoing:
            continue
        seen.add(alert.pk)
        if alert.state == Alert.State.EXPECTED:
            if _last_marked(alert) < yesterday:  # nothing carried it on: over
                alert_end(alert=alert)
        else:  # its days no longer look unusual (costs revised, or explained otherwise)
            alert_end(alert=alert, summary=f"{alert.summary} It no longer shows as unusual.")
    return found


def episode_key(episode: Episode) -> str:
    """What makes an episode the same alert from one check to the next."""
    dimension, value = episode.group
    return f"{dimension}:{value}:{episode.start.isoformat()}"


def marked_pairs(alert: Alert) -> set[Pair]:
    """The (group, day) pairs an alert's episode covers, as `anomaly.detect(expected=)` takes
    them, from its details."""
    pairs: set[Pair] = set()
    for dimension, value, day in alert.details.get("marked", []):
        pairs.add(((dimension, value), dt.date.fromisoformat(day)))
    return pairs


# --- reads ---------------------------------------------------------------------------------


def _expected_alerts(org: Organization, today: dt.date) -> list[Alert]:
    """The anomaly alerts marked expected whose days a check may still read (one query)."""
    since = dt.datetime.combine(today - dt.timedelta(days=TEACH_DAYS), dt.time(), dt.UTC)
    return list(
        Alert.objects.filter(
            org=org, kind=Alert.Kind.ANOMALY, state=Alert.State.EXPECTED, opened_at__gte=since
        )
    )


def _known_alerts(org: Organization, keys: Sequence[str]) -> dict[str, Alert]:
    """The anomaly alerts still going on, and those of the episodes found now (one query)."""
    rows = Alert.objects.filter(Q(ongoing=True) | Q(key__in=keys), org=org, kind=Alert.Kind.ANOMALY)
    return {alert.key: alert for alert in rows}


# --- writes --------------------------------------------------------------------------------


def _keep(org: Organization, alert: Alert | None, episode: Episode, report: Report) -> Alert:
    """Raise the episode's alert, or bring it up to date when something changed (no message);
    end it once a normal day followed the episode."""
    if alert is None or not _same(alert, report) or (episode.open and not alert.ongoing):
        alert, created = alert_raise(
            org=org,
            kind=Alert.Kind.ANOMALY,
            key=episode_key(episode),
            title=report.title,
            summary=report.summary,
            details=report.details,
            ongoing=episode.open,
        )
        if created:
            return alert
    if not episode.open and alert.ongoing:
        alert_end(alert=alert, summary=report.summary)
    return alert


def _same(alert: Alert, report: Report) -> bool:
    return (alert.title, alert.summary, alert.details) == (
        report.title,
        report.summary,
        report.details,
    )


def _carrying(taught: Iterable[Alert], episode: Episode) -> Alert | None:
    """The alert marked expected that this episode carries on: same group, and its last marked
    day of that group is the day before the episode starts."""
    before = episode.start - dt.timedelta(days=1)
    for alert in taught:
        if tuple(alert.details.get("group", ())) == episode.group and _last_marked(alert) == before:
            return alert
    return None


def _last_marked(alert: Alert) -> dt.date:
    own = tuple(alert.details.get("group", ()))
    days = [day for group, day in marked_pairs(alert) if group == own]
    return max(days, default=dt.date.min)


def _carry_on(alert: Alert, episode: Episode) -> Alert:
    """Add the days of an episode that carries on one marked expected to it: they are taught
    too from the next check on. No new alert, no message; it stays expected. (Its days are
    not marked yet, else they would be normal: each is counted once.)"""
    before = alert.details.get("summary_before_carried") or alert.summary
    carried = Decimal(alert.details.get("carried_excess", "0")) + episode.excess
    details = {
        **alert.details,
        "marked": _pairs_json(marked_pairs(alert) | episode.marked()),
        "carried_to": episode.end.isoformat(),
        "carried_excess": str(carried),
        "summary_before_carried": before,
    }
    summary = (
        f"{before} Marked expected; it went on through {_day(episode.end)} "
        f"({_usd(carried)} more than usual)."
    )
    alert, _ = alert_raise(
        org=alert.org,
        kind=Alert.Kind.ANOMALY,
        key=alert.key,
        title=alert.title,
        summary=summary,
        details=details,
        ongoing=episode.open,
    )
    if not episode.open:
        alert_end(alert=alert)
    return alert


# --- what the alert says -------------------------------------------------------------------


def episode_report(episode: Episode, cause: Cause, *, today: dt.date) -> Report:
    """The alert's title, summary and details for an episode and its likely cause."""
    dimension, value = episode.group
    own = next((m for m in cause.movers if (m.dimension, m.value) == episode.group), None)
    name = own.name if own is not None else value
    what = f"{WORDS.get(dimension, dimension)} “{name}”"
    ratio = _ratio(episode)
    when = f"since {_day(episode.start)}" if episode.open else f"on {_span(episode)}"
    how = f"{ratio}× its usual" if ratio else f"up {_usd(episode.excess)}"
    title = f"Spend on {what} {how} {when}"
    return Report(
        title=title,
        summary=_summary(episode, cause, what, today=today),
        details=_details(episode, cause, name, ratio),
    )


def _summary(episode: Episode, cause: Cause, what: str, *, today: dt.date) -> str:
    n = len(episode.days)
    peak = episode.peak
    parts = [
        f"{_usd(episode.actual)} on {what} on {_span(episode)} ({n} day{'s' if n != 1 else ''}), "
        f"where {_usd(episode.expected)} was usual: {_usd(episode.excess)} more.",
        f"Highest on {_day(peak.day)}: {_usd(peak.actual)} (usually {_usd(peak.expected)}).",
    ]
    others = [m for m in cause.movers if (m.dimension, m.value) != episode.group]
    if others:
        said = ", ".join(
            f"{WORDS[m.dimension]} “{m.name}” +{_usd(m.change)}" for m in others[:MOVERS_SAID]
        )
        parts.append(f"Rose with it: {said}.")
    if cause.changes:
        said = ", ".join(
            f"{c.label} ({_day(c.effective_at.astimezone(dt.UTC).date())})"
            for c in cause.changes[:CHANGES_SAID]
        )
        parts.append(f"Changes those days: {said}.")
    if episode.open:
        parts.append(f"Still going on as of {_day(today - dt.timedelta(days=1))}.")
    else:
        parts.append(f"Back to usual on {_day(episode.end + dt.timedelta(days=1))}.")
    return " ".join(parts)


def _details(episode: Episode, cause: Cause, name: str, ratio: str) -> dict[str, Any]:
    dimension, value = episode.group
    return {
        "group": [dimension, value],
        "word": WORDS.get(dimension, dimension),
        "name": name,
        "currency": "usd",
        "start": episode.start.isoformat(),
        "end": episode.end.isoformat(),
        "days": len(episode.days),
        "open": episode.open,
        "actual": str(episode.actual),
        "expected": str(episode.expected),
        "excess": str(episode.excess),
        "ratio": ratio,
        "peak": {
            "day": episode.peak.day.isoformat(),
            "label": _day(episode.peak.day),
            "actual": str(episode.peak.actual),
        },
        "daily": [
            {"day": d.day.isoformat(), "actual": str(d.actual), "expected": str(d.expected)}
            for d in episode.days
        ],
        "related": _related(episode, cause),
        "movers": [
            {
                "word": WORDS[m.dimension],
                "dimension": m.dimension,
                "value": m.value,
                "name": m.name,
                "actual": str(m.actual),
                "usual": str(m.usual),
                "change": str(m.change),
                "url": m.link.url(),
            }
            for m in cause.movers
        ],
        "changes": [
            {
                "label": c.label,
                "type": c.type,
                "at": c.effective_at.astimezone(dt.UTC).isoformat(),
                "when": f"{_day(c.effective_at.astimezone(dt.UTC))}, "
                f"{c.effective_at.astimezone(dt.UTC):%H:%M} UTC",
                "actor": c.actor,
                "url": c.link.url(),
            }
            for c in cause.changes
        ],
        "marked": _pairs_json(episode.marked()),
    }


def _related(episode: Episode, cause: Cause) -> list[dict[str, str]]:
    """The coarser episodes this one explains (its project's, its models'), named."""
    names = {(m.dimension, m.value): m.name for m in cause.movers}
    return [
        {
            "word": WORDS.get(r.group[0], r.group[0]),
            "value": r.group[1],
            "name": names.get(r.group, r.group[1]),
            "excess": str(r.excess),
        }
        for r in episode.related
    ]


def _pairs_json(pairs: Iterable[Pair]) -> list[list[str]]:
    return sorted([group[0], group[1], day.isoformat()] for group, day in pairs)


def _ratio(episode: Episode) -> str:
    """How many times its usual the episode cost ("4.8"), or "" when that says nothing."""
    if episode.expected <= 0:
        return ""
    ratio = episode.actual / episode.expected
    return "" if ratio >= MAX_RATIO else str(ratio.quantize(Decimal("0.1")))


def _usd(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _day(day: dt.date) -> str:
    return f"{day:%b} {day.day}"


def _span(episode: Episode) -> str:
    if episode.start == episode.end:
        return _day(episode.start)
    return f"{_day(episode.start)} – {_day(episode.end)}"
