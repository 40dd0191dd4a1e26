"""The demo and large scenarios: what they hold, how fast they build, and determinism."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from orgadmin.simulator import SimulatorApp, create_app
from orgadmin.simulator.audit import NO_PAYLOAD
from orgadmin.simulator.usage.families import FAMILIES
from tests.simulator.support import DAY, KEY, NOW, TODAY, make_app, make_client


def _snapshot(app: SimulatorApp) -> dict:
    """Everything a client can see: directory, audit ids, and some usage and cost pages."""
    client = make_client(app)
    org = client.admin.organization
    start = TODAY - 40 * DAY
    pages = {
        family: json.loads(
            getattr(org.usage.with_raw_response, family)(
                start_time=start, limit=31, group_by=["project_id"]
            ).text
        )
        for family in FAMILIES
    }
    costs = org.usage.with_raw_response.costs(
        start_time=start, limit=60, group_by=["line_item", "api_key_id"]
    ).text
    keys = [
        k.model_dump()
        for p in org.projects.list(include_archived=True)
        for k in org.projects.api_keys.list(p.id, owner_project_access="any")
    ]
    return {
        "directory": app.store.directory(),
        "audit": app.store.audit_event_ids(),
        "usage": pages,
        "costs": costs,
        "keys": keys,
    }


def build(scenario: str = "demo", seed: int = 0) -> SimulatorApp:
    """A fresh build (make_app() clones a cached one, which would prove nothing here)."""
    return create_app(scenario=scenario, seed=seed, admin_keys=[KEY], now=lambda: NOW)


@pytest.fixture(scope="module")
def large() -> SimulatorApp:
    return build("large", seed=1)


def test_it_builds_the_same_demo_for_the_same_seed_and_now() -> None:
    assert _snapshot(build(seed=3)) == _snapshot(build(seed=3))


def test_it_builds_a_different_demo_for_another_seed() -> None:
    one, other = _snapshot(build(seed=3)), _snapshot(build(seed=4))
    assert one["directory"]["users"] != other["directory"]["users"]
    assert one["usage"] != other["usage"]


def test_it_builds_the_same_large_scenario_for_the_same_seed(large: SimulatorApp) -> None:
    one, other = large.store, build("large", seed=1).store
    assert one.directory() == other.directory()
    assert one.audit_event_ids() == other.audit_event_ids()
    window = (TODAY - 30 * DAY, NOW)
    assert one.cost_total(*window, now=NOW) == other.cost_total(*window, now=NOW)


@pytest.mark.parametrize(("scenario", "budget"), [("demo", 2.0), ("large", 20.0)])
def test_it_builds_scenarios_within_their_time_budget(scenario: str, budget: float) -> None:
    started = time.perf_counter()
    build(scenario)
    elapsed = time.perf_counter() - started
    print(f"\n{scenario} scenario built in {elapsed:.3f} s (budget {budget} s)")
    assert elapsed < budget


def test_it_gives_the_demo_a_believable_directory() -> None:
    store = make_app().store
    roles = Counter(u.role for u in store.users.values())
    assert roles["owner"] == 5
    assert roles["reader"] == 35
    assert {i.status for i in store.invites.values()} == {"pending", "accepted", "expired"}
    assert len(store.projects) == 12
    assert sum(p.archived_at is not None for p in store.projects.values()) == 2
    assert sum(len(p.service_accounts) for p in store.projects.values()) >= 5
    assert all(p.members for p in store.projects.values() if p.archived_at is None)
    assert 55 <= len(store.api_keys) <= 60
    stale = [
        k for k in store.api_keys.values() if k.last_used_at and k.last_used_at < NOW - 90 * DAY
    ]
    assert len(stale) >= 3
    assert any(not store.key_owner_has_access(k) for k in store.api_keys.values())
    assert len(store.admin_keys) >= 3
    assert len(store.certificates) >= 5
    assert any(c.expires_at < NOW for c in store.certificates.values())
    assert all(len(p.rate_limits) >= 10 for p in store.projects.values())
    assert store.spend_alerts
    assert store.spend_limit is not None
    assert any(r.predefined for r in store.roles.values())
    assert any(not r.predefined for r in store.roles.values())
    assert len(store.groups) == 5


def test_it_gives_the_demo_a_year_of_varied_audit_events() -> None:
    store = make_app().store
    events = store.audit.events()
    types = Counter(e["type"] for e in events)
    assert 2000 <= len(events) <= 6000
    assert len(types) >= 30
    assert any(t in NO_PAYLOAD for t in types)
    assert min(e["effective_at"] for e in events) < NOW - 330 * DAY
    sessions = [e for e in events if e["actor"] and e["actor"]["type"] == "session"]
    assert sessions[0]["actor"]["session"]["ip_address"]
    assert any(e["actor"] and e["actor"]["type"] == "api_key" for e in events)


def test_it_has_thirteen_months_of_usage_for_every_family() -> None:
    store = make_app().store
    first_month = (TODAY - 395 * DAY, TODAY - 365 * DAY)
    last_month = (TODAY - 30 * DAY, TODAY)
    for family in FAMILIES:
        early = store.usage_totals(family, *first_month, now=NOW)
        late = store.usage_totals(family, *last_month, now=NOW)
        assert any(early.values()), family
        assert sum(late.values()) > sum(early.values()), f"{family} should grow"


def test_it_has_weekday_seasonality_spikes_models_batch_and_cache() -> None:
    store = make_app().store
    days = [TODAY - d * DAY for d in range(1, 120)]
    daily = {
        d: store.usage_totals("completions", d, d + DAY, now=NOW)["input_tokens"] for d in days
    }
    weekday = [v for d, v in daily.items() if (d // DAY + 3) % 7 < 5]
    weekend = [v for d, v in daily.items() if (d // DAY + 3) % 7 >= 5]
    assert sum(weekday) / len(weekday) > 1.5 * sum(weekend) / len(weekend)
    assert store.usage.spikes
    models = {s.dims[3] for s in store.usage.streams["completions"]}
    assert len(models) >= 5
    totals = store.usage_totals("completions", TODAY - 30 * DAY, TODAY, now=NOW)
    assert totals["input_cached_tokens"] > 0
    assert totals["input_audio_tokens"] > 0
    batch = store.usage_totals(
        "completions", TODAY - 30 * DAY, TODAY, now=NOW, filters={"batch": True}
    )
    assert 0 < batch["num_model_requests"] < totals["num_model_requests"]


def test_it_builds_a_large_scenario_for_benchmarks(large: SimulatorApp) -> None:
    store = large.store
    assert len(store.projects) == 100
    assert len(store.api_keys) >= 290
    models = {
        dict(zip(FAMILIES[f].dims, s.dims, strict=True)).get("model")
        for f, streams in store.usage.streams.items()
        for s in streams
    }
    assert len(models - {None}) >= 30
