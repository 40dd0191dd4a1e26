"""Restricted and read-only admin keys: the simulator refuses what a key may not do as the live API
does (HTTP 401, "You have insufficient permissions for this operation. Missing scopes: …")."""

from __future__ import annotations

import argparse
import json

import httpx
import openai
import pytest

from orgadmin.simulator import SimulatorApp, create_app
from orgadmin.simulator.__main__ import add_arguments
from orgadmin.simulator.scopes import AREAS, parse_permissions
from tests.contract.spec_tools import schema_errors
from tests.simulator.support import BASE_URL, KEY, NOW, make_app

READ_ONLY = "sk-admin-read-only-0123456789"
NO_AUDIT = "sk-admin-no-audit-0123456789"
ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}


@pytest.fixture(scope="module")
def app() -> SimulatorApp:
    return create_app(
        scenario="demo",
        admin_keys=[KEY],
        key_permissions={READ_ONLY: "read_only", NO_AUDIT: "audit_log=none,members=read"},
        now=lambda: NOW,
    )


def http(app: SimulatorApp, key: str) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {key}"},
    )


def refusal(response: httpx.Response) -> dict:
    """The error of a refused request, checked against the spec's ErrorResponse."""
    assert response.status_code == 401, response.text
    assert response.headers["x-request-id"].startswith("req_")
    body = json.loads(response.content)
    assert schema_errors(body, ERROR_SCHEMA) == []
    return body["error"]


def test_it_lets_a_read_only_key_read_everything_and_change_nothing(app):
    reader = http(app, READ_ONLY)
    users_before = len(app.store.users)
    for path in ("/organization/users", "/organization/projects", "/organization/audit_logs"):
        assert reader.get(path).status_code == 200, path

    error = refusal(
        reader.post("/organization/invites", json={"email": "x@y.example", "role": "reader"})
    )

    assert error["message"].startswith(
        "You have insufficient permissions for this operation. Missing scopes: api.members.write."
    )
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", None, None)
    assert len(app.store.users) == users_before
    assert not any(i.email == "x@y.example" for i in app.store.invites.values())


def test_it_refuses_an_area_a_restricted_key_has_no_access_to(app):
    restricted = http(app, NO_AUDIT)

    error = refusal(restricted.get("/organization/audit_logs"))
    assert "Missing scopes: api.audit_logs.read" in error["message"]
    assert restricted.get("/organization/users").status_code == 200  # members: read
    assert (
        "api.members.write"
        in refusal(restricted.delete("/organization/invites/invite-x"))["message"]
    )
    assert (
        restricted.get("/organization/costs", params={"start_time": NOW - 86400}).status_code == 200
    )


def test_the_sdk_sees_the_refusal_as_the_live_apis(app):
    client = openai.OpenAI(
        admin_api_key=READ_ONLY,
        api_key="",
        base_url=BASE_URL,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.WSGITransport(app=app)),
    )
    with pytest.raises(openai.AuthenticationError) as refused:
        client.admin.organization.projects.create(name="Not allowed")
    assert "Missing scopes: api.projects.write" in refused.value.message
    assert refused.value.request_id


def test_a_restricted_key_is_refused_before_its_request_is_checked(app):
    """A permission comes first: a bad body from a key that may not write is a 401, not a 400."""
    error = refusal(http(app, READ_ONLY).post("/organization/projects", json={"nope": 1}))
    assert "api.projects.write" in error["message"]


# Changes aimed at ids no object has, one per area (the dashboard's write probes make these):
# (area, method, path, body).
NO_SUCH_OBJECT = [
    ("members", "DELETE", "/organization/invites/invite-no-such-object", None),
    ("projects", "POST", "/organization/projects/proj_no-such-object", {}),
    ("keys", "DELETE", "/organization/projects/proj_no-such-object/api_keys/key_no-such", None),
    ("certificates", "POST", "/organization/certificates/cert_no-such-object", {}),
    ("rate_limits", "POST", "/organization/projects/proj_no-such-object/rate_limits/rl-x", {}),
    ("groups_roles", "DELETE", "/organization/groups/group_no-such/users/user-no-such", None),
    ("settings", "DELETE", "/organization/spend_alerts/alert_no-such-object", None),
]


@pytest.mark.parametrize(("area", "method", "path", "body"), NO_SUCH_OBJECT)
def test_it_refuses_a_change_for_scopes_before_it_looks_the_ids_up(app, area, method, path, body):
    """As the live API: a key without the scope gets the 401 whatever the ids, and a key with it
    gets the 404 of an id nobody has, and nothing changes either way."""
    before = app.store.directory()
    events = len(app.store.audit_event_ids(include_tenant=True))

    refused = http(app, READ_ONLY).request(method, path, json=body)
    missing = http(app, KEY).request(method, path, json=body)

    assert ".write. " in refusal(refused)["message"]  # "Missing scopes: api.<area>.write."
    assert missing.status_code == 404, missing.text
    assert schema_errors(json.loads(missing.content), ERROR_SCHEMA) == []
    assert "No such" in missing.json()["error"]["message"]
    assert app.store.directory() == before
    assert len(app.store.audit_event_ids(include_tenant=True)) == events  # neither is logged


def test_a_key_restricted_per_area_is_refused_only_the_changes_of_that_area(app):
    members_read = http(app, NO_AUDIT)  # audit_log=none, members=read, the rest writable
    answers = {
        area: members_read.request(method, path, json=body).status_code
        for area, method, path, body in NO_SUCH_OBJECT
    }
    assert answers.pop("members") == 401
    assert set(answers.values()) == {404}


def test_a_key_can_be_restricted_and_freed_while_the_simulator_runs():
    app = make_app()
    value = "sk-admin-later-0123456789"
    key = app.store.admin_key_add(value, permissions=parse_permissions("keys=none"))
    assert http(app, value).get("/organization/admin_api_keys").status_code == 401
    key.permissions = None
    assert http(app, value).get("/organization/admin_api_keys").status_code == 200


def test_the_scenarios_finance_key_reads_only_usage_and_costs():
    app = make_app()
    finance = next(k for k in app.store.admin_keys.values() if k.name == "Finance export")
    client = http(app, finance.value)
    assert client.get("/organization/costs", params={"start_time": NOW - 86400}).status_code == 200
    assert (
        client.get(
            "/organization/usage/completions", params={"start_time": NOW - 86400}
        ).status_code
        == 200
    )
    assert "api.members.read" in refusal(client.get("/organization/users"))["message"]


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("audit=none", "unknown area(s) audit"),
        ("members=admin", "unknown level(s) members=admin"),
        ("members", "area=level"),
    ],
)
def test_it_says_what_is_wrong_with_a_permission_spec(spec, problem):
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_permissions(spec)


def test_the_command_line_takes_the_keys_permissions():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--key-permissions", "read_only"]).key_permissions == "read_only"
    assert parser.parse_args([]).key_permissions is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--key-permissions", "everything=write"])
    assert set(parse_permissions("read_only").values()) == {"read"}
    assert "audit_log" in AREAS
