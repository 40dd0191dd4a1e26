"""Request parsing: every way clients spell arrays and object filters means the same."""

from __future__ import annotations

import httpx
import pytest

from orgadmin.simulator import SimulatorApp
from tests.simulator.support import BASE_URL, DAY, KEY, NOW, TODAY, make_app, scenario_ids


@pytest.fixture(scope="module")
def app() -> SimulatorApp:
    return make_app()


@pytest.fixture(scope="module")
def http(app: SimulatorApp) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {KEY}"},
    )


def test_it_reads_arrays_plain_bracketed_or_comma_separated(
    app: SimulatorApp, http: httpx.Client
) -> None:
    ids = scenario_ids(app)
    projects = [ids.project, ids.default_project]
    base = f"/organization/usage/completions?start_time={TODAY - 3 * DAY}"
    spellings = [
        "&".join(f"project_ids={p}" for p in projects) + "&group_by=project_id&group_by=model",
        "&".join(f"project_ids[]={p}" for p in projects)
        + "&group_by[]=project_id&group_by[]=model",
        f"project_ids={','.join(projects)}&group_by=project_id,model",
    ]
    bodies = [http.get(f"{base}&{q}").json() for q in spellings]
    assert bodies[0] == bodies[1] == bodies[2]
    assert {r["project_id"] for b in bodies[0]["data"] for r in b["results"]} <= set(projects)


def test_it_reads_object_filters_in_brackets(http: httpx.Client) -> None:
    response = http.get(
        "/organization/audit_logs",
        params={"effective_at[gte]": NOW - 7 * DAY, "effective_at[lt]": NOW - DAY, "limit": 100},
    )
    events = response.json()["data"]
    assert events
    assert all(NOW - 7 * DAY <= e["effective_at"] < NOW - DAY for e in events)
    plain = http.get("/organization/audit_logs", params={"effective_at": NOW})
    assert plain.status_code == 400


def test_it_ignores_the_organization_and_project_headers(http: httpx.Client) -> None:
    headers = {"OpenAI-Organization": "org-elsewhere", "OpenAI-Project": "proj_elsewhere"}
    assert http.get("/organization/users", headers=headers).status_code == 200
