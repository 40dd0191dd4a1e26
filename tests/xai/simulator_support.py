"""Shared helpers for the xAI simulator's tests: a pinned clock, apps and HTTP clients."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime

import httpx

from orgadmin.simulator.faults import FaultConfig
from orgadmin.xai.simulator import TEST_MANAGEMENT_KEY, Store, XAISimulatorApp, create_app

NOW = 1_795_012_200  # 2026-11-18 14:30:00 UTC, a Wednesday: the month has 17 days of usage
NOW_DT = datetime.fromtimestamp(NOW, UTC)
KEY = TEST_MANAGEMENT_KEY
BASE_URL = "http://xai-simulator.test"
TEAM = "team-demo-0001"
_PRISTINE: dict[tuple[str, int], Store] = {}


def make_app(
    scenario: str = "demo",
    *,
    seed: int = 0,
    faults: FaultConfig | None = None,
    now: Callable[[], float] | None = None,
    management_keys: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
) -> XAISimulatorApp:
    """A simulator pinned to `NOW` that accepts `KEY` with every ACL.

    Scenarios with the default keys are built once per session and cloned.
    """
    clock = now or (lambda: NOW)
    if management_keys is not None:
        return create_app(
            scenario=scenario, seed=seed, management_keys=management_keys, now=clock, faults=faults
        )
    if (scenario, seed) not in _PRISTINE:
        _PRISTINE[scenario, seed] = create_app(
            scenario=scenario, seed=seed, management_keys=[KEY], now=lambda: NOW
        ).store
    return XAISimulatorApp(_PRISTINE[scenario, seed].clone(), faults=faults, now=clock)


def client(app: XAISimulatorApp, key: str | None = KEY) -> httpx.Client:
    """An httpx client talking to `app` in-process with the management key `key`."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE_URL, headers=headers)


def usage_body(
    start: str,
    end: str,
    *,
    unit: str = "TIME_UNIT_DAY",
    group_by: tuple[str, ...] = ("description", "api_key_id"),
    timezone: str = "UTC",
    filters: tuple[str, ...] = (),
) -> dict:
    """An analytics request as the reference shows it."""
    return {
        "analyticsRequest": {
            "timeRange": {"startTime": start, "endTime": end, "timezone": timezone},
            "timeUnit": unit,
            "values": [{"name": "usd", "aggregation": "AGGREGATION_SUM"}],
            "groupBy": list(group_by),
            "filters": list(filters),
        }
    }
