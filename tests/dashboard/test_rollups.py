"""The rollups the pages read: kept equal to the raw rows by every write (sync pages, faults,
revisions, a killed run, a timezone change), checked and rebuilt by `manage.py rollups`, and
giving every selector exactly what the raw rows give."""

from __future__ import annotations

import datetime as dt
import io

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.urls import reverse

from dashboard.families import FAMILIES
from dashboard.models import (
    ROLLUP_MODELS,
    USAGE_MODELS,
    CostBucket,
    CostRollup,
    DataGeneration,
    RollupTimezone,
)
from dashboard.services import reporting_timezone_set
from dashboard.sync.rollup_check import rollups_check
from dashboard.sync.usage import usage_sync
from orgadmin.client import install_transport
from orgadmin.models import SyncRun
from orgadmin.simulator import FaultConfig, create_app
from orgadmin.simulator.quirks import Quirks
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.dashboard.test_sync import NOW

DAYS = 6


@pytest.fixture
def start():
    return NOW - dt.timedelta(days=DAYS)


def _generation(org) -> int:
    return DataGeneration.objects.filter(org=org).values_list("value", flat=True).first() or 0


def _check(org) -> list[str]:
    return [str(d) for d in rollups_check(org=org)]


# --- kept by the sync ------------------------------------------------------------------------


def test_a_sync_leaves_every_aggregate_equal_to_the_raw_rows(org, simulator, start):
    usage_sync(org=org, start=start)

    assert _check(org) == []
    out = io.StringIO()
    call_command("rollups", "check", stdout=out)
    assert "agree with the raw rows" in out.getvalue()
    # Every grain of every family is there, and the costs along each dimension.
    for slug, model in ROLLUP_MODELS.items():
        grains = set(model.objects.filter(org=org).values_list("grain", flat=True))
        assert grains == {"1h", "1d"}, slug
    dims = set(CostRollup.objects.filter(org=org).values_list("dimension", flat=True))
    assert dims == {"", "line_item", "model", "project_id", "api_key_id"}


def test_the_aggregates_stay_exact_through_faults_and_a_killed_run(
    org, simulator, start, monkeypatch, settings
):
    from dashboard.sync import usage as sync

    settings.USAGE_SYNC_MAX_RETRIES = 5
    simulator.faults = FaultConfig(
        script=["429", "500", "drop", "503", "ok", "502", "429", "ok", "500"],
        retry_after=None,
        retry_after_ms=10,
    )
    real, calls = sync.write_usage_page, {"n": 0}

    def dies_on_the_seventh_page(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(sync, "write_usage_page", dies_on_the_seventh_page)
    with pytest.raises(KeyboardInterrupt):
        usage_sync(org=org, start=start)
    assert _check(org) == []  # whole pages only: what is held agrees
    monkeypatch.setattr(sync, "write_usage_page", real)

    run = usage_sync(org=org, start=start)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert _check(org) == []


def test_a_run_killed_between_a_pages_rows_and_its_rollups_leaves_neither(
    org, simulator, start, monkeypatch
):
    from dashboard.sync import rollups

    real, calls = rollups._fold_days, {"n": 0}

    def dies_on_the_fourth_fold(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(rollups, "_fold_days", dies_on_the_fourth_fold)
    with pytest.raises(KeyboardInterrupt):
        usage_sync(org=org, start=start)
    held = sum(m.objects.filter(org=org).count() for m in USAGE_MODELS.values())
    assert held > 0  # the pages before it are stored
    assert _check(org) == []  # and the killed one left no raw row without its rollups
    generation = _generation(org)
    monkeypatch.setattr(rollups, "_fold_days", real)

    usage_sync(org=org, start=start)

    assert _check(org) == []
    assert _generation(org) > generation


def test_revised_buckets_revise_the_aggregates(org, clock):
    """The live API revises closed buckets upward for hours: the re-fetched pages replace the
    rows, and the rollups of those hours and days follow."""
    app = create_app(
        scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=clock, quirks=Quirks.live()
    )
    start = clock.datetime() - dt.timedelta(days=3)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        usage_sync(org=org, start=start)
        before = _totals(org)
        clock.advance(hours=8)
        usage_sync(org=org)

    assert _check(org) == []
    assert _totals(org) != before  # the revisions did change what the pages read


def _totals(org) -> dict[str, int]:
    model = ROLLUP_MODELS["completions"]
    rows = model.objects.filter(org=org, grain="1d", dimension="")
    return {str(r.bucket_start): r.input_tokens for r in rows}


# --- the command -------------------------------------------------------------------------------


def test_the_check_lists_what_differs_and_rebuild_puts_it_right(org, simulator, start):
    usage_sync(org=org, start=start, families=["completions", "vector_stores"])
    # Raw rows changed behind the sync's back (as a hand-made UPDATE would).
    raw = USAGE_MODELS["completions"].objects.filter(org=org)
    model = raw.order_by("model").values_list("model", flat=True).first()
    raw.filter(model=model).update(input_tokens=F("input_tokens") + 1)
    CostBucket.objects.filter(org=org).order_by("pk")[:1].get().delete()

    out = io.StringIO()
    with pytest.raises(CommandError, match="differ from the raw rows"):
        call_command("rollups", "check", "--org", org.name, "--limit", "100000", stdout=out)
    listing = out.getvalue()
    assert "completions rollup 1h ('', ''," in listing
    assert f"completions rollup 1d ('model', '{model}'," in listing
    changed = raw.filter(model=model).first().bucket_start
    assert f"completions daily ({changed:%Y-%m-%d} 00:00" in listing
    assert "cost rollup" in listing
    assert "expected" in listing
    assert "found" in listing

    call_command("rollups", "rebuild", "--org", str(org.pk), stdout=io.StringIO())

    assert _check(org) == []


def test_the_check_finds_a_missing_and_a_stray_row(org, simulator, start):
    usage_sync(org=org, start=start, families=["embeddings"])
    rollup = ROLLUP_MODELS["embeddings"]
    gone = rollup.objects.filter(org=org, grain="1d", dimension="project_id").first()
    gone.delete()
    rollup.objects.create(
        org=org, grain="1h", dimension="model", value="no-such-model",
        bucket_start=gone.bucket_start, hours=1, input_tokens=5, num_model_requests=1,
    )  # fmt: skip

    found = _check(org)

    assert any(f"'{gone.value}'" in d and "found no row" in d for d in found), found
    assert any("'no-such-model'" in d and "expected no row" in d for d in found), found


# --- the reporting timezone --------------------------------------------------------------------


def test_changing_the_reporting_timezone_cuts_the_local_days_in_it(org, simulator, start, admin):
    usage_sync(org=org, start=start, families=["completions", "vector_stores"])
    local = ROLLUP_MODELS["completions"].objects.filter(org=org, grain="local")
    assert not local.exists()  # UTC: its days are the "1d" rollups

    reporting_timezone_set(org=org, timezone="Asia/Kolkata", actor=admin)

    assert RollupTimezone.objects.get(org=org).timezone == "Asia/Kolkata"
    midnights = {b.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))).time() for b in
                 local.values_list("bucket_start", flat=True)}  # fmt: skip
    assert midnights == {dt.time(0)}
    assert _check(org) == []
    # The next pages keep the local days too.
    usage_sync(org=org, start=start, refetch=True, families=["completions"])
    assert _check(org) == []

    reporting_timezone_set(org=org, timezone="UTC", actor=admin)

    assert not local.exists()
    assert _check(org) == []


def test_a_timezone_set_behind_the_services_back_is_folded_from_the_hours(org, simulator, start):
    from zoneinfo import ZoneInfo

    from dashboard import selectors
    from dashboard.models import ReportingSettings
    from dashboard.periods import Period
    from dashboard.selectors import UsageQuery
    from tests.dashboard.test_rollup_reads import _same

    usage_sync(org=org, start=start, families=["completions"])
    ReportingSettings.objects.create(org=org, timezone="Asia/Kolkata")  # not through the service

    tz = ZoneInfo("Asia/Kolkata")
    days = Period(start.astimezone(tz).date(), NOW.astimezone(tz).date(), tz)
    query = UsageQuery(FAMILIES["completions"], days, "1d", ("model",))
    table = _same(lambda: selectors.usage_table(org=org, query=query).cells)
    assert table  # the same numbers, folded from the hours
    out = io.StringIO()
    call_command("rollups", "check", stdout=out)  # exact, with a note
    assert "cut in UTC, the reporting timezone is Asia/Kolkata" in out.getvalue()

    call_command("rollups", "rebuild", stdout=io.StringIO())

    assert RollupTimezone.objects.get(org=org).timezone == "Asia/Kolkata"
    assert _check(org) == []
    assert _same(lambda: selectors.usage_table(org=org, query=query).cells) == table


# --- the data generation -----------------------------------------------------------------------


def test_the_data_generation_moves_with_each_page_written_and_not_otherwise(
    org, simulator, start, client_as, finance
):
    assert _generation(org) == 0
    run = usage_sync(org=org, start=start, families=["completions", "embeddings"])
    assert _generation(org) == run.requests_made  # one page per stream here

    client = client_as(finance)
    for name in ("home", "costs", "usage"):
        assert client.get(reverse(name)).status_code == 200
    call_command("rollups", "check", stdout=io.StringIO())
    assert _generation(org) == run.requests_made  # reading moves nothing

    again = usage_sync(org=org, start=start, families=["embeddings"], refetch=True)
    assert _generation(org) == run.requests_made + again.requests_made


def test_deleting_an_organization_deletes_its_aggregates(org, simulator, start):
    usage_sync(org=org, start=start, families=["embeddings"])
    tables = [ROLLUP_MODELS["embeddings"], CostRollup, DataGeneration]
    assert all(m.objects.filter(org=org).exists() for m in tables)

    org.delete()

    assert not any(m.objects.exists() for m in tables)


# --- summed off the writer's thread ------------------------------------------------------------


def _result(project, user, *, tokens, cached=None):
    return {
        "project_id": project,
        "user_id": user,
        "api_key_id": "key_a",
        "model": "gpt-4o",
        "batch": False,
        "service_tier": "default",
        "input_tokens": tokens,
        "output_tokens": 1,
        "num_model_requests": 1,
        "input_cached_tokens": cached,
    }


@pytest.mark.parametrize("in_python", [True, False], ids=["summed-in-python", "summed-by-sql"])
def test_hourly_rollups_summed_from_a_page_equal_the_raw_rows_sql_sums(org, monkeypatch, in_python):
    """On PostgreSQL the fetch thread sums a page's hourly rollups in Python: the same as SQL
    over the rows stored, through what pages send besides plain rows (a metric null in some rows
    or all of a group, a combination twice in one bucket, a bucket sent twice, an unaligned
    start, a gap)."""
    from dashboard.sync import writer
    from dashboard.sync.writer import write_usage_page

    monkeypatch.setattr(writer, "sums_hours_itself", lambda: in_python)

    hour = int(NOW.replace(minute=0, second=0, microsecond=0).timestamp()) - 10 * 3600
    bucket = lambda at, results: {"start_time": at, "end_time": at + 3600, "results": results}  # noqa: E731
    page = [
        bucket(hour, [_result("p1", "u1", tokens=5), _result("p1", "u2", tokens=7, cached=3)]),
        # the same combination twice in one bucket: added up
        bucket(hour + 3600, [_result("p1", "u1", tokens=1), _result("p1", "u1", tokens=2)]),
        # sent twice: the second copy is what counts
        bucket(hour + 7200, [_result("p2", "u1", tokens=100)]),
        bucket(hour + 7200, [_result("p2", "u3", tokens=11, cached=0)]),
        # a gap of one hour, then a start that is not on the hour
        bucket(hour + 4 * 3600 + 60, [_result("p3", "u1", tokens=4)]),
    ]
    write_usage_page(org, FAMILIES["completions"], page, NOW)

    assert _check(org) == []
    rollup = ROLLUP_MODELS["completions"].objects.filter(org=org, grain="1h")
    by_user = {
        (r.bucket_start.hour, r.value): (r.input_tokens, r.input_cached_tokens)
        for r in rollup.filter(dimension="user_id")
    }
    first = (hour // 3600) % 24
    assert by_user == {
        (first, "u1"): (5, None),  # null in every row of the group: null, as SQL's SUM
        (first, "u2"): (7, 3),
        ((first + 1) % 24, "u1"): (3, None),
        ((first + 2) % 24, "u3"): (11, 0),
        ((first + 4) % 24, "u1"): (4, None),
    }
    total = rollup.get(dimension="", bucket_start__hour=first)
    assert (total.input_tokens, total.input_cached_tokens) == (12, 3)
