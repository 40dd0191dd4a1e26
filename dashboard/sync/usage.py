"""usage_sync: pages through every usage endpoint and the costs with the SDK into our tables.

One transaction per page: the page's rows (written by `dashboard.sync.writer`) and the
endpoint's watermarks move together. A killed run therefore leaves whole pages behind and the
next run resumes from the watermark.

Each endpoint keeps the range it holds complete as two watermarks: `<endpoint>` (the high end) and
`<endpoint>#from` (the low end). A run fetches the requested window minus that range, except the
last USAGE_SETTLE_HOURS before the high end, which are fetched again because recent buckets keep
changing for a while (`dashboard.sync.windows`, which an xAI team's costs share).

Streams are independent: one that fails after the SDK's retries is recorded on the run, which
goes on with the others and ends "partial"; the next run resumes that stream from its own
watermarks. A grouping or filter that the API refuses with a 400 is dropped and the request sent
again (see `_Options`); the refusal is kept on the connection and asked about again daily.

Pages are fetched and decoded (`dashboard.sync.decode`) on a background thread ahead of the writer
(`dashboard.sync.ahead`), up to FETCH_AHEAD_BYTES of answers held: the next request leaves as soon
as a page is decoded, from one window or stream to the next along the run's plans (`_route`,
the streams taking turns a page each), and a second thread makes each page into rows meanwhile,
so the writes hide behind the network.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dashboard.families import (
    COST_DIMENSIONS,
    COSTS_ENDPOINT,
    FAMILIES,
    MAX_BUCKETS_PER_PAGE,
    MAX_COST_BUCKETS_PER_PAGE,
    SYNC_BUCKET_WIDTH,
)
from dashboard.sync import xai_costs
from dashboard.sync.ahead import Ahead
from dashboard.sync.decode import ApiPage, page_decoder
from dashboard.sync.windows import (
    extend_known,
    known_range,
    resume_from,
    settle_window,
    windows_to_fetch,
)
from dashboard.sync.writer import (
    DAY,
    HOUR,
    Page,
    SyncDataError,
    ceil_to,
    floor_to,
    prepare_usage_page,
    sums_hours_itself,
    write_cost_page,
    write_usage_page,
)
from orgadmin.client import OrgAPIError, admin_client, api_errors
from orgadmin.models import Organization, SyncRun
from orgadmin.providers import Capability
from orgadmin.sync.runs import (
    NothingPermitted,
    RunRecorder,
    capability_accept,
    capability_get,
    capability_recheck_due,
    capability_refuse,
    refused_candidates,
    sync_run,
)

log = logging.getLogger(__name__)


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
    decode: Callable[[bytes, str | None], ApiPage]  # the page's JSON, its request id
    write: Callable[[Any, dt.datetime], Page | None]
    area: str = "usage"  # what the admin key must be allowed to read (orgadmin.areas)
    # The page's buckets made into what `write` takes, on the preparing thread (None: as is).
    prepare: Callable[[Iterable[Any]], Any] | None = None


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
    # is decoded by `dashboard.sync.decode` into compact structs rather than the SDK's pydantic
    # models, which would hold it in memory many times over.
    usage = client.usage.with_raw_response if client is not None else None
    adapt = connection.ops.adapt_datetimefield_value  # this thread's: the preparing one has none
    hours = sums_hours_itself()
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
                decode=page_decoder(slug),
                write=lambda buckets, stamp, _f=family: write_usage_page(org, _f, buckets, stamp),
                prepare=lambda buckets, _f=family: prepare_usage_page(
                    org.pk, _f, buckets, timezone.now(), adapt, hours=hours
                ),
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
            decode=page_decoder(None),
            write=lambda buckets, stamp: write_cost_page(org, buckets, stamp),
            area="costs",
        )
    )
    return streams


@dataclass(frozen=True)
class _Window:
    """The requests of one window: a stream's whole buckets [start, end), sending `options`."""

    stream: _Stream
    start: dt.datetime
    end: dt.datetime
    options: tuple[str, ...]

    @classmethod
    def of(
        cls, stream: _Stream, window: tuple[dt.datetime, dt.datetime], options: Sequence[str]
    ) -> _Window:
        # Whole buckets only, so that a window costs exactly ceil(buckets / limit) pages.
        start, end = floor_to(window[0], stream.step), ceil_to(window[1], stream.step)
        return cls(stream, start, end, tuple(options))


def _fetch(window: _Window, cursor: str | None) -> ApiPage:
    """One page of `window` (its first without a cursor), with the largest page the API allows,
    decoded. Runs on the fetch thread: no database here."""
    stream = window.stream
    buckets = -(-(window.end - window.start) // stream.step)
    params: dict[str, Any] = {
        "start_time": int(window.start.timestamp()),
        "end_time": int(window.end.timestamp()),
        "limit": min(stream.max_buckets, max(1, buckets)),
    }
    if cursor:
        params["page"] = cursor
    with api_errors():
        raw = stream.fetch(window.options, **params)
    return stream.decode(raw.http_response.content, raw.request_id)


def _prepare(window: _Window, page: ApiPage) -> ApiPage:
    """The page made into what the stream writes (its rows), on the preparing thread while the
    writer writes the pages before: no database here."""
    prepare = window.stream.prepare
    return replace(page, buckets=prepare(page.buckets)) if prepare is not None else page


# Bytes of answers the fetch thread may hold ahead of the writer, decoded and made into rows
# (dashboard.sync.ahead): about one of the biggest pages (a week of a big organization's
# completions by every dimension, which holds about 3 times its size as rows), or a whole run of
# the small families' while the big one is written.
FETCH_AHEAD_BYTES = 12 * 2**20


def _fetcher(route: Callable[[_Window], _Window | None] | None = None, *, prepare: bool = True):
    steps = {"route": route} if route else {}
    return Ahead(_fetch, budget=FETCH_AHEAD_BYTES, prepare=_prepare if prepare else None, **steps)


def _pages(
    stream: _Stream,
    start: dt.datetime,
    end: dt.datetime,
    options: Sequence[str] | None = None,
) -> Iterator[ApiPage]:
    """Each page of one window as decoded, sending `options` (all the stream's by default),
    fetched ahead while the caller handles one (the fetch-only benchmark reads pages with it)."""
    fetcher = _fetcher(prepare=False)
    try:
        options = stream.options if options is None else options
        yield from fetcher.pages(_Window.of(stream, (start, end), options))
    finally:
        fetcher.close()


def _relaxed_commit() -> None:
    """Don't wait for the WAL flush when a page commits (PostgreSQL; SQLite already uses WAL with
    synchronous=NORMAL). A crash can then lose the last pages committed, never part of one: their
    rows and the watermark that covers them go together, and the next run fetches them again.
    And let the page's aggregations (its days' rows at full dimensions) sort in memory."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute("SET LOCAL work_mem = '64MB'")


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


@dataclass(frozen=True)
class _Run:
    """What the streams of one run share."""

    org: Organization
    recorder: RunRecorder
    fetcher: Ahead
    start: dt.datetime | None
    end: dt.datetime
    refetch: bool
    now: dt.datetime


@dataclass
class _Plan:
    """A stream's windows to fetch in this run (a page each, at most), its held range before
    them, its options; as the run goes, the range it holds and whether it is out of the run
    (failed, or its area refused)."""

    stream: _Stream
    windows: list[tuple[dt.datetime, dt.datetime]]
    known: tuple[dt.datetime, dt.datetime] | None
    options: _Options
    held: tuple[dt.datetime, dt.datetime] | None = None
    out: bool = False

    def __post_init__(self) -> None:
        self.held = self.known

    def window(self, index: int) -> _Window:
        """Its window `index`, with the options it sends now."""
        return _Window.of(self.stream, self.windows[index], self.options.sending)


def _plan(run: _Run, stream: _Stream) -> _Plan:
    start = floor_to(run.start or resume_from(run.org, stream.endpoint, run.now), stream.step)
    end = ceil_to(run.end, stream.step)
    known = known_range(run.org, stream.endpoint)
    windows = (
        [(start, end)]
        if run.refetch
        else windows_to_fetch(start=start, end=end, known=known, settle=settle_window())
    )
    pages = [page for window in windows for page in _page_windows(stream, window)]
    return _Plan(stream, pages, known, _Options(run.org, stream, run.now))


def _page_windows(
    stream: _Stream, window: tuple[dt.datetime, dt.datetime]
) -> list[tuple[dt.datetime, dt.datetime]]:
    """`window` cut into windows of one page each (the largest page the API allows): the same
    number of requests as the whole window's cursor chain, but each one a window of its own, so
    that the streams' pages can be taken in turns (see _rounds). A page the API cuts short is
    still followed by its cursor."""
    start, end = floor_to(window[0], stream.step), ceil_to(window[1], stream.step)
    width = stream.max_buckets * stream.step
    count = -(-(end - start) // width)
    return [(start + n * width, min(start + (n + 1) * width, end)) for n in range(count)]


def _rounds(plans: Sequence[_Plan]) -> list[tuple[_Plan, int | None]]:
    """The run's windows in turns: each stream's first, then each one's second... so that the
    big pages of one family are written while the small ones of the others are fetched, not all
    together. (plan, None) stands for a stream with nothing to fetch, in the first turn."""
    turns = max((len(p.windows) for p in plans), default=0)
    first = [(p, 0 if p.windows else None) for p in plans]
    later = [(p, i) for i in range(1, turns) for p in plans if i < len(p.windows)]
    return first + later


def _sync_window(
    run: _Run,
    stream: _Stream,
    options: _Options,
    window: tuple[dt.datetime, dt.datetime],
    known: tuple[dt.datetime, dt.datetime] | None,
) -> tuple[dt.datetime, dt.datetime] | None:
    """Fetch and store one window; returns the endpoint's held range after it."""
    while True:
        planned = _Window.of(stream, window, options.sending)
        try:
            for api_page in run.fetcher.pages(planned):
                options.accepted()
                stamp = timezone.now()
                with transaction.atomic():
                    _relaxed_commit()
                    page = stream.write(api_page.buckets, stamp)
                    if page is not None:
                        # Never claim beyond the moment of fetching: the current bucket is partial.
                        fetched_to = min(page.last_end, run.now)
                        known = extend_known(
                            run.org, stream.endpoint, known, (planned.start, fetched_to)
                        )
                run.recorder.page(rows=page.rows if page else 0)
            return known
        except OrgAPIError as exc:
            if not options.refuse(exc):
                raise
            run.recorder.page(rows=0)  # the refused request; the window starts again without it


def _sync_turn(run: _Run, plan: _Plan, index: int) -> None:
    """One window of the plan; after its last, the range held before, when the API takes back
    an option it refused: fetch what we held without it once more."""
    stream, options = plan.stream, plan.options
    plan.held = _sync_window(run, stream, options, plan.windows[index], plan.held)
    if index == len(plan.windows) - 1 and options.restored and plan.known:
        first = min(w[0] for w in plan.windows)
        if plan.known[0] < first:
            _sync_window(run, stream, options, (plan.known[0], first), plan.held)


def _route(
    rounds: Sequence[tuple[_Plan, int | None]], recorder: RunRecorder, window: _Window
) -> _Window | None:
    """The window fetched after `window`: the next in turn of a stream still in the run that
    the key may read. Runs on the fetch thread: no database here, only the plans made at the
    start of the run."""
    # The plans' windows are whole buckets already (_page_windows): their starts compare as is.
    at = next(
        (
            n
            for n, (plan, index) in enumerate(rounds)
            if index is not None
            and plan.stream is window.stream
            and plan.windows[index][0] == window.start
        ),
        None,
    )
    if at is None:
        return None
    plan, index = rounds[at]
    if index == len(plan.windows) - 1 and plan.options.restored:
        return None  # the held range is fetched again first (see _sync_turn)
    for plan, index in rounds[at + 1 :]:
        if index is not None and not plan.out and recorder.may_read(plan.stream.area):
            return plan.window(index)
    return None


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
    (the key refused, the quota spent, the API unreachable). Usage or costs that the admin key
    may not read are skipped and marked "not permitted by this key" on the connection; a key that
    may read neither ends the run "not permitted".

    A connection whose API has no token usage (an xAI team) syncs its costs only, under the same
    run, lock and watermarks (`dashboard.sync.xai_costs`).
    """
    if not org.has_capability(Capability.USAGE):
        return xai_costs.costs_sync(
            org=org, start=start, end=end, refetch=refetch, triggered_by=triggered_by
        )
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
        _sync_streams(
            org,
            _streams(org, client, families),
            recorder,
            start=start,
            end=end,
            refetch=refetch,
            now=now,
        )
    return recorder.run


def _sync_streams(
    org: Organization,
    streams: Sequence[_Stream],
    recorder: RunRecorder,
    *,
    start: dt.datetime | None,
    end: dt.datetime,
    refetch: bool,
    now: dt.datetime,
) -> None:
    """The streams' windows in turns (_rounds): a stream that fails is recorded and the others
    go on; one the key may not read is skipped (and its area asked once)."""
    last_error: Exception | None = None
    tried = 0
    rounds: list[tuple[_Plan, int | None]] = []  # made once the run is: the fetch thread follows
    run = _Run(org, recorder, _fetcher(partial(_route, rounds, recorder)), start, end, refetch, now)
    rounds.extend(_rounds([_plan(run, stream) for stream in streams]))
    try:
        for plan, index in rounds:
            stream = plan.stream
            if plan.out or not recorder.may_read(stream.area):
                continue  # failed, or refused for another stream of the area: not asked again
            if index in (None, 0):
                tried += 1
            try:
                if index is not None:
                    _sync_turn(run, plan, index)
            except (OrgAPIError, SyncDataError) as exc:
                plan.out = True
                if isinstance(exc, OrgAPIError) and exc.permission_denied:
                    recorder.area_refused(area=stream.area, error=exc)
                    tried -= 1
                    continue
                if isinstance(exc, OrgAPIError) and exc.account_wide:
                    raise
                log.warning("usage sync of %s: %s failed: %s", org, stream.label, exc)
                recorder.stream_failed(stream=stream.endpoint, label=stream.label, error=exc)
                last_error = exc
            else:
                if index is None or index == len(plan.windows) - 1:
                    recorder.area_read(stream.area)
    finally:
        run.fetcher.close()
    if last_error is not None and len(recorder.failures) == tried:
        raise last_error
    if recorder.refused and not recorder.read:
        raise NothingPermitted("This connection's admin key may read neither usage nor costs.")
