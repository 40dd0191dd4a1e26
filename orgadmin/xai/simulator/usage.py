"""`POST /v1/billing/teams/{team_id}/usage`: the analytics query over the seeded usage.

The store holds whole cents per UTC day × billed item × API key. A day's cents are spread over
its hours by a fixed profile (integer parts that sum exactly), so hourly buckets and ranges read
in any IANA timezone are answered exactly, and every answer sums to `Store.usage_cents`.
*Inferred*: usage is attributed to the start of its hour (sub-hour buckets see it there); a
missing timezone means UTC; an unknown group-by, filter field, value or time unit is a 400; the
point cap is 10,000 (series × buckets): beyond it `limitReached` is true and later series (or a
single series' later points) are left out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orgadmin.xai.simulator.errors import invalid
from orgadmin.xai.simulator.shapes import timestamp
from orgadmin.xai.simulator.store import Store

MAX_POINTS = 10_000
GROUP_FIELDS = ("description", "api_key_id")
DIURNAL = (2, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 10, 9, 10, 10, 9, 8, 7, 6, 5, 4, 4, 3, 3)
UNITS = (
    "TIME_UNIT_MONTH",
    "TIME_UNIT_CALENDAR_WEEK",
    "TIME_UNIT_DAY",
    "TIME_UNIT_HOUR",
    "TIME_UNIT_QUARTER_HOUR",
    "TIME_UNIT_MINUTE",
    "TIME_UNIT_SECOND",
    "TIME_UNIT_NONE",
)
_FORMAT = "%Y-%m-%d %H:%M:%S"


def hour_parts(cents: int) -> list[int]:
    """A day's cents spread over its 24 UTC hours; the parts sum to `cents` exactly."""
    total = sum(DIURNAL)
    parts = [cents * w // total for w in DIURNAL]
    order = sorted(range(24), key=lambda h: (-DIURNAL[h], h))
    for h in order[: cents - sum(parts)]:
        parts[h] += 1
    return parts


def get(obj: dict[str, Any], camel: str, snake: str, default: Any = None) -> Any:
    """A field by its JSON name or its proto name (grpc-gateway accepts both)."""
    return obj.get(camel, obj.get(snake, default))


class Query:
    """A parsed, checked analytics request."""

    def __init__(self, body: dict[str, Any]) -> None:
        request = get(body, "analyticsRequest", "analytics_request")
        if not isinstance(request, dict):
            raise invalid("analyticsRequest is required.")
        self.zone, self.start, self.end = _time_range(get(request, "timeRange", "time_range"))
        self.unit = _unit(get(request, "timeUnit", "time_unit"))
        self.values = _values(request.get("values"))
        self.group_by = _strings(get(request, "groupBy", "group_by", []), "groupBy")
        unknown = [g for g in self.group_by if g not in GROUP_FIELDS]
        if unknown:
            raise invalid(f"Cannot group by {unknown[0]!r}.")
        self.filters = [_filter(f) for f in _strings(request.get("filters", []), "filters")]

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def floor(self, local: datetime) -> datetime:
        unit = self.unit
        if unit == "TIME_UNIT_NONE":
            return self.local(self.start)
        if unit == "TIME_UNIT_MONTH":
            return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if unit in ("TIME_UNIT_CALENDAR_WEEK", "TIME_UNIT_DAY"):
            day = local.replace(hour=0, minute=0, second=0, microsecond=0)
            if unit == "TIME_UNIT_DAY":
                return day
            return day - timedelta(days=day.weekday())
        if unit == "TIME_UNIT_HOUR":
            return local.replace(minute=0, second=0, microsecond=0)
        if unit == "TIME_UNIT_QUARTER_HOUR":
            return local.replace(minute=local.minute // 15 * 15, second=0, microsecond=0)
        if unit == "TIME_UNIT_MINUTE":
            return local.replace(second=0, microsecond=0)
        return local.replace(microsecond=0)

    def step(self, local: datetime) -> datetime:
        steps = {
            "TIME_UNIT_CALENDAR_WEEK": timedelta(days=7),
            "TIME_UNIT_DAY": timedelta(days=1),
            "TIME_UNIT_HOUR": timedelta(hours=1),
            "TIME_UNIT_QUARTER_HOUR": timedelta(minutes=15),
            "TIME_UNIT_MINUTE": timedelta(minutes=1),
            "TIME_UNIT_SECOND": timedelta(seconds=1),
        }
        if self.unit == "TIME_UNIT_MONTH":
            year, month = divmod(local.year * 12 + local.month, 12)
            return local.replace(year=year, month=month + 1)
        return local + steps[self.unit]

    def buckets(self) -> tuple[list[datetime], bool]:
        """The local starts of the buckets (dense over the range) and whether they were capped."""
        if self.unit == "TIME_UNIT_NONE":
            return [self.local(self.start)], False
        end = self.local(self.end)
        cursor = self.floor(self.local(self.start))
        starts = []
        while cursor < end:
            if len(starts) == MAX_POINTS:
                return starts, True
            starts.append(cursor)
            cursor = self.step(cursor)
        return starts, False

    def keeps(self, description: str, api_key_id: str) -> bool:
        row = {"description": description, "api_key_id": api_key_id}
        return all(row[name] == value for name, value in self.filters)


def _time_range(raw: Any) -> tuple[ZoneInfo, datetime, datetime]:
    if not isinstance(raw, dict):
        raise invalid("analyticsRequest.timeRange is required.")
    name = raw.get("timezone") or "UTC"
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"Unknown timezone {name!r}.") from None
    bounds = []
    for camel, snake in (("startTime", "start_time"), ("endTime", "end_time")):
        text = get(raw, camel, snake)
        try:
            local = datetime.strptime(str(text), _FORMAT)
        except ValueError:
            raise invalid(f"timeRange.{camel} must look like YYYY-MM-DD HH:MM:SS.") from None
        bounds.append(local.replace(tzinfo=zone).astimezone(UTC))
    if bounds[1] <= bounds[0]:
        raise invalid("timeRange.endTime must be after timeRange.startTime.")
    return zone, bounds[0], bounds[1]


def _unit(raw: Any) -> str:
    if isinstance(raw, int) and 1 <= raw <= len(UNITS):
        return UNITS[raw - 1]
    if raw not in UNITS:
        raise invalid(f"Invalid timeUnit {raw!r}.")
    return raw


def _values(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise invalid("analyticsRequest.values must name at least one value.")
    names = []
    for value in raw:
        if not isinstance(value, dict) or value.get("name") != "usd":
            raise invalid("The only value that can be measured is 'usd'.")
        if value.get("aggregation") not in ("AGGREGATION_SUM", 1):
            raise invalid("The value 'usd' supports AGGREGATION_SUM only.")
        names.append("usd")
    return names


def _strings(raw: Any, name: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise invalid(f"{name} must be a list of strings.")
    return raw


def _filter(text: str) -> tuple[str, str]:
    field, sep, value = text.partition(":")
    if not sep or field.strip() not in GROUP_FIELDS:
        raise invalid(f"Cannot filter on {text!r}: use api_key_id:<id> or description:<item>.")
    return field.strip(), value.strip()


def _accumulate(store: Store, query: Query, index: dict[datetime, int]) -> dict[tuple, list[int]]:
    """Cents per group per bucket."""
    series: dict[tuple, list[int]] = defaultdict(lambda: [0] * max(len(index), 1))
    day = query.start.date()
    last = (query.end - timedelta(microseconds=1)).date()
    while day <= last:
        rows = store.usage.get(day)
        if rows:
            hours = _hours_by_bucket(query, index, day)
            for description, key_id, cents in rows:
                if not query.keeps(description, key_id):
                    continue
                group = tuple(description if g == "description" else key_id for g in query.group_by)
                points = series[group]
                if len(hours) == 1 and len(next(iter(hours.values()))) == 24:
                    points[next(iter(hours))] += cents
                    continue
                parts = hour_parts(cents)
                for bucket, in_bucket in hours.items():
                    points[bucket] += sum(parts[h] for h in in_bucket)
        day += timedelta(days=1)
    return series


def _hours_by_bucket(query: Query, index: dict[datetime, int], day: Any) -> dict[int, list[int]]:
    """The day's UTC hours inside the range, by bucket index."""
    out: dict[int, list[int]] = defaultdict(list)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for hour in range(24):
        moment = midnight + timedelta(hours=hour)
        if not query.start <= moment < query.end:
            continue
        if query.unit == "TIME_UNIT_NONE":
            out[0].append(hour)
            continue
        bucket = index.get(query.floor(query.local(moment)))
        if bucket is not None:
            out[bucket].append(hour)
    return dict(out)


def analyze(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    """The analytics answer for a request body."""
    query = Query(body)
    starts, capped = query.buckets()
    index = {start: i for i, start in enumerate(starts)}
    series = _accumulate(store, query, index)
    if not query.group_by and not series:
        series[()] = [0] * len(starts)
    stamps = [timestamp(query.utc(start)) for start in starts]
    out, budget = [], MAX_POINTS
    for group in sorted(series):
        if budget <= 0:
            capped = True
            break
        points = series[group][:budget]
        capped = capped or len(points) < len(series[group])
        budget -= len(points)
        out.append(_series(store, query, group, points, stamps))
    return {"timeSeries": out, "limitReached": capped}


def _series(
    store: Store, query: Query, group: tuple, points: list[int], stamps: list[str]
) -> dict[str, Any]:
    labels = [
        value if name == "description" else store.key_name(value)
        for name, value in zip(query.group_by, group, strict=True)
    ]
    return {
        "group": list(group),
        "groupLabels": labels,
        "dataPoints": [
            {"timestamp": stamp, "values": [round(cents / 100, 2)] * len(query.values)}
            for stamp, cents in zip(stamps, points, strict=False)
        ],
    }
