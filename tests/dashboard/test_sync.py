"""usage_sync against the in-process simulator: totals, idempotence, watermarks, faults, data."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db.models import Count, F, Sum

from dashboard.families import COSTS_ENDPOINT, FAMILIES
from dashboard.models import USAGE_MODELS, CostBucket
from dashboard.sync.usage import usage_sync
from orgadmin.client import OrgAPIError
from orgadmin.models import SyncRun
from orgadmin.simulator import FaultConfig
from orgadmin.sync.runs import SyncBusy, sync_run, watermark_get
from tests.conftest import SIM_NOW

NOW = dt.datetime.fromtimestamp(SIM_NOW, dt.UTC)
DAYS = 6


@pytest.fixture
def start():
    return NOW - dt.timedelta(days=DAYS)


class Counter:
    """Counts the HTTP requests the SDK sends to the simulator (by path)."""

    def __init__(self, app):
        self.app = app
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        self.paths.append(environ["PATH_INFO"])
        return self.app(environ, start_response)


@pytest.fixture
def counted(simulator, monkeypatch):
    import httpx

    from orgadmin.client import install_transport
    from tests.conftest import SIM_BASE_URL

    counter = Counter(simulator)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=counter)):
        yield counter


def _window(start):
    lo = int(start.timestamp()) // 3600 * 3600
    hi = -(-int(dt.datetime.now(dt.UTC).timestamp()) // 3600) * 3600
    return lo, hi


def _assert_matches_simulator(simulator, start):
    lo, hi = _window(start)
    for slug, family in FAMILIES.items():
        model = USAGE_MODELS[slug]
        truth = simulator.store.usage_totals(slug, lo, hi)
        if slug == "vector_stores":
            # A level: each hour of a day reports that day's level; the truth sums daily levels.
            per_day = (
                model.objects.values("bucket_start__date")
                .annotate(level=Sum("usage_bytes"), hours=Count("bucket_start", distinct=True))
                .order_by()
            )
            got = sum(row["level"] // row["hours"] for row in per_day)
            assert got == truth["usage_bytes"], slug
            continue
        sums = model.objects.aggregate(**{m: Sum(m) for m in family.metric_names})
        for metric in family.metric_names:
            assert (sums[metric] or 0) == truth.get(metric, 0), f"{slug}.{metric}"
    day_lo, day_hi = lo // 86400 * 86400, -(-hi // 86400) * 86400
    assert CostBucket.objects.aggregate(t=Sum("amount"))["t"] == simulator.store.cost_total(
        day_lo, day_hi
    )


def _row_counts():
    counts = {slug: m.objects.count() for slug, m in USAGE_MODELS.items()}
    counts["costs"] = CostBucket.objects.count()
    return counts


def test_it_syncs_every_family_and_the_costs_to_the_simulators_totals(org, simulator, start):
    run = usage_sync(org=org, start=start)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.rows_written == sum(_row_counts().values())
    _assert_matches_simulator(simulator, start)
    # Every dimension the spec groups by is filled in.
    assert USAGE_MODELS["completions"].objects.exclude(batch="").exists()
    assert USAGE_MODELS["completions"].objects.exclude(service_tier="").exists()
    assert USAGE_MODELS["images"].objects.exclude(size="").exclude(source="").exists()
    assert CostBucket.objects.exclude(line_item="").exclude(project_id="").exists()


def test_it_keeps_money_exact_to_the_pico_dollar(org, simulator, start):
    usage_sync(org=org, start=start, families=["completions"])

    amounts = list(CostBucket.objects.values_list("amount", flat=True))
    assert all(isinstance(a, Decimal) for a in amounts)
    # No float artefacts such as 0.30000000000000004: at most 12 decimals.
    assert all(-a.as_tuple().exponent <= 12 for a in amounts)


def test_it_changes_nothing_when_run_again(org, simulator, start):
    usage_sync(org=org, start=start)
    before = _row_counts()

    usage_sync(org=org, start=start, refetch=True)

    assert _row_counts() == before
    _assert_matches_simulator(simulator, start)


def test_it_makes_the_fewest_page_requests_on_a_backfill(org, counted, start):
    run = usage_sync(org=org, start=NOW - dt.timedelta(days=20))

    # 20 days and the current hour are 481 hourly buckets: 3 pages of 168 per usage family;
    # 21 daily buckets are one page of costs.
    assert len(counted.paths) == 10 * 3 + 1
    assert run.requests_made == len(counted.paths)


def test_it_fetches_one_page_per_endpoint_when_nothing_is_new(org, counted, start):
    usage_sync(org=org, start=start)
    counted.paths.clear()

    run = usage_sync(org=org)

    assert sorted(counted.paths) == sorted(
        [f"/v1/organization/usage/{slug}" for slug in FAMILIES] + ["/v1/organization/costs"]
    )
    assert run.requests_made == 11


def test_it_refetches_only_the_settle_window_after_the_watermark(org, simulator, start, settings):
    settings.USAGE_SETTLE_HOURS = 5
    usage_sync(org=org, start=start)
    high = watermark_get(org=org, endpoint="usage/completions")
    low = watermark_get(org=org, endpoint="usage/completions#from")
    assert low == start.replace(minute=0, second=0, microsecond=0)
    assert high <= dt.datetime.now(dt.UTC)
    # Recent buckets change: drop the last hours locally; the next run brings them back.
    model = USAGE_MODELS["completions"]
    model.objects.filter(bucket_start__gte=high - dt.timedelta(hours=3)).delete()
    model.objects.filter(bucket_start__lt=high - dt.timedelta(hours=24)).update(input_tokens=0)

    usage_sync(org=org)

    recent = model.objects.filter(bucket_start__gte=high - dt.timedelta(hours=3))
    assert recent.exists()
    # Older buckets, outside the settle window, were not fetched again.
    assert not model.objects.filter(
        bucket_start__lt=high - dt.timedelta(hours=24), input_tokens__gt=0
    ).exists()


def test_it_resumes_after_a_run_that_died_mid_way(org, simulator, start, monkeypatch):
    from dashboard.sync import usage as sync

    calls = {"n": 0}
    real = sync.write_usage_page

    def dies_on_the_fifth_page(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(sync, "write_usage_page", dies_on_the_fifth_page)
    with pytest.raises(KeyboardInterrupt):
        usage_sync(org=org, start=start)
    assert SyncRun.objects.get().status == SyncRun.Status.FAILED
    written_before = _row_counts()
    assert sum(written_before.values()) > 0
    monkeypatch.setattr(sync, "write_usage_page", real)

    run = usage_sync(org=org, start=start)

    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_matches_simulator(simulator, start)
    # The families finished before the crash were only topped up within the settle window.
    assert run.requests_made < 2 * 11


def test_it_refuses_a_second_run_while_one_holds_the_lock(org, simulator):
    with sync_run(org=org, kind=SyncRun.Kind.USAGE), pytest.raises(SyncBusy):
        usage_sync(org=org)


def test_it_survives_rate_limits_server_errors_and_dropped_connections(
    org, simulator, start, settings
):
    settings.USAGE_SYNC_MAX_RETRIES = 5
    simulator.faults = FaultConfig(
        script=["429", "500", "drop", "503", "ok", "502", "429", "ok", "500"],
        retry_after=None,
        retry_after_ms=10,
    )

    run = usage_sync(org=org, start=start)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert sum(simulator.fault_counts.values()) == 7
    _assert_matches_simulator(simulator, start)


def test_it_gives_up_on_a_quota_error_with_a_readable_message(org, simulator, start, settings):
    settings.USAGE_SYNC_MAX_RETRIES = 1
    simulator.faults = FaultConfig(script=["quota", "quota"])

    with pytest.raises(OrgAPIError) as info:
        usage_sync(org=org, start=start)

    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.FAILED
    assert "HTTP 429" in run.error
    assert "request id" in run.error
    assert info.value.status == 429


class Mangle:
    """Rewrites the simulator's JSON answers: extra fields, amounts as strings."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        if captured["status"].startswith("200"):
            page = json.loads(body)
            page["surprise"] = {"new": "field"}
            for bucket in page["data"]:
                bucket["extra_bucket_field"] = 1
                for result in bucket["results"]:
                    result["brand_new_metric"] = 42
                    if "amount" in result:
                        result["amount"]["value"] = repr(result["amount"]["value"])
                        result["amount"]["currency"] = "USD"
                        result["amount"]["precision"] = "exact"
            body = json.dumps(page).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


def test_it_takes_unexpected_fields_and_amounts_sent_as_strings(org, simulator, start):
    import httpx

    from orgadmin.client import install_transport
    from tests.conftest import SIM_BASE_URL

    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=Mangle(simulator))):
        run = usage_sync(org=org, start=start)

    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_matches_simulator(simulator, start)
    assert set(CostBucket.objects.values_list("currency", flat=True)) == {"usd"}


def test_it_records_pages_and_rows_on_the_run(org, simulator, start):
    run = usage_sync(org=org, start=start)

    run.refresh_from_db()
    assert run.kind == SyncRun.Kind.USAGE
    assert run.finished_at >= run.started_at
    assert run.requests_made == 11
    assert run.rows_written > 0
    assert run.params["start"] == start.isoformat()
    assert watermark_get(org=org, endpoint=COSTS_ENDPOINT) is not None


def test_deleting_an_organization_deletes_its_rows_and_no_one_elses(org, simulator, start):
    # The usage and cost tables carry no foreign-key constraint (a per-row check on bulk
    # writes); the organization's rows still go with it, through Django's CASCADE.
    from dashboard.models import DAILY_MODELS
    from tests.conftest import SIM_ADMIN_KEY
    from tests.factories import OrganizationFactory

    usage_sync(org=org, start=start, families=["completions"])
    other = OrganizationFactory(name="Other", base_url=org.base_url, admin_key=SIM_ADMIN_KEY)
    usage_sync(org=other, start=start, families=["completions"])
    tables = [USAGE_MODELS["completions"], DAILY_MODELS["completions"], CostBucket]
    kept = {m: m.objects.filter(org=other).count() for m in tables}
    assert all(kept.values()), kept

    org.delete()

    for model in tables:
        assert not model.objects.exclude(org=other).exists(), model.__name__
        assert model.objects.filter(org=other).count() == kept[model], model.__name__


def test_a_synced_page_is_freed_without_waiting_for_the_garbage_collector(org, simulator, start):
    # A page of completions can be megabytes: a backfill must not hold every page read until
    # the cyclic collector happens to run (httpx keeps a response in a cycle with its stream).
    import gc

    import httpx

    gc.collect()
    gc.disable()
    try:
        run = usage_sync(org=org, start=start, families=["completions", "embeddings"])
        alive = [o for o in gc.get_objects() if type(o) is httpx.Response]
    finally:
        gc.enable()
    assert run.requests_made == 3  # two families and the costs
    assert alive == []


def test_it_keeps_the_daily_rollup_equal_to_the_hours(org, simulator, start):
    from django.db.models.functions import TruncDate

    from dashboard.models import DAILY_MODELS

    usage_sync(org=org, start=start, families=["completions", "vector_stores"])
    hourly = USAGE_MODELS["completions"]
    # Local rows that drifted from the API: the next run puts both tables right.
    hourly.objects.update(input_tokens=F("input_tokens") + 1)
    usage_sync(org=org, start=start, families=["completions"], refetch=True)

    by_day = (
        hourly.objects.annotate(day=TruncDate("bucket_start"))
        .values("day")
        .annotate(t=Sum("input_tokens"), r=Sum("num_model_requests"))
        .order_by("day")
    )
    daily = DAILY_MODELS["completions"].objects.order_by("bucket_start")
    rolled = daily.values("bucket_start__date").annotate(
        t=Sum("input_tokens"), r=Sum("num_model_requests")
    )
    assert [(r["day"], r["t"], r["r"]) for r in by_day] == [
        (r["bucket_start__date"], r["t"], r["r"]) for r in rolled
    ]
    assert all(b.bucket_start.hour == 0 for b in daily)
    # A level is the day's mean, not a sum of 24 hours.
    level = DAILY_MODELS["vector_stores"].objects.first()
    hours = USAGE_MODELS["vector_stores"].objects.filter(
        project_id=level.project_id,
        bucket_start__gte=level.bucket_start,
        bucket_start__lt=level.bucket_start + dt.timedelta(days=1),
    )
    values = list(hours.values_list("usage_bytes", flat=True))
    assert level.usage_bytes == round(sum(values) / len(values))


def test_a_page_replaces_the_rows_of_its_buckets(org):
    """Rows the API no longer returns go, a skipped bucket is emptied, a bucket sent twice keeps
    its last copy, and the daily rollup follows: what an upsert and a sweep would give."""
    from dashboard.models import DAILY_MODELS
    from dashboard.sync.writer import write_usage_page

    family = FAMILIES["embeddings"]
    model = USAGE_MODELS["embeddings"]
    hour = dt.timedelta(hours=1)
    day = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

    def result(project, tokens, **extra):
        row = {d: "" for d in family.dimensions} | {m: 0 for m in family.metric_names}
        return row | {"project_id": project, "input_tokens": tokens, **extra}

    def bucket(h, *results):
        start = day + h * hour
        return {
            "start_time": int(start.timestamp()),
            "end_time": int((start + hour).timestamp()),
            "results": list(results),
        }

    first = [bucket(0, result("p1", 5), result("p2", 6)), bucket(1, result("p3", 7)), bucket(2)]
    write_usage_page(org, family, first, NOW - dt.timedelta(minutes=2))
    assert model.objects.count() == 3

    # Bucket 0 again without p2 (and sent twice: the last copy holds), bucket 1 skipped (a gap),
    # bucket 2 now has a row; p4's tokens come as a string (the careful path).
    second = [
        bucket(0, result("p1", 1)),
        bucket(0, result("p1", 9)),
        bucket(2, result("p4", "11")),
    ]
    write_usage_page(org, family, second, NOW - dt.timedelta(minutes=1))

    held = sorted(model.objects.values_list("bucket_start", "project_id", "input_tokens"))
    assert held == [(day, "p1", 9), (day + 2 * hour, "p4", 11)]
    daily = DAILY_MODELS["embeddings"].objects.values_list("project_id", "input_tokens")
    assert sorted(daily) == [("p1", 9), ("p4", 11)]
