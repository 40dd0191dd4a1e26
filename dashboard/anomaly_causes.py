"""Anomalies in an organization's synced costs, and their likely causes: reads only.

`anomaly_episodes` reads each API key's, project's and model's daily cost from the cost rollup
and runs the detector (`dashboard.anomaly`). `episode_causes` says, for each episode, what
moved against its usual days (the keys, projects, models and line items whose cost rose most
over the same weekdays of the 4 weeks before) and which changes people made those days (a key
created, a rate limit or a project changed: the audit log), each with a link for the page.

Our tables only, never the API; a fixed number of queries whatever the number of episodes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Q, Sum
from django.urls import reverse

from dashboard import anomaly
from dashboard.anomaly import Episode, GroupKey
from dashboard.models import CostBucket, CostRollup
from dashboard.selectors import main_currency, names_for
from orgadmin.models import AuditEvent, Organization

DIMENSIONS = ("api_key_id", "project_id", "model")  # what the detector watches
MOVER_DIMENSIONS = ("api_key_id", "project_id", "model", "line_item")  # what a cause names
HISTORY_DAYS = anomaly.FIT_DAYS + 5 * anomaly.PERIOD  # what one detection reads
USUAL_WEEKS = 4  # a day's usual cost: the median of the same weekday over these weeks before
TOP_MOVERS = 3  # per dimension
CONTEXT_DAYS = 14  # a cost link shows these days before the episode too
# Changes that plausibly explain a jump in spend, and how the page names them.
CHANGE_TYPES = {
    "api_key.created": "API key created",
    "api_key.updated": "API key changed",
    "rate_limit.updated": "Rate limit changed",
    "rate_limit.deleted": "Rate limit removed",
    "project.created": "Project created",
    "project.updated": "Project changed",
    "project.archived": "Project archived",
    "service_account.created": "Service account created",
}


@dataclass(frozen=True)
class Link:
    """A page to link to: `reverse(url_name, args=args)` followed by `?query`."""

    url_name: str
    args: tuple[str, ...] = ()
    query: tuple[tuple[str, str], ...] = ()

    def url(self) -> str:
        path = reverse(self.url_name, args=self.args)
        return f"{path}?{urlencode(self.query)}" if self.query else path


@dataclass(frozen=True)
class Mover:
    """One key, project, model or line item whose cost rose over the episode's days."""

    dimension: str
    value: str
    name: str  # what a person recognises: the directory's name, else the id itself
    actual: Decimal  # over the episode's days, in dollars to the cent
    usual: Decimal  # the same days' usual cost (same weekdays of the weeks before)
    link: Link  # the Costs page, filtered to it, around the episode

    @property
    def change(self) -> Decimal:
        return self.actual - self.usual


@dataclass(frozen=True)
class Change:
    """A change people made on or the day before the episode's days, in its scope."""

    event_id: str
    type: str
    label: str  # "Rate limit changed"
    effective_at: dt.datetime
    actor: str
    project_id: str
    resource_id: str
    link: Link  # the audit event's page


@dataclass(frozen=True)
class Cause:
    """Why an episode likely happened: its group first, then what else moved, biggest first,
    and the changes people made."""

    movers: tuple[Mover, ...]
    changes: tuple[Change, ...]

    def top(self, dimension: str) -> Mover | None:
        """The mover of that dimension whose cost rose most, if any rose."""
        return next((m for m in self.movers if m.dimension == dimension), None)


def anomaly_episodes(
    *,
    org: Organization,
    today: dt.date,
    expected: anomaly.Expected = frozenset(),
    since: dt.date | None = None,
    min_impact: Decimal = anomaly.MIN_IMPACT,
) -> list[Episode]:
    """The detector's episodes over the organization's synced costs by key, project and model
    (UTC days, the main currency), touching [since, today): see `anomaly.detect` (2 queries)."""
    since = since or today - dt.timedelta(days=anomaly.RECENT_DAYS)
    start = since - dt.timedelta(days=HISTORY_DAYS)
    series = anomaly_series(org=org, start=start, end=today)
    related = anomaly_related(org=org, start=since - dt.timedelta(days=anomaly.PERIOD), end=today)
    return anomaly.detect(
        series, today=today, since=since, expected=expected, min_impact=min_impact, related=related
    )


def anomaly_series(
    *, org: Organization, start: dt.date, end: dt.date, dimensions: Sequence[str] = DIMENSIONS
) -> dict[GroupKey, list[tuple[dt.date, Decimal]]]:
    """Each key's, project's and model's cost per UTC day in [start, end), in the currency most
    of it is in, from the cost rollup (one query)."""
    rows = (
        CostRollup.objects.filter(org=org, dimension__in=dimensions, day__gte=start, day__lt=end)
        .exclude(value="")
        .values("currency", "dimension", "value", "day")
        .annotate(amount=Sum("amount"))
        .order_by("dimension", "value", "day")
    )
    by_currency: dict[str, dict[GroupKey, list[tuple[dt.date, Decimal]]]] = defaultdict(dict)
    totals: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        group = (row["dimension"], row["value"])
        by_currency[row["currency"]].setdefault(group, []).append((row["day"], row["amount"]))
        if row["dimension"] == dimensions[0]:
            spent = totals[row["currency"]]
            spent[row["value"]] = spent.get(row["value"], Decimal(0)) + row["amount"]
    return by_currency.get(main_currency(totals), {})


def anomaly_related(
    *, org: Organization, start: dt.date, end: dt.date
) -> dict[GroupKey, set[GroupKey]]:
    """Which finer groups feed each coarser one in [start, end): a project its keys, a model
    the keys and projects that used it (one query)."""
    combos = (
        CostBucket.objects.filter(org=org, day__gte=start, day__lt=end)
        .values_list("api_key_id", "project_id", "model")
        .distinct()
    )
    related: dict[GroupKey, set[GroupKey]] = defaultdict(set)
    for key, project, model in combos:
        if key:
            related[("project_id", project)].add(("api_key_id", key))
            related[("model", model)].add(("api_key_id", key))
        related[("model", model)].add(("project_id", project))
    return dict(related)


def episode_causes(*, org: Organization, episodes: Sequence[Episode]) -> list[Cause]:
    """Each episode's likely cause, in the episodes' order (at most 3 queries, whatever their
    number)."""
    if not episodes:
        return []
    costs = _cost_rows(org, episodes)
    changes = _changes(org, episodes)
    movers = [_movers(e, costs) for e in episodes]
    names = names_for(
        org=org,
        ids={m[1] for found in movers for m in found if m[0] in ("api_key_id", "project_id")},
    )
    return [
        Cause(
            movers=tuple(_mover(e, m, names) for m in found),
            changes=tuple(c for c in changes if _in_scope(c, e, found)),
        )
        for e, found in zip(episodes, movers, strict=True)
    ]


# --- costs -------------------------------------------------------------------------------------

_Row = tuple[dt.date, str, str, str, str, Decimal]  # day, key, project, model, line item, amount


def _usual_days(day: dt.date) -> list[dt.date]:
    return [day - dt.timedelta(days=anomaly.PERIOD * w) for w in range(1, USUAL_WEEKS + 1)]


def _cost_rows(org: Organization, episodes: Sequence[Episode]) -> list[_Row]:
    """The cost rows of the episodes' days and of their usual days, within the episodes' groups
    (one query)."""
    days: set[dt.date] = set()
    scope = Q()
    for episode in episodes:
        for d in episode.days:
            days |= {d.day, *_usual_days(d.day)}
        scope |= Q(**{episode.group[0]: episode.group[1]})
    rows = (
        CostBucket.objects.filter(scope, org=org, day__in=sorted(days))
        .values_list("day", "api_key_id", "project_id", "model", "line_item")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    return list(rows)


def _movers(episode: Episode, rows: Iterable[_Row]) -> list[tuple[str, str, Decimal, Decimal]]:
    """(dimension, value, actual, usual) of the episode's group, then of the values of each
    other dimension whose cost rose most within it (TOP_MOVERS each), biggest rise first."""
    at = {d: i for i, d in enumerate(("api_key_id", "project_id", "model", "line_item"), 1)}
    own = at[episode.group[0]]
    days = {d.day for d in episode.days}
    usual_of = {u: d for d in days for u in _usual_days(d)}
    # {(dimension, value): {episode day: [actual, [usual day amounts]]}}
    sums: dict[tuple[str, str], dict[dt.date, list]] = defaultdict(dict)
    for row in rows:
        if row[own] != episode.group[1]:
            continue
        day = row[0]
        for dim in MOVER_DIMENSIONS:
            cell = sums[(dim, row[at[dim]])]
            if day in days:
                cell.setdefault(day, [Decimal(0), defaultdict(Decimal)])[0] += row[5]
            elif day in usual_of:
                slot = cell.setdefault(usual_of[day], [Decimal(0), defaultdict(Decimal)])
                slot[1][day] += row[5]
    found = []
    for (dim, value), cells in sums.items():
        actual = sum((c[0] for c in cells.values()), Decimal(0))
        usual = sum((_usual(d, c[1]) for d, c in cells.items()), Decimal(0))
        found.append((dim, value, anomaly.cents(actual), anomaly.cents(usual)))
    mine = [f for f in found if (f[0], f[1]) == episode.group]
    others = sorted(
        (f for f in found if f[0] != episode.group[0] and f[2] > f[3] and f[1]),
        key=lambda f: (-(f[2] - f[3]), f[0], f[1]),
    )
    picked: dict[str, int] = defaultdict(int)
    top = []
    for f in others:
        if picked[f[0]] < TOP_MOVERS:
            picked[f[0]] += 1
            top.append(f)
    return mine + top


def _usual(day: dt.date, amounts: dict[dt.date, Decimal]) -> Decimal:
    """The median of the day's usual days (a usual day without cost cost 0)."""
    values = sorted(amounts.get(u, Decimal(0)) for u in _usual_days(day))
    middle = len(values) // 2
    return (values[middle - 1] + values[middle]) / 2


def _mover(
    episode: Episode, found: tuple[str, str, Decimal, Decimal], names: dict[str, str]
) -> Mover:
    dim, value, actual, usual = found
    start = episode.start - dt.timedelta(days=CONTEXT_DAYS)
    end = episode.end + dt.timedelta(days=1)
    query = (
        ("start", start.isoformat()),
        ("end", end.isoformat()),
        ("tz", "UTC"),
        ("group_by", "line_item" if dim != "line_item" else "api_key_id"),
        (dim, value),
    )
    return Mover(dim, value, names.get(value, value), actual, usual, Link("costs", (), query))


# --- changes -----------------------------------------------------------------------------------


def _changes(org: Organization, episodes: Sequence[Episode]) -> list[Change]:
    """The audit log's changes (CHANGE_TYPES) on the episodes' days and the days before them
    (one query)."""
    days: set[int] = set()
    for episode in episodes:
        first = episode.start - dt.timedelta(days=1)
        for i in range((episode.end - first).days + 1):
            days.add((first + dt.timedelta(days=i) - dt.date(1970, 1, 1)).days)
    events = (
        AuditEvent.objects.filter(org=org, day__in=sorted(days), type__in=list(CHANGE_TYPES))
        .order_by("effective_at", "id")
        .values_list("event_id", "type", "effective_at", "actor_key", "project_id", "resource_id")
    )
    return [
        Change(
            event_id=event_id,
            type=kind,
            label=CHANGE_TYPES[kind],
            effective_at=at,
            actor=actor,
            project_id=project,
            resource_id=resource,
            link=Link("orgadmin:audit_event", (event_id,)),
        )
        for event_id, kind, at, actor, project, resource in events
    ]


def _in_scope(
    change: Change, episode: Episode, movers: Collection[tuple[str, str, Decimal, Decimal]]
) -> bool:
    """A change within the episode's days (or the day before) that touches its group or one
    of the keys and projects that moved with it."""
    first = episode.start - dt.timedelta(days=1)
    if not first <= change.effective_at.astimezone(dt.UTC).date() <= episode.end:
        return False
    ids = {value for dim, value, *_ in movers if dim in ("api_key_id", "project_id")}
    return bool({change.project_id, change.resource_id} & ids)
