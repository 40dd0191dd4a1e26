"""Turning the API's pages into our rows: each page replaces the rows we hold of its buckets.

One transaction per page (the caller's, `dashboard.sync.usage`): the rows we hold of the page's
buckets are replaced by the page's rows, so rows the API no longer returns go, and a retried or
overlapping page changes nothing. Pages are read lazily from the JSON text (`JsonPage`), so a
page of 100,000 results never exists as 100,000 dicts at once.

A bucket belongs to the hour (or day) that contains its start: the live API labels buckets from
the requested start time and ends the open one at "now", so starts are floored before storing.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.db import connection, models
from django.utils import timezone

from dashboard.families import COST_DIMENSIONS, Family, line_item_parts
from dashboard.models import DAILY_MODELS, USAGE_MODELS, CostBucket
from orgadmin.client import OrgAPIError
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
    # The SDK gives typed objects; a result it could not type (an unknown `object`) stays a dict.
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


def _insert(model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """A plain bulk INSERT: the rows of these buckets were deleted first (see _write_page)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table, names = qn(model._meta.db_table), ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY straight into the table: the fastest bulk path PostgreSQL has.
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        # Table and column names come from our models, quoted; every value is a bound parameter.
        head = f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
        if connection.vendor == "sqlite":
            # sqlite3's executemany loops in C: the fastest bulk path it has.
            cursor.executemany(head + one, rows)
            return
        per_statement = max(1, min(1000, 60000 // len(columns)))
        for i in range(0, len(rows), per_statement):
            chunk = rows[i : i + per_statement]
            cursor.execute(head + ", ".join([one] * len(chunk)), [v for r in chunk for v in r])


@dataclass
class Page:
    rows: int
    first_start: dt.datetime
    last_end: dt.datetime


_CHUNK = 5000  # rows per bulk insert


def _add(a: Any, b: Any) -> Any:
    return None if a is None and b is None else (a or 0) + (b or 0)


def _usage_rows(
    family: Family, bucket: Any, start: dt.datetime, head: tuple, stamp_db: Any
) -> list[tuple]:
    """One bucket's rows at `start`; the same combination twice in a bucket is added up."""
    get_bucket = _getter(bucket)
    start = connection.ops.adapt_datetimefield_value(start)
    dims, names = family.dimensions, family.metric_names
    required = [m.required for m in family.metrics]
    # Fast path for what the API sends: every field present, dimensions as strings (or the batch
    # flag as a boolean), metrics as ints. Anything else takes the careful path below.
    dims_of, metrics_of = _tuple_getter(dims), _tuple_getter(names)
    flag = dims.index("batch") if "batch" in dims else -1
    merged: dict[tuple, list] = {}
    for result in get_bucket("results") or ():
        try:
            found, values = dims_of(result), metrics_of(result)
        except (KeyError, TypeError):
            found = values = None
        if found is not None and flag >= 0 and type(found[flag]) is bool:
            found = (*found[:flag], "true" if found[flag] else "false", *found[flag + 1 :])
        if found is None or (found and set(map(type, found)) != _STR_ONLY):
            get = result.get if isinstance(result, dict) else _getter(result)
            found = [_dimension(get(d)) for d in dims]
            values = [get(n) for n in names]
        if set(map(type, values)) != _INT_ONLY:
            values = [_count(v) for v in values]
            if None in values:
                values = [0 if v is None and r else v for v, r in zip(values, required)]  # noqa: B905
        key = (start, *found)
        old = merged.get(key)
        merged[key] = values if old is None else [_add(a, b) for a, b in zip(old, values)]  # noqa: B905
    return [(*head, *key, *values, stamp_db) for key, values in merged.items()]


_STR_ONLY, _INT_ONLY = {str}, {int}


def _tuple_getter(names: Sequence[str]) -> Callable[[Any], tuple]:
    """A dict's values for `names`, as a tuple (KeyError when one is missing)."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        name = names[0]
        return lambda obj: (obj[name],)
    return operator.itemgetter(*names)


def _cost_rows(bucket: Any, start: dt.datetime, head: tuple, stamp_db: Any) -> list[tuple]:
    """One day's cost rows, amounts as exact integer pico-dollars."""
    get_bucket = _getter(bucket)
    day = start.date().isoformat()
    merged: dict[tuple, list] = {}
    for result in get_bucket("results") or ():
        get = _getter(result)
        key = (day, *(_dimension(get(d)) for d in COST_DIMENSIONS))
        amount = _getter(get("amount") or {})
        value = parse_decimal(amount("value")) or Decimal(0)
        quantity = parse_decimal(get("quantity"))
        old = merged.get(key)
        if old is None:
            currency = (amount("currency") or "usd").lower()
            merged[key] = [value, currency, quantity, get("quantity_unit") or ""]
        else:
            old[0], old[2] = old[0] + value, _add(old[2], quantity)
    amount_units = CostBucket._meta.get_field("amount").to_units
    quantity_units = CostBucket._meta.get_field("quantity").to_units
    return [
        (
            *head,
            *key,
            _model_of(key[_LINE_ITEM]),
            amount_units(v[0]),
            v[1],
            quantity_units(v[2]),
            str(v[3]),
            stamp_db,
        )
        for key, v in merged.items()
    ]


_LINE_ITEM = 1 + COST_DIMENSIONS.index("line_item")  # in a cost row's key, after the day


@lru_cache(maxsize=4096)
def _model_of(line_item: str) -> str:
    return line_item_parts(line_item).model


def _write_page(
    model: type[models.Model],
    columns: Sequence[str],
    buckets: Iterable[dict[str, Any]],
    step: dt.timedelta,
    rows_of: Callable[[Any, dt.datetime], list[tuple]],
    delete: Callable[[list[dt.datetime], list[tuple[dt.datetime, dt.datetime]]], None],
) -> tuple[int, dt.datetime | None, dt.datetime | None]:
    """Replace a page's buckets in chunks as they are read; (rows, first start, last end).

    The page holds every row of its buckets, so each chunk deletes what we hold of its buckets
    (and of any gap between buckets) and inserts what the API sent: the same result as an upsert
    plus a sweep of the rows the API no longer returns, at the cost of plain inserts. A bucket
    sent twice replaces its first copy, as an upsert would. A bucket is stored at the `step`
    boundary at or before its start (an unaligned or open bucket belongs to the hour or day
    that contains its start).
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

    for bucket in buckets:
        start = floor_to(_ts(bucket["start_time"]), step)
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
        pending.extend(rows_of(bucket, start))
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


def write_usage_page(
    org: Organization, family: Family, buckets: Iterable[dict[str, Any]], stamp: dt.datetime
) -> Page | None:
    """Store a page of one usage family's hourly buckets, then roll its days up."""
    model = USAGE_MODELS[family.slug]
    stamp_db = connection.ops.adapt_datetimefield_value(stamp)
    written, first, last = _write_page(
        model,
        ["org_id", "bucket_start", *family.dimensions, *family.metric_names, "fetched_at"],
        buckets,
        HOUR,
        lambda bucket, start: _usage_rows(family, bucket, start, (org.pk,), stamp_db),
        _bucket_deleter(model, org, "bucket_start"),
    )
    if first is None:
        return None
    usage_rollup(org=org, family=family, start=first, end=last, stamp=stamp)
    return Page(written, first, last)


def usage_rollup(
    *,
    org: Organization,
    family: Family,
    start: dt.datetime,
    end: dt.datetime,
    stamp: dt.datetime | None = None,
) -> None:
    """Rebuild the daily rows of every UTC day that [start, end) touches from its hourly rows."""
    first, last, stamp = start, end, stamp or timezone.now()
    day_lo, day_hi = floor_to(first, DAY), ceil_to(last, DAY)
    hourly, daily = USAGE_MODELS[family.slug], DAILY_MODELS[family.slug]
    daily.objects.filter(org=org, bucket_start__gte=day_lo, bucket_start__lt=day_hi).delete()
    qn = connection.ops.quote_name
    day = (
        # Django stores a datetime as "YYYY-MM-DD HH:MM:SS" text: its day is the first ten.
        "substr(bucket_start, 1, 10) || ' 00:00:00'"
        if connection.vendor == "sqlite"
        else "date_trunc('day', bucket_start)"  # the session is in UTC
    )
    integer = "INTEGER" if connection.vendor == "sqlite" else "BIGINT"
    dims = ", ".join(qn(d) for d in family.dimensions)
    sums = ", ".join(
        f"CAST(ROUND(AVG({qn(m.name)})) AS {integer})"
        if m.over_time == "gauge"
        else f"SUM({qn(m.name)})"
        for m in family.metrics
    )
    metrics = ", ".join(qn(m) for m in family.metric_names)
    adapt = connection.ops.adapt_datetimefield_value
    # Table and column names come from our models, quoted; every value is a bound parameter.
    sql = (
        f"INSERT INTO {qn(daily._meta.db_table)} (org_id, bucket_start, {dims}, {metrics}, "  # noqa: S608
        f"fetched_at) SELECT org_id, {day}, {dims}, {sums}, %s FROM {qn(hourly._meta.db_table)} "
        f"WHERE org_id = %s AND bucket_start >= %s AND bucket_start < %s "
        f"GROUP BY org_id, {day}, {dims}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(stamp), org.pk, adapt(day_lo), adapt(day_hi)])


def write_cost_page(
    org: Organization, buckets: Iterable[dict[str, Any]], stamp: dt.datetime
) -> Page | None:
    """Store a page of daily cost buckets."""
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
        buckets,
        DAY,
        lambda bucket, start: _cost_rows(bucket, start, (org.pk,), stamp_db),
        _bucket_deleter(CostBucket, org, "day", as_value=lambda moment: moment.date()),
    )
    if first is None:
        return None
    return Page(written, first, last)


# --- reading a page -----------------------------------------------------------------------------


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class JsonPage:
    """A page read lazily: its buckets are decoded one at a time from the JSON text, so a page
    of 100,000 results never exists as 100,000 dicts at once. `meta` (has_more, next_page) is
    complete once the buckets have been read."""

    def __init__(self, text: str, request_id: str | None) -> None:
        self.text, self.request_id = text, request_id
        self.meta: dict[str, Any] = {}
        self._read = False

    def _error(self) -> OrgAPIError:
        return OrgAPIError(
            "The OpenAI API sent a page that is not the JSON we expect.",
            request_id=self.request_id,
        )

    def buckets(self) -> Iterator[dict[str, Any]]:
        text, ws = self.text, _WS
        try:
            pos = ws.match(text, 0).end()
            if text[pos] != "{":
                raise self._error()
            pos += 1
            while True:
                pos = ws.match(text, pos).end()
                if text[pos] == "}":
                    break
                key, pos = _DECODER.raw_decode(text, pos)
                pos = ws.match(text, pos).end()
                if text[pos] != ":":
                    raise self._error()
                pos = ws.match(text, pos + 1).end()
                if key == "data" and text[pos] == "[":
                    pos += 1
                    while True:
                        pos = ws.match(text, pos).end()
                        if text[pos] == "]":
                            pos += 1
                            break
                        bucket, pos = _DECODER.raw_decode(text, pos)
                        if not isinstance(bucket, dict):
                            raise self._error()
                        yield bucket
                        pos = ws.match(text, pos).end()
                        if text[pos] == ",":
                            pos += 1
                else:
                    self.meta[key], pos = _DECODER.raw_decode(text, pos)
                pos = ws.match(text, pos).end()
                if text[pos] == ",":
                    pos += 1
        except (ValueError, IndexError):
            raise self._error() from None
        self._read = True
        self.text = ""

    @property
    def next_page(self) -> str | None:
        if not self._read:
            for _ in self.buckets():
                pass
        return self.meta.get("next_page") if self.meta.get("has_more") else None


def peek_cursor(text: str) -> str | None:
    """The next page's cursor, read from the end of the text before the page is parsed (checked
    against the parsed page afterwards), so that the next request can start right away."""

    def value_after(key: str) -> Any:
        at = text.rfind(f'"{key}"')
        if at < 0:
            return None
        colon = _WS.match(text, text.index(":", at) + 1).end()
        return _DECODER.raw_decode(text, colon)[0]

    try:
        return value_after("next_page") if value_after("has_more") is True else None
    except ValueError:
        return None
