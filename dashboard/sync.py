"""usage_sync: pages through every usage endpoint and the costs with the SDK into our tables.

One transaction per page: the rows we hold of the page's buckets are replaced by the page's rows
(so rows the API no longer returns go), and the endpoint's watermarks move, all together. A
killed run therefore leaves whole pages behind and the next run resumes from the watermark; a
retried or overlapping page changes nothing.

Each endpoint keeps the range it holds complete as two watermarks: `<endpoint>` (the high end) and
`<endpoint>#from` (the low end). A run fetches the requested window minus that range, except the
last USAGE_SETTLE_HOURS before the high end, which are fetched again because recent buckets keep
changing for a while.

Streams are independent: one that fails after the SDK's retries is recorded on the run, which
goes on with the others and ends "partial"; the next run resumes that stream from its own
watermarks. A grouping or filter that the API refuses with a 400 is dropped and the request sent
again (see `_Options`); the refusal is kept on the connection and asked about again daily.

A bucket belongs to the hour (or day) that contains its start: the live API labels buckets from
the requested start time and ends the open one at "now", so starts are floored before storing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from dashboard.families import (
    COST_DIMENSIONS,
    COSTS_ENDPOINT,
    FAMILIES,
    MAX_BUCKETS_PER_PAGE,
    MAX_COST_BUCKETS_PER_PAGE,
    SYNC_BUCKET_WIDTH,
    Family,
)
from dashboard.models import DAILY_MODELS, USAGE_MODELS, CostBucket
from orgadmin.client import OrgAPIError, admin_client, api_errors
from orgadmin.models import Organization, SyncRun
from orgadmin.syncing import (
    RunRecorder,
    capability_accept,
    capability_get,
    capability_recheck_due,
    capability_refuse,
    refused_candidates,
    sync_run,
    watermark_get,
    watermark_set,
)

log = logging.getLogger(__name__)

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


# --- windows and watermarks --------------------------------------------------------------------


def floor_to(moment: dt.datetime, step: dt.timedelta) -> dt.datetime:
    """The bucket boundary at or before `moment` (buckets are aligned to UTC)."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def ceil_to(moment: dt.datetime, step: dt.timedelta) -> dt.datetime:
    floor = floor_to(moment, step)
    return floor if floor == moment else floor + step


def windows_to_fetch(
    *,
    start: dt.datetime,
    end: dt.datetime,
    known: tuple[dt.datetime, dt.datetime] | None,
    settle: dt.timedelta,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The parts of [start, end) not yet held complete: the window minus [low, high - settle)."""
    if start >= end:
        return []
    if known is None:
        return [(start, end)]
    low, high = known
    solid_end = high - settle
    if solid_end <= low:
        return [(start, end)]
    parts = []
    if start < low:
        parts.append((start, min(end, low)))
    tail = max(start, solid_end)
    if tail < end:
        parts.append((tail, end))
    # Two parts that touch are one window: fewer pages.
    if len(parts) == 2 and parts[0][1] >= parts[1][0]:
        parts = [(parts[0][0], parts[1][1])]
    return parts


def _known(org: Organization, endpoint: str) -> tuple[dt.datetime, dt.datetime] | None:
    high = watermark_get(org=org, endpoint=endpoint)
    low = watermark_get(org=org, endpoint=f"{endpoint}#from")
    return (low, high) if high is not None and low is not None else None


def _extend_known(
    org: Organization,
    endpoint: str,
    known: tuple[dt.datetime, dt.datetime] | None,
    fetched: tuple[dt.datetime, dt.datetime],
) -> tuple[dt.datetime, dt.datetime] | None:
    """Merge what this run has fetched so far into the endpoint's range, when they touch."""
    start, end = fetched
    if known is None:
        merged = (start, end)
    elif start <= known[1] and end >= known[0]:
        merged = (min(known[0], start), max(known[1], end))
    else:
        return known  # not contiguous yet: the range would claim a gap
    if merged != known:
        watermark_set(org=org, endpoint=f"{endpoint}#from", value=merged[0])
        watermark_set(org=org, endpoint=endpoint, value=merged[1])
    return merged


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
class _Page:
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
        (*head, *key, amount_units(v[0]), v[1], quantity_units(v[2]), str(v[3]), stamp_db)
        for key, v in merged.items()
    ]


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


def _write_usage_page(
    org: Organization, family: Family, buckets: Iterable[dict[str, Any]], stamp: dt.datetime
) -> _Page | None:
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
    return _Page(written, first, last)


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


def _write_cost_page(
    org: Organization, buckets: Iterable[dict[str, Any]], stamp: dt.datetime
) -> _Page | None:
    stamp_db = connection.ops.adapt_datetimefield_value(stamp)
    written, first, last = _write_page(
        CostBucket,
        [
            "org_id",
            "day",
            *COST_DIMENSIONS,
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
    return _Page(written, first, last)


# --- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stream:
    endpoint: str
    label: str
    step: dt.timedelta
    max_buckets: int
    # The optional parameters sent, in the order we'd rather give them up when refused:
    # "group_by:<dimension>" for a grouping (a filter would be its parameter's name).
    options: tuple[str, ...]
    fetch: Callable[..., Any]  # fetch(options, **params) -> the SDK's raw response
    write: Callable[[Iterable[dict[str, Any]], dt.datetime], _Page | None]


# Which grouping to give up first when the API refuses one: who and which key before what.
_GIVE_UP_ORDER = (
    "api_key_id",
    "user_id",
    "service_tier",
    "batch",
    "context_level",
    "size",
    "source",
    "vector_store_id",
    "model",
    "line_item",
    "project_id",
)


def grouping_options(dimensions: Sequence[str]) -> tuple[str, ...]:
    """The `group_by` options for these dimensions, the first to give up first."""
    ordered = sorted(dimensions, key=lambda d: (*_GIVE_UP_ORDER, d).index(d))
    return tuple(f"group_by:{d}" for d in ordered)


def _group_by(options: Sequence[str], dimensions: Sequence[str]) -> list[str]:
    """The dimensions that `options` still group by, in the endpoint's own order."""
    sent = {o.removeprefix("group_by:") for o in options if o.startswith("group_by:")}
    return [d for d in dimensions if d in sent]


def _streams(org: Organization, client: Any, families: Sequence[str]) -> list[_Stream]:
    # The SDK sends each request (auth, retries with Retry-After, errors, request ids); the page
    # is read as plain JSON rather than typed models, which would hold it in memory twice over.
    usage = client.usage.with_raw_response if client is not None else None
    streams = []
    for slug in families:
        family = FAMILIES[slug]
        method = getattr(usage, family.method, None)

        def fetch(options: Sequence[str], _m=method, _f=family, **params: Any) -> Any:
            group_by = _group_by(options, _f.dimensions)
            return _m(bucket_width=SYNC_BUCKET_WIDTH, group_by=group_by, **params)

        streams.append(
            _Stream(
                endpoint=family.endpoint,
                label=f"{family.label} usage",
                step=HOUR,
                max_buckets=MAX_BUCKETS_PER_PAGE[SYNC_BUCKET_WIDTH],
                options=grouping_options(family.dimensions),
                fetch=fetch,
                write=lambda buckets, stamp, _f=family: _write_usage_page(org, _f, buckets, stamp),
            )
        )

    def fetch_costs(options: Sequence[str], **params: Any) -> Any:
        group_by = _group_by(options, COST_DIMENSIONS)
        return usage.costs(bucket_width="1d", group_by=group_by, **params)

    streams.append(
        _Stream(
            endpoint=COSTS_ENDPOINT,
            label="Costs",
            step=DAY,
            max_buckets=MAX_COST_BUCKETS_PER_PAGE,
            options=grouping_options(COST_DIMENSIONS),
            fetch=fetch_costs,
            write=lambda buckets, stamp: _write_cost_page(org, buckets, stamp),
        )
    )
    return streams


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _JsonPage:
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


def _peek_cursor(text: str) -> str | None:
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


def _pages(
    stream: _Stream,
    start: dt.datetime,
    end: dt.datetime,
    options: Sequence[str] | None = None,
) -> Iterator[_JsonPage]:
    """Each page of one window, with the largest page the API allows, sending `options` (all
    the stream's by default).

    The next page is fetched in the background while this one is written: the sync takes about
    as long as the fetching alone.
    """
    options = stream.options if options is None else options
    buckets = -(-(end - start) // stream.step)  # start and end are bucket boundaries
    limit = min(stream.max_buckets, max(1, buckets))

    def fetch(cursor: str | None) -> tuple[_JsonPage, str | None]:
        params: dict[str, Any] = {
            "start_time": int(start.timestamp()),
            "end_time": int(end.timestamp()),
            "limit": limit,
        }
        if cursor:
            params["page"] = cursor
        with api_errors():
            raw = stream.fetch(options, **params)
        response = raw.http_response
        text = response.content.decode("utf-8")
        return _JsonPage(text, raw.request_id), _peek_cursor(text)

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usage-fetch")
    try:
        future = pool.submit(fetch, None)
        while True:
            page, peeked = future.result()
            future = pool.submit(fetch, peeked) if peeked else None
            yield page
            if page.next_page != peeked:
                raise OrgAPIError(
                    "The OpenAI API sent a page whose cursor could not be read.",
                    request_id=page.request_id,
                )
            if future is None:
                return
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _relaxed_commit() -> None:
    """Don't wait for the WAL flush when a page commits (PostgreSQL; SQLite already uses WAL with
    synchronous=NORMAL). A crash can then lose the last pages committed, never part of one: their
    rows and the watermark that covers them go together, and the next run fetches them again."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


class _Options:
    """The optional parameters a stream sends, and what to do when the API refuses one.

    Options the endpoint refused before are left out, unless the refusal is older than
    API_CAPABILITY_RECHECK_HOURS: then they are asked for again, and if the API takes them the
    stream's whole held range is fetched again, so that the history gets them back.
    """

    def __init__(self, org: Organization, stream: _Stream, now: dt.datetime) -> None:
        self.org, self.stream = org, stream
        capability = capability_get(org=org, endpoint=stream.endpoint)
        self.refused = set(capability.refused) if capability else set()
        self.rechecking = capability_recheck_due(capability, now)
        self.sending = [o for o in stream.options if self.rechecking or o not in self.refused]
        self.confirmed = False
        self.restored: list[str] = []

    def refuse(self, error: OrgAPIError) -> bool:
        """Drop the option a 400 is about and record it; False when it is about none of ours."""
        candidates = refused_candidates(error, self.sending)
        if not candidates:
            return False
        option = candidates[0]
        self.sending.remove(option)
        capability_refuse(org=self.org, endpoint=self.stream.endpoint, option=option, error=error)
        return True

    def accepted(self) -> None:
        """The API answered a request with the options sent: record it (once per run)."""
        if self.confirmed:
            return
        self.confirmed = True
        if self.refused.isdisjoint(self.sending):
            return  # nothing sent was refused before: nothing to record (no query)
        self.restored = capability_accept(
            org=self.org, endpoint=self.stream.endpoint, options=self.sending
        )


def _sync_window(
    org: Organization,
    stream: _Stream,
    recorder: RunRecorder,
    options: _Options,
    window: tuple[dt.datetime, dt.datetime],
    known: tuple[dt.datetime, dt.datetime] | None,
    now: dt.datetime,
) -> tuple[dt.datetime, dt.datetime] | None:
    """Fetch and store one window; returns the endpoint's held range after it."""
    # Whole buckets only, so that a window costs exactly ceil(buckets / limit) pages.
    window_start, window_end = floor_to(window[0], stream.step), ceil_to(window[1], stream.step)
    while True:
        try:
            for json_page in _pages(stream, window_start, window_end, options.sending):
                options.accepted()
                stamp = timezone.now()
                with transaction.atomic():
                    _relaxed_commit()
                    page = stream.write(json_page.buckets(), stamp)
                    if page is not None:
                        # Never claim beyond the moment of fetching: the current bucket is partial.
                        fetched_to = min(page.last_end, now)
                        known = _extend_known(
                            org, stream.endpoint, known, (window_start, fetched_to)
                        )
                recorder.page(rows=page.rows if page else 0)
            return known
        except OrgAPIError as exc:
            if not options.refuse(exc):
                raise
            recorder.page(rows=0)  # the refused request; the window starts again without it


def _sync_stream(
    org: Organization,
    stream: _Stream,
    recorder: RunRecorder,
    *,
    start: dt.datetime,
    end: dt.datetime,
    refetch: bool,
    now: dt.datetime,
) -> None:
    start, end = floor_to(start, stream.step), ceil_to(end, stream.step)
    known = _known(org, stream.endpoint)
    settle = dt.timedelta(hours=settings.USAGE_SETTLE_HOURS)
    windows = (
        [(start, end)]
        if refetch
        else windows_to_fetch(start=start, end=end, known=known, settle=settle)
    )
    options = _Options(org, stream, now)
    held_before = known
    for window in windows:
        known = _sync_window(org, stream, recorder, options, window, known, now)
    if options.restored and held_before and windows:
        # The API takes again what it refused: fetch what we held without it once more.
        first = min(w[0] for w in windows)
        if held_before[0] < first:
            _sync_window(org, stream, recorder, options, (held_before[0], first), known, now)


def usage_sync(
    *,
    org: Organization,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    refetch: bool = False,
    families: Sequence[str] | None = None,
    triggered_by: Any = None,
) -> SyncRun:
    """Sync usage buckets and costs for [start, end) into our tables; returns the recorded run.

    Without `start`, each endpoint resumes from its watermark minus the settle window (or backfills
    USAGE_BACKFILL_DAYS on the first run). `refetch` fetches the whole window again. A stream that
    fails after the SDK's retries is recorded and the others go on: the run ends "partial".
    Raises SyncBusy when another usage sync of this organization is running, and OrgAPIError
    (recorded on the run) when every stream failed, or on an error that would fail them all
    (the key refused, the quota spent, the API unreachable).
    """
    now = timezone.now()
    end = min(end or now, now)
    families = list(families or FAMILIES)
    params = {
        "start": start.isoformat() if start else None,
        "end": end.isoformat(),
        "refetch": refetch,
        "families": families if len(families) < len(FAMILIES) else "all",
    }
    client = admin_client(
        org, max_retries=settings.USAGE_SYNC_MAX_RETRIES, timeout=settings.USAGE_SYNC_TIMEOUT
    )
    with sync_run(
        org=org, kind=SyncRun.Kind.USAGE, params=params, triggered_by=triggered_by
    ) as recorder:
        streams = _streams(org, client, families)
        last_error: Exception | None = None
        for stream in streams:
            stream_start = start
            if stream_start is None:
                known = _known(org, stream.endpoint)
                settle = dt.timedelta(hours=settings.USAGE_SETTLE_HOURS)
                stream_start = (
                    known[1] - settle
                    if known
                    else now - dt.timedelta(days=settings.USAGE_BACKFILL_DAYS)
                )
            try:
                _sync_stream(
                    org, stream, recorder, start=stream_start, end=end, refetch=refetch, now=now
                )
            except (OrgAPIError, SyncDataError) as exc:
                if isinstance(exc, OrgAPIError) and exc.account_wide:
                    raise
                log.warning("usage sync of %s: %s failed: %s", org, stream.label, exc)
                recorder.stream_failed(stream=stream.endpoint, label=stream.label, error=exc)
                last_error = exc
        if last_error is not None and len(recorder.failures) == len(streams):
            raise last_error
    return recorder.run
