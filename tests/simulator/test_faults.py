"""Faults on demand, as the official SDK experiences them."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from orgadmin.simulator import FaultConfig, SimulatorApp
from orgadmin.simulator.server import base_url, serve_in_thread
from tests.simulator.support import BASE_URL, KEY, make_app, make_client


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's own backoff (0.5 s and up) would make these tests slow."""
    monkeypatch.setattr(openai._base_client, "INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr(openai._base_client, "MAX_RETRY_DELAY", 0.002)


def test_it_rate_limits_with_retry_after_and_the_sdk_retries() -> None:
    app = make_app(faults=FaultConfig(script=["429", "429"], retry_after=1, retry_after_ms=5))
    org = make_client(app, max_retries=2).admin.organization
    started = time.perf_counter()
    assert org.users.list(limit=1).data
    assert time.perf_counter() - started < 1.0  # retry-after-ms won over Retry-After
    assert app.fault_counts["429"] == 2


def test_it_sends_retry_after_on_a_rate_limit() -> None:
    app = make_app(faults=FaultConfig(script=["429"], retry_after=3))
    response = _http(app).get("/organization/users")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


def test_it_sends_quota_errors_without_retry_after() -> None:
    app = make_app(faults=FaultConfig(script=["quota"]))
    response = _http(app).get("/organization/users")
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    assert response.json()["error"]["type"] == "insufficient_quota"
    app.faults.script[:] = ["quota"] * 3
    with pytest.raises(openai.RateLimitError) as caught:
        make_client(app, max_retries=2).admin.organization.users.list()
    assert caught.value.code == "insufficient_quota"
    assert app.fault_counts["quota"] == 4  # the SDK gave up after its two retries


@pytest.mark.parametrize("kind", ["500", "503", "502"])
def test_it_fails_with_server_errors_that_the_sdk_retries(kind: str) -> None:
    app = make_app(faults=FaultConfig(script=[kind]))
    with pytest.raises(openai.InternalServerError) as caught:
        make_client(app).admin.organization.projects.list()
    assert caught.value.status_code == int(kind)
    app.faults.script[:] = [kind, kind]
    assert make_client(app, max_retries=2).admin.organization.projects.list().data


def test_it_answers_a_502_with_an_html_gateway_page() -> None:
    response = _http(make_app(faults=FaultConfig(script=["502"]))).get("/organization/users")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert b"502 Bad Gateway" in response.content
    assert response.headers["x-request-id"]


def test_it_drops_connections_in_process_as_connection_errors() -> None:
    app = make_app(faults=FaultConfig(script=["drop"]))
    with pytest.raises(openai.APIConnectionError):
        make_client(app).admin.organization.users.list()
    app.faults.script[:] = ["drop", "drop"]
    assert make_client(app, max_retries=2).admin.organization.users.list().data


def test_it_drops_connections_over_http() -> None:
    app = make_app(faults=FaultConfig(script=["drop", "429"], retry_after_ms=1))
    server = serve_in_thread(app)
    try:
        client = openai.OpenAI(admin_api_key=KEY, base_url=base_url(server), max_retries=0)
        with pytest.raises(openai.APIConnectionError):
            client.admin.organization.users.list()
        with pytest.raises(openai.RateLimitError):
            client.admin.organization.users.list()
        assert client.admin.organization.users.list().data
    finally:
        server.shutdown()
        server.server_close()


def test_it_adds_latency_and_slow_responses() -> None:
    app = make_app(faults=FaultConfig(latency_ms=30, script=["slow"], slow_ms=120))
    http = _http(app)
    started = time.perf_counter()
    assert http.get("/organization/users").status_code == 200
    slow = time.perf_counter() - started
    started = time.perf_counter()
    assert http.get("/organization/users").status_code == 200
    normal = time.perf_counter() - started
    assert slow >= 0.15
    assert 0.03 <= normal < slow


def test_it_replays_the_same_faults_for_the_same_seed() -> None:
    def statuses(seed: int) -> list[int]:
        http = _http(make_app(faults=FaultConfig(rate=0.5, seed=seed, mix={"429": 1, "500": 1})))
        return [http.get("/organization/invites").status_code for _ in range(40)]

    first = statuses(7)
    assert first == statuses(7)
    assert first != statuses(8)
    assert {200, 429, 500} == set(first)


def test_it_changes_faults_at_run_time_and_faulted_requests_change_nothing() -> None:
    app = make_app()
    http = _http(app)
    before = len(http.get("/organization/groups").json()["data"])
    app.faults.rate = 1.0
    app.faults.mix = {"500": 1}
    assert http.post("/organization/groups", json={"name": "Ghosts"}).status_code == 500
    app.faults.rate = 0.0
    assert len(http.get("/organization/groups").json()["data"]) == before
    app.faults = FaultConfig(script=["503"])
    assert http.get("/organization/groups").status_code == 503


def test_it_rejects_a_bad_fault_config() -> None:
    with pytest.raises(ValueError, match="rate"):
        FaultConfig(rate=2)
    with pytest.raises(ValueError, match="kinds"):
        FaultConfig(mix={"404": 1})


def _http(app: SimulatorApp) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {KEY}"},
    )
