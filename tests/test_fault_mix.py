"""The three syncs (directory, audit log, usage and costs) under the simulator's whole fault mix
at 30% of requests: rate limits with and without Retry-After, 500/502/503, slow answers and
dropped connections. Each converges to the simulator's exact state (nothing lost, nothing
duplicated), and a second run through the same storm changes nothing.

And a 429 without Retry-After (insufficient quota) is retried a bounded number of times, then
fails the run with a message a person can read.
"""

from __future__ import annotations

import datetime as dt

import httpx
import openai
import pytest

from dashboard.models import USAGE_MODELS, CostBucket
from dashboard.sync.usage import usage_sync
from orgadmin.client import OrgAPIError, install_transport
from orgadmin.models import AuditEvent, SyncRun
from orgadmin.simulator import FaultConfig, create_app
from orgadmin.simulator.quirks import Quirks
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import DirectorySyncIncomplete, directory_sync
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.dashboard.test_live_api import _costs_stored, _costs_truth, _usage_matches
from tests.dashboard.test_sync import NOW, _assert_matches_simulator
from tests.orgadmin.test_directory_sync import cached_directory, truth

EVERY_FAULT = {"429": 3, "quota": 1, "500": 1, "502": 1, "503": 1, "slow": 1, "drop": 1}


def storm(seed: int) -> FaultConfig:
    return FaultConfig(rate=0.3, mix=EVERY_FAULT, retry_after_ms=1, slow_ms=20, seed=seed)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch, settings):
    """The SDK's own backoff (0.5 s and up) would make this slow; the retries stay bounded."""
    monkeypatch.setattr(openai._base_client, "INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr(openai._base_client, "MAX_RETRY_DELAY", 0.002)
    settings.OPENAI_MAX_RETRIES = 3
    settings.USAGE_SYNC_MAX_RETRIES = 3
    settings.AUDIT_LOG_OVERLAP_SECONDS = 2 * 3600  # see tests/orgadmin/test_audit_sync.py


def until_it_succeeds(sync, *, attempts: int = 40) -> tuple[SyncRun, int]:
    """Run a sync like beat would, until a run succeeds; returns it and the failed runs."""
    failed = 0
    for _ in range(attempts):
        try:
            run = sync()
        except (OrgAPIError, DirectorySyncIncomplete):
            failed += 1
            continue
        if run.status == SyncRun.Status.SUCCEEDED:
            return run, failed
        failed += 1
    raise AssertionError(f"no run succeeded in {attempts} attempts")


def _assert_failures_readable(org, kind) -> None:
    for run in SyncRun.objects.filter(org=org, kind=kind, status=SyncRun.Status.FAILED):
        assert "HTTP" in run.error or "reach" in run.error or "time" in run.error, run.error


def test_the_directory_sync_converges_under_the_fault_mix(org, simulator):
    simulator.faults = storm(seed=11)
    until_it_succeeds(lambda: directory_sync(org=org))
    assert cached_directory(org) == truth(simulator)
    assert sum(simulator.fault_counts.values()) >= 5
    until_it_succeeds(lambda: directory_sync(org=org))
    assert cached_directory(org) == truth(simulator)
    _assert_failures_readable(org, SyncRun.Kind.DIRECTORY)


def test_the_audit_log_sync_converges_under_the_fault_mix(org, simulator):
    simulator.faults = storm(seed=12)
    until_it_succeeds(lambda: audit_log_sync(org=org))
    ids = list(AuditEvent.objects.filter(org=org).values_list("event_id", flat=True))
    assert sorted(ids) == sorted(simulator.store.audit_event_ids())  # no gap, no duplicate
    assert sum(simulator.fault_counts.values()) >= 5
    again, _ = until_it_succeeds(lambda: audit_log_sync(org=org))
    assert again.rows_written == 0
    assert AuditEvent.objects.filter(org=org).count() == len(ids)
    _assert_failures_readable(org, SyncRun.Kind.AUDIT_LOG)


def test_the_usage_sync_converges_under_the_fault_mix(org, simulator):
    start = NOW - dt.timedelta(days=6)
    simulator.faults = storm(seed=13)
    until_it_succeeds(lambda: usage_sync(org=org, start=start))
    _assert_matches_simulator(simulator, start)
    assert sum(simulator.fault_counts.values()) >= 5
    rows = {slug: model.objects.count() for slug, model in USAGE_MODELS.items()}
    costs = CostBucket.objects.count()
    until_it_succeeds(lambda: usage_sync(org=org, start=start))
    assert {slug: model.objects.count() for slug, model in USAGE_MODELS.items()} == rows
    assert CostBucket.objects.count() == costs
    _assert_matches_simulator(simulator, start)
    _assert_failures_readable(org, SyncRun.Kind.USAGE)


def test_the_usage_sync_converges_under_the_fault_mix_with_the_live_quirks(org, clock):
    """String amounts, buckets labelled from the request and ending at "now", and closed
    buckets revised upward for hours: still exact under the storm, revisions included."""
    app = create_app(
        scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=clock, quirks=Quirks.live()
    )
    app.faults = storm(seed=14)
    start = clock.datetime() - dt.timedelta(days=4)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        until_it_succeeds(lambda: usage_sync(org=org, start=start))
        clock.advance(hours=8)  # every late report of the last hours is in by now
        until_it_succeeds(lambda: usage_sync(org=org))
    assert sum(app.fault_counts.values()) >= 5
    _usage_matches(app, clock, start=start)
    cost_dims = ("project_id", "line_item", "api_key_id")
    assert _costs_stored(cost_dims) == _costs_truth(app, clock, cost_dims, start)


SYNCS = {
    "directory": lambda org: directory_sync(org=org),
    "audit log": lambda org: audit_log_sync(org=org),
    "usage": lambda org: usage_sync(org=org, start=NOW - dt.timedelta(days=2)),
}


@pytest.mark.parametrize("name", list(SYNCS))
def test_a_429_without_retry_after_is_retried_a_bounded_number_of_times(name, org, simulator):
    simulator.faults = FaultConfig(script=["quota"] * 50)  # would go on for ever

    with pytest.raises((OrgAPIError, DirectorySyncIncomplete)) as refused:
        SYNCS[name](org)

    # Each request: the first try and 3 retries, no more. The directory sync tries each of its
    # sections once, and gives up on those that failed.
    tries = simulator.fault_counts["quota"]
    requests = str(refused.value).count("HTTP 429") if name == "directory" else 1
    assert tries == (3 + 1) * requests
    assert tries < 50
    run = SyncRun.objects.filter(org=org).order_by("-started_at").first()
    assert run.status == SyncRun.Status.FAILED
    assert "HTTP 429" in run.error
    assert "quota" in run.error.lower()
