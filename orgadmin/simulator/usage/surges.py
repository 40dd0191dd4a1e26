"""Extra usage planted on one API key on top of a built scenario: a spike of a few days ending
yesterday, or a weekly batch job (one big weekday, every week of the history).

A surge is applied after the scenario is built and draws nothing from its random generator, so
the scenario's own numbers stay as they are (tests pin them) and only the key's chosen days
change: every stream of the key is multiplied by `factor` on those days, its usage and costs
alike, as the scenario's own one-day spikes are. A spike also leaves the trace people often
leave before a big run: that morning, the key's project got a higher rate limit on the key's
main model (a `rate_limit.updated` event in the audit log, and the limit itself).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from orgadmin.simulator.audit import Actor, audit_id
from orgadmin.simulator.store import Store
from orgadmin.simulator.usage.engine import UsageEngine
from orgadmin.simulator.usage.families import DAY, FAMILIES

BUSIEST_OVER_DAYS = 28  # `key_id=None` picks the key that cost most over these days
WEEKLY_AHEAD_DAYS = 120  # a weekly job goes on after "now" too, for clocks that move on


@dataclass(frozen=True)
class Surge:
    """`factor` times a key's usage on `days` days ending yesterday, or, with `weekday`
    (0 Monday … 6 Sunday), on every such day of the history and beyond."""

    factor: float = 5.0
    days: int = 3
    key_id: str | None = None  # None: the key that cost most over the last 28 complete days
    weekday: int | None = None
    rate_limit_change: bool = True  # a spike's trace in the audit log (not for a weekly job)

    def __post_init__(self) -> None:
        if self.factor <= 0 or self.days < 1:
            raise ValueError("a surge needs a positive factor and at least one day")
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise ValueError("weekday is 0 (Monday) to 6 (Sunday)")


def surge_apply(store: Store, surge: Surge, *, history_days: int) -> Surge:
    """Plant `surge` in the store's usage (and audit log); returns it with its key id filled in."""
    engine = store.usage
    anchor_day = engine.anchor_day
    key_id = surge.key_id or next(iter(busiest_keys(engine)), None)
    if key_id is None:
        raise ValueError("no API key has any cost to surge")
    if surge.weekday is None:
        days = range(anchor_day - surge.days, anchor_day)
        if surge.rate_limit_change:
            _rate_limit_raised(store, key_id, at=days[0] * DAY + 8 * 3600)
    else:
        days = range(anchor_day - history_days, anchor_day + WEEKLY_AHEAD_DAYS)
        days = [d for d in days if (d + 3) % 7 == surge.weekday]  # 1970-01-01 was a Thursday
    for day in days:
        engine.spikes[(day, key_id)] = engine.spikes.get((day, key_id), 1.0) * surge.factor
    engine.forget_days()
    return replace(surge, key_id=key_id)


def _rate_limit_raised(store: Store, key_id: str, *, at: int) -> None:
    """The key's project's rate limit on the key's main model, 4 times higher from `at`."""
    key = store.api_keys[key_id]
    project = store.projects[key.project_id]
    at_model = FAMILIES["completions"].dims.index("model")
    streams = store.usage.key_streams.get(key_id, ())
    models = [s.dims[at_model] for s in streams if s.family == "completions"]
    limits = sorted(project.rate_limits.values(), key=lambda rl: (rl.model not in models, rl.id))
    if not limits:
        return
    limit = limits[0]
    field = "max_requests_per_1_minute"
    if field not in limit.limits:
        return
    raised = min(limit.limits[field] * 4, limit.org_limits.get(field, limit.limits[field] * 4))
    limit.limits[field] = raised
    owner = store.users.get(key.owner_id) if key.owner_type == "user" else None
    store.audit.add(
        event_id=audit_id(f"surge{key_id.removeprefix('key_')}", at),
        type="rate_limit.updated",
        effective_at=at,
        actor=Actor("session", owner.id, owner.email, ip_address="104.28.44.10") if owner else None,
        payload={"id": limit.id, "changes_requested": {field: raised}},
        project={"id": project.id, "name": project.name},
    )


def busiest_keys(engine: UsageEngine, count: int = 1) -> list[str]:
    """The `count` API keys that cost most over the last BUSIEST_OVER_DAYS complete days."""
    end = engine.anchor_day * DAY
    start = end - BUSIEST_OVER_DAYS * DAY
    groups = engine.cost_groups(
        start, end, now=end, width=None, base=start, group_by=("api_key_id",), filters={}
    )
    totals = {key: slot[0] for (key,), slot in groups.get(0, {}).items() if key}
    return sorted(totals, key=lambda key: (-totals[key], key))[:count]
