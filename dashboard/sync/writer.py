"""Turning the API's pages into our rows: each page replaces the rows we hold of its buckets.

One transaction per page (the caller's, `dashboard.sync.usage`): the rows we hold of the page's
buckets are replaced by the page's rows, so rows the API no longer returns go, and a retried or
overlapping page changes nothing. A page comes decoded by `dashboard.sync.decode` (compact structs,
not dicts); a bucket given as a dict, as tests write them, is read the same way.

A bucket belongs to the hour (or day) that contains its start: the live API labels buckets from
the requested start time and ends the open one at "now", so starts are floored before storing.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import chain
from typing import Any

from django.db import connection, models
from django.utils import timezone

from dashboard.families import COST_DIMENSIONS, Family, line_item_parts
from dashboard.models import USAGE_MODELS, CostBucket
from dashboard.sync import rollups
from dashboard.sync.bulk import insert_rows as _insert
from orgadmin.models import Organization

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


class SyncDataError(Exception):
    """The API sent a value we can't store faithfully (e.g. an amount that is not a number)."""


# --- parsing ------------------------------------------------------------------------------


def parse_decimal(value: Any) -> Decimal | None:
    """A JSON number (or a number sent as a string) as an exact Decimal, without float artefacts.

    A float is read through its shortest repr, which is the literal the API sent: 0.1 stays 0.1.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise SyncDataError(f"expected a number, got {value!r}")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            number = Decimal(value.strip())
        else:
            raise SyncDataError(f"expected a number, got {value!r}")
    except InvalidOperation:
        raise SyncDataError(f"expected a number, got {value!r}") from None
    if not number.is_finite():
        raise SyncDataError(f"expected a finite number, got {value!r}")
    return number


def _count(value: Any) -> int | None:
    """A usage metric as an int (the API sends integers; a string or float is tolerated)."""
    number = parse_decimal(value)
    return None if number is None else int(number)


def _dimension(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _getter(obj: Any) -> Callable[[str], Any]:
    # A page's buckets and results are decoded structs (`dashboard.sync.decode`); tests and
    # callers may give dicts.
    if isinstance(obj, dict):
        return obj.get
    return lambda name: getattr(obj, name, None)


def _ts(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), tz=UTC)


# --- bucket boundaries ----------------------------------------------------------------------


def floor_to(moment: dt.datetime, step: dt.timedelta) -> dt.datetime:
    """The bucket boundary at or before `moment` (buckets are aligned to UTC)."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def ceil_to(moment: dt.datetime, step: dt.timedelta) -> dt.datetime:
    floor = floor_to(moment, step)
    return floor if floor == moment else floor + step


# --- writing ------------------------------------------------------------------------------------


@dataclass
class Page:
    rows: int
    first_start: dt.datetime
    last_end: dt.datetime


_CHUNK = 5000  # rows per bulk insert


def _add(a: Any, b: Any) -> Any:
    return None if a is None and b is None else (a or 0) + (b or 0)


def _usage_rows(family: Family, bucket: Any, start: Any, head: tuple, stamp_db: Any) -> list[tuple]:
    """One bucket's rows at `start` (as the database takes it); the same combination twice in a
    bucket is added up."""
    results = _getter(bucket)("results") or ()
    try:
        found = list(map(_tuple_getter(results, family.dimensions), results))
        values = list(map(_tuple_getter(results, family.metric_names), results))
    except (KeyError, TypeError, AttributeError):  # a field missing from a dict
        gets = [_getter(result) for result in results]
        found = [tuple(map(get, family.dimensions)) for get in gets]
        values = [tuple(map(get, family.metric_names)) for get in gets]
    # What the API sends is dimensions as strings and metrics as ints, checked for the whole
    # bucket at once; a row with a null dimension, the batch flag as a boolean or a metric sent
    # as a string or a float is put right on its own.
    if not _STR_ONLY.issuperset(map(type, chain.from_iterable(found))):
        found = [f if _STR_ONLY.issuperset(map(type, f)) else _dimensions(f) for f in found]
    if not _INT_ONLY.issuperset(map(type, chain.from_iterable(values))):
        values = [v if _INT_ONLY.issuperset(map(type, v)) else _counts(family, v) for v in values]
    merged = dict(zip(found, values, strict=True))
    if len(merged) < len(found):  # the same combination twice: added up
        merged = {}
        for key, counts in zip(found, values, strict=True):
            old = merged.get(key)
            merged[key] = counts if old is None else tuple(map(_add, old, counts))
    return [(*head, start, *key, *counts, stamp_db) for key, counts in merged.items()]


_STR_ONLY, _INT_ONLY = frozenset({str}), frozenset({int})


def _dimensions(values: Sequence[Any]) -> tuple[str, ...]:
    return tuple([d if type(d) is str else _dimension(d) for d in values])


def _counts(family: Family, values: Sequence[Any]) -> tuple:
    """Metrics sent otherwise than as ints, as ints; a required one that is missing is 0."""
    counts = [_count(v) for v in values]
    return tuple(
        0 if v is None and m.required else v for v, m in zip(counts, family.metrics, strict=True)
    )


def _tuple_getter(results: Sequence[Any], names: Sequence[str]) -> Callable[[Any], tuple]:
    """A result's `names` as a tuple: by key from a dict (KeyError when one is missing), by
    attribute from a decoded struct."""
    by = operator.itemgetter if results and isinstance(results[0], dict) else operator.attrgetter
    if len(names) == 1:
        get = by(names[0])
        return lambda obj: (get(obj),)
    return by(*names)


def _cost_rows(
    bucket: Any,
    start: dt.datetime,
    head: tuple,
    stamp_db: Any,
    model_of: Callable[[str], str] | None = None,
) -> list[tuple]:
    """One day's cost rows, amounts as exact integer pico-dollars; `model_of` reads the model a
    line item bills (OpenAI's way by default)."""
    model_of = model_of or _model_of
    results = _getter(bucket)("results") or ()
    day = start.date().isoformat()
    dims_of = _tuple_getter(results, COST_DIMENSIONS)
    merged: dict[tuple, list] = {}
    for result in results:
        get = _getter(result)
        try:
            found = dims_of(result)
        except (KeyError, TypeError, AttributeError):
            found = tuple(map(get, COST_DIMENSIONS))
        if not _STR_ONLY.issuperset(map(type, found)):
            found = _dimensions(found)
        amount = _getter(get("amount") or {})
        value = parse_decimal(amount("value")) or _ZERO
        quantity = parse_decimal(get("quantity"))
        old = merged.get(found)
        if old is None:
            currency = (amount("currency") or "usd").lower()
            merged[found] = [value, currency, quantity, get("quantity_unit") or ""]
        else:
            old[0], old[2] = old[0] + value, _add(old[2], quantity)
    amount_units = CostBucket._meta.get_field("amount").to_units
    quantity_units = CostBucket._meta.get_field("quantity").to_units
    return [
        (
            *head,
            day,
            *key,
            model_of(key[_LINE_ITEM]),
            amount_units(v[0]),
            v[1],
            quantity_units(v[2]),
            str(v[3]),
            stamp_db,
        )
        for key, v in merged.items()
    ]


_ZERO = Decimal(0)
_LINE_ITEM = COST_DIMENSIONS.index("line_item")  # in a cost row's key


@lru_cache(maxsize=4096)
def _model_of(line_item: str) -> str:
    return line_item_parts(line_item).model


def _starts(
    buckets: Iterable[Any], step: dt.timedelta, rows_of: Callable[[Any, dt.datetime], list[tuple]]
) -> Iterator[tuple[dt.datetime, list[tuple]]]:
    """Each bucket's (start, rows): stored at the `step` boundary at or before its start (an
    unaligned or open bucket belongs to the hour or day that contains its start)."""
    for bucket in buckets:
        start = floor_to(_ts(_getter(bucket)("start_time")), step)
        yield start, rows_of(bucket, start)


def _write_page(
    model: type[models.Model],
    columns: Sequence[str],
    buckets: Iterable[tuple[dt.datetime, list[tuple]]],
    step: dt.timedelta,
    delete: Callable[[list[dt.datetime], list[tuple[dt.datetime, dt.datetime]]], None],
) -> tuple[int, dt.datetime | None, dt.datetime | None]:
    """Replace a page's buckets, given as (start, rows), in chunks as they are read; (rows,
    first start, last end).

    The page holds every row of its buckets, so each chunk deletes what we hold of its buckets
    (and of any gap between buckets) and inserts what the API sent: the same result as an upsert
    plus a sweep of the rows the API no longer returns, at the cost of plain inserts. A bucket
    sent twice replaces its first copy, as an upsert would.
    """
    pending: list[tuple] = []
    starts: list[dt.datetime] = []
    gaps: list[tuple[dt.datetime, dt.datetime]] = []
    seen: set[dt.datetime] = set()
    written, first, last = 0, None, None

    def flush() -> None:
        nonlocal written, pending, starts, gaps
        if starts or gaps:
            delete(starts, gaps)
        _insert(model, columns, pending)
        written, pending, starts, gaps = written + len(pending), [], [], []

    for start, rows in buckets:
        end = start + step
        if start in seen:
            flush()  # the bucket's first copy is written: the delete below removes it
        if first is None:
            first = start
        elif last is not None and start > last:
            gaps.append((last, start))  # buckets the API skipped: it holds nothing there
        seen.add(start)
        last = end if last is None else max(last, end)
        starts.append(start)
        pending.extend(rows)
        if len(pending) >= _CHUNK:
            flush()
    flush()
    return written, first, last


def _bucket_deleter(model: type[models.Model], org: Organization, field: str, as_value=None):
    """delete(starts, gaps): the org's rows of these buckets, and of these [lo, hi) gaps."""

    def delete(starts: list[dt.datetime], gaps: list[tuple[dt.datetime, dt.datetime]]) -> None:
        convert = as_value or (lambda moment: moment)
        where = models.Q(**{f"{field}__in": sorted({convert(s) for s in starts})})
        for lo, hi in gaps:
            where |= models.Q(**{f"{field}__gte": convert(lo), f"{field}__lt": convert(hi)})
        model.objects.filter(where, org=org).delete()

    return delete


@dataclass
class PreparedPage:
    """A page of one usage family's hourly buckets made into rows, off the writer's thread
    (`prepare_usage_page`): each bucket's (start, rows), and the hourly rollups of the hours the
    page holds, summed from those same rows."""

    buckets: list[tuple[dt.datetime, list[tuple]]]
    hours: list[tuple] | None  # None: summed by the database, from the rows written
    stamp: dt.datetime


def prepare_usage_page(
    org_pk: int,
    family: Family,
    buckets: Iterable[Any],
    stamp: dt.datetime,
    adapt: Callable[[dt.datetime], Any],
    *,
    hours: bool,
) -> PreparedPage:
    """The rows of a page, and when `hours` its hourly rollups; no database here (the sync's
    preparing thread runs it). `adapt` is the database's adapt_datetimefield_value."""
    stamp_db = adapt(stamp)
    made = list(
        _starts(
            buckets,
            HOUR,
            lambda bucket, start: _usage_rows(family, bucket, adapt(start), (org_pk,), stamp_db),
        )
    )
    if not hours:
        return PreparedPage(made, None, stamp)
    final = dict(made)  # a bucket sent twice: its last copy is the one stored
    return PreparedPage(made, rollups.hourly_rows(family, org_pk, final.values()), stamp)


def sums_hours_itself() -> bool:
    """Whether a page's hourly rollups are summed in Python (on the preparing thread) rather than
    by the database. PostgreSQL: yes, its one backend would sum them on the writer's critical
    path, and COPY takes the rows as fast as it takes the raw ones. SQLite: no, it sums them in
    C in this process faster than Python could bind the rows to insert them."""
    return connection.vendor == "postgresql"


def write_usage_page(
    org: Organization,
    family: Family,
    buckets: PreparedPage | Iterable[Any],
    stamp: dt.datetime,
) -> Page | None:
    """Store a page of one usage family's hourly buckets (made into rows already, or not yet),
    then roll its hours and days up."""
    if not isinstance(buckets, PreparedPage):
        adapt = connection.ops.adapt_datetimefield_value
        buckets = prepare_usage_page(
            org.pk, family, buckets, stamp, adapt, hours=sums_hours_itself()
        )
    model = USAGE_MODELS[family.slug]
    written, first, last = _write_page(
        model,
        ["org_id", "bucket_start", *family.dimensions, *family.metric_names, "fetched_at"],
        buckets.buckets,
        HOUR,
        _bucket_deleter(model, org, "bucket_start"),
    )
    if first is None:
        return None
    usage_rollup(
        org=org, family=family, start=first, end=last, stamp=buckets.stamp, hours=buckets.hours
    )
    return Page(written, first, last)


def usage_rollup(
    *,
    org: Organization,
    family: Family,
    start: dt.datetime,
    end: dt.datetime,
    stamp: dt.datetime | None = None,
    hours: list[tuple] | None = None,
) -> None:
    """Rebuild every aggregate of the hours [start, end) from the raw rows (the daily rows and
    the rollups of the UTC and local days they touch), and move the data generation. `hours`:
    the hourly rollups of exactly those hours, summed already from the rows just written."""
    rollups.data_changed(org=org)
    rollups.usage_update(
        org=org,
        family=family,
        start=floor_to(start, HOUR),
        end=ceil_to(end, HOUR),
        stamp=stamp or timezone.now(),
        hours=hours,
    )


def write_cost_page(
    org: Organization,
    buckets: Iterable[dict[str, Any]],
    stamp: dt.datetime,
    *,
    model_of: Callable[[str], str] | None = None,
) -> Page | None:
    """Store a page of daily cost buckets, then roll its days up. `model_of`: the model a line
    item bills, when the provider writes its line items otherwise than OpenAI."""
    stamp_db = connection.ops.adapt_datetimefield_value(stamp)
    written, first, last = _write_page(
        CostBucket,
        [
            "org_id",
            "day",
            *COST_DIMENSIONS,
            "model",
            "amount",
            "currency",
            "quantity",
            "quantity_unit",
            "fetched_at",
        ],
        _starts(
            buckets,
            DAY,
            lambda bucket, start: _cost_rows(bucket, start, (org.pk,), stamp_db, model_of),
        ),
        DAY,
        _bucket_deleter(CostBucket, org, "day", as_value=lambda moment: moment.date()),
    )
    if first is None:
        return None
    cost_rollup(org=org, start=first.date(), end=last.date())
    return Page(written, first, last)


def cost_rollup(*, org: Organization, start: dt.date, end: dt.date) -> None:
    """Rebuild the cost rollups of the days [start, end) from the cost rows, and move the data
    generation."""
    rollups.data_changed(org=org)
    rollups.cost_update(org=org, start=start, end=end)
