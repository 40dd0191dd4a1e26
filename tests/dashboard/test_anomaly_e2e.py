"""Anomalies end to end: the simulator's costs, the real usage sync, the detector, the causes.

The simulator plants a spike on its busiest API key (`Surge`), the sync stores its 90 days of
costs as it would a live organization's, and `anomaly_episodes` reads them back by key,
project and model. One spike on one key must make one anomaly, naming that key.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from dashboard.anomaly_causes import anomaly_episodes, episode_causes
from dashboard.sync.usage import usage_sync
from orgadmin.client import install_transport
from orgadmin.simulator import create_app
from orgadmin.simulator.scenarios.base import HISTORY_DAYS
from orgadmin.simulator.usage.surges import Surge, busiest_keys, surge_apply
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory.run import directory_sync
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL, SIM_NOW, Clock
from tests.factories import OrganizationFactory

SPIKE = Surge(factor=5.0, days=3)
FAMILIES = ["moderations"]  # costs always sync; one small usage family keeps the sync quick


def _connect(surges, now=lambda: SIM_NOW):
    app = create_app(scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=now, surges=surges)
    org = OrganizationFactory(
        name="Acme (simulator)", base_url=SIM_BASE_URL, admin_key=SIM_ADMIN_KEY
    )
    return app, org


@pytest.fixture
def mounted():
    """Mount simulators built by the test at SIM_BASE_URL, one at a time."""
    stack = []

    def mount(app):
        ctx = install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app))
        ctx.__enter__()
        stack.append(ctx)
        return app

    yield mount
    while stack:
        stack.pop().__exit__(None, None, None)


def _today() -> dt.date:
    return dt.datetime.fromtimestamp(SIM_NOW, dt.UTC).date()


@pytest.mark.django_db
def test_it_raises_one_anomaly_naming_the_spiked_key_within_one_sync(mounted, client_as, admin):
    app, org = _connect([SPIKE])
    mounted(app)
    usage_sync(org=org, families=FAMILIES)
    audit_log_sync(
        org=org, since=dt.datetime.fromtimestamp(SIM_NOW, dt.UTC) - dt.timedelta(days=14)
    )
    directory_sync(org=org)

    episodes = anomaly_episodes(org=org, today=_today())

    (surge,) = app.surges
    key = app.store.api_keys[surge.key_id]
    assert len(episodes) == 1, [(e.group, e.start, e.end) for e in episodes]
    (episode,) = episodes
    assert episode.group == ("api_key_id", key.id)
    spike_days = [_today() - dt.timedelta(days=n) for n in range(SPIKE.days, 0, -1)]
    assert [d.day for d in episode.days] == spike_days
    assert episode.open  # it reaches yesterday: it may go on
    assert all(d.actual > 3 * d.expected for d in episode.days)
    # The key's project and models rose too: evidence of the same anomaly, not anomalies.
    assert ("project_id", key.project_id) in {r.group for r in episode.related}

    (cause,) = episode_causes(org=org, episodes=episodes)
    named = cause.movers[0]
    assert (named.dimension, named.value) == ("api_key_id", key.id)
    assert named.name == key.name  # from the directory cache, as the page shows it
    assert abs(named.actual - episode.actual) <= 0.01 * len(episode.days)  # the same costs
    assert named.change > episode.excess / 2  # against the usual same weekdays
    project = cause.top("project_id")
    assert project is not None
    assert project.value == key.project_id
    assert project.name == app.store.projects[key.project_id].name
    assert cause.top("model") is not None
    assert cause.top("line_item") is not None
    # The rate limit raised that morning, in the key's project.
    (change,) = cause.changes
    assert change.type == "rate_limit.updated"
    assert change.project_id == key.project_id
    assert change.effective_at.date() == spike_days[0]

    # The links lead to the key's costs around the spike, and to the audit event.
    page = client_as(admin).get(named.link.url())
    assert page.status_code == 200
    assert f"${episode.peak.actual:,.2f}" in page.content.decode()  # the spike's top day
    event = client_as(admin).get(change.link.url())
    assert event.status_code == 200
    assert "rate limit" in event.content.decode().lower()


@pytest.mark.django_db
def test_it_raises_none_on_the_demo(mounted):
    app, org = _connect([])
    mounted(app)
    usage_sync(org=org, families=FAMILIES)

    assert anomaly_episodes(org=org, today=_today()) == []


@pytest.mark.django_db
def test_it_raises_none_for_a_weekly_batch_job(mounted):
    # Six times the busiest key's usage every Saturday of the history: the weekly rhythm.
    app, org = _connect([Surge(factor=6.0, weekday=5)])
    mounted(app)
    usage_sync(org=org, families=FAMILIES)

    saturdays = [
        _today() - dt.timedelta(days=n)
        for n in range(1, 15)
        if (_today() - dt.timedelta(days=n)).weekday() == 5
    ]
    assert saturdays  # the last two weeks hold the job's days, and none of them fires
    assert anomaly_episodes(org=org, today=_today()) == []


@pytest.mark.django_db
def test_it_closes_the_episode_when_the_spike_ends_and_marked_expected_it_stops_firing(
    mounted, monkeypatch
):
    from django.utils import timezone

    clock = Clock(SIM_NOW + 1800)
    monkeypatch.setattr(timezone, "now", clock.datetime)
    app, org = _connect([SPIKE], now=clock)
    mounted(app)
    usage_sync(org=org, families=FAMILIES)
    (first,) = anomaly_episodes(org=org, today=clock.datetime().date())
    assert first.open

    clock.advance(days=1)  # the next day's sync: the spike is over
    usage_sync(org=org, families=FAMILIES)
    today = clock.datetime().date()
    (same,) = anomaly_episodes(org=org, today=today)
    assert (same.group, same.start, same.end) == (first.group, first.start, first.end)
    assert not same.open  # a normal day followed: closed, still one episode of 3 days

    # Marked expected: it doesn't fire again, and its project and models don't either.
    assert anomaly_episodes(org=org, today=today, expected=first.marked()) == []


@pytest.mark.django_db
def test_it_reads_anomalies_and_causes_in_a_fixed_number_of_queries(
    mounted, django_assert_num_queries
):
    app, org = _connect([SPIKE])
    second = busiest_keys(app.store.usage, 2)[1]
    surge_apply(app.store, Surge(factor=6.0, days=2, key_id=second), history_days=HISTORY_DAYS)
    mounted(app)
    usage_sync(org=org, families=FAMILIES)

    with django_assert_num_queries(2):
        episodes = anomaly_episodes(org=org, today=_today())
    assert {e.group[1] for e in episodes} == {app.surges[0].key_id, second}
    with django_assert_num_queries(3):
        causes = episode_causes(org=org, episodes=episodes)
    assert [c.movers[0].value for c in causes] == [e.group[1] for e in episodes]
