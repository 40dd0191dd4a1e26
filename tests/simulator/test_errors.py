"""Bad requests get the spec's `ErrorResponse` and the right status, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from orgadmin.simulator import SimulatorApp
from tests.contract.spec_tools import schema_errors
from tests.simulator.support import BASE_URL, DAY, KEY, TODAY, make_app, make_client, scenario_ids

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}


@pytest.fixture(scope="module")
def app() -> SimulatorApp:
    return make_app()  # shared: every request here is refused, so nothing changes


@pytest.fixture(scope="module")
def http(app: SimulatorApp) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {KEY}"},
    )


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The error object, after checking the status, the schema and the request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    body = json.loads(response.content)
    assert schema_errors(body, ERROR_SCHEMA) == []
    assert "Traceback" not in response.text
    return body["error"]


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/organization/users", {"colour": "blue"}, "colour"),
        ("/organization/users", {"limit": 101}, "limit"),
        ("/organization/users", {"limit": 0}, "limit"),
        ("/organization/users", {"limit": "ten"}, "limit"),
        ("/organization/users", {"after": "user-doesnotexist"}, "after"),
        ("/organization/projects", {"include_archived": "maybe"}, "include_archived"),
        ("/organization/groups", {"limit": 1001}, "limit"),
        ("/organization/audit_logs", {"event_types[]": "nope.happened"}, "event_types"),
        ("/organization/audit_logs", {"effective_at[soon]": 1}, "effective_at[soon]"),
        ("/organization/audit_logs", {"before": "audit_log-missing"}, "before"),
        ("/organization/audit_logs", {"event_types[]": "tenant.user.added"}, "tenant_only"),
        ("/organization/usage/completions", {}, "start_time"),
        ("/organization/usage/completions", {"start_time": TODAY, "limit": 32}, "limit"),
        (
            "/organization/usage/completions",
            {"start_time": TODAY, "bucket_width": "1h", "limit": 169},
            "limit",
        ),
        (
            "/organization/usage/completions",
            {"start_time": TODAY, "bucket_width": "1m", "limit": 1441},
            "limit",
        ),
        (
            "/organization/usage/completions",
            {"start_time": TODAY, "end_time": TODAY - 1},
            "end_time",
        ),
        (
            "/organization/usage/completions",
            {"start_time": TODAY, "bucket_width": "1w"},
            "bucket_width",
        ),
        (
            "/organization/usage/completions",
            {"start_time": TODAY, "group_by": "colour"},
            "group_by",
        ),
        ("/organization/usage/completions", {"start_time": TODAY, "group_by": ""}, "group_by"),
        ("/organization/usage/completions", {"start_time": TODAY, "page": "garbage"}, "page"),
        ("/organization/usage/completions", {"start_time": TODAY, "page": "page_AAAA"}, "page"),
        ("/organization/usage/embeddings", {"start_time": TODAY, "batch": "true"}, "batch"),
        ("/organization/costs", {"start_time": TODAY, "limit": 181}, "limit"),
        ("/organization/costs", {"start_time": TODAY, "bucket_width": "1h"}, "bucket_width"),
        ("/organization/costs", {"start_time": TODAY, "group_by[]": "model"}, "group_by"),
    ],
)
def test_it_rejects_a_bad_query_naming_the_parameter(
    http: httpx.Client, path: str, params: dict[str, Any], param: str
) -> None:
    error = error_of(http.get(path, params=params), 400)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert param.split("[")[0] in error["message"]


def test_it_rejects_a_page_cursor_from_another_query(http: httpx.Client) -> None:
    first = http.get(
        "/organization/usage/completions", params={"start_time": TODAY - 20 * DAY, "limit": 2}
    ).json()
    reused = http.get(
        "/organization/usage/completions",
        params={"start_time": TODAY - 19 * DAY, "page": first["next_page"]},
    )
    assert error_of(reused, 400)["param"] == "page"


@pytest.mark.parametrize(
    "path",
    [
        "/organization/users/user-nobody",
        "/organization/projects/proj_nothing",
        "/organization/projects/proj_nothing/users",
        "/organization/invites/invite-none",
        "/organization/certificates/cert_none",
        "/organization/groups/group_none",
        "/organization/roles/role_none",
        "/organization/admin_api_keys/key_none",
        "/organization/spend_alerts/alert_none",
    ],
)
def test_it_answers_404_for_an_unknown_id(http: httpx.Client, path: str) -> None:
    error = error_of(http.get(path), 404)
    assert path.rsplit("/", 1)[-1] in error["message"] or "proj_nothing" in error["message"]


def test_it_answers_404_for_an_unknown_path_or_method(http: httpx.Client) -> None:
    assert "Invalid URL" in error_of(http.get("/organization/nothing"), 404)["message"]
    assert "Invalid URL" in error_of(http.put("/organization/users"), 404)["message"]
    assert "Invalid URL" in error_of(http.get("/elsewhere"), 404)["message"]


def test_it_answers_401_for_a_missing_or_wrong_key(app: SimulatorApp) -> None:
    anonymous = httpx.Client(transport=httpx.WSGITransport(app=app), base_url=BASE_URL)
    assert error_of(anonymous.get("/organization/users"), 401)["code"] is None
    wrong = anonymous.get(
        "/organization/users", headers={"Authorization": "Bearer sk-admin-wrong-key-000"}
    )
    error = error_of(wrong, 401)
    assert error["code"] == "invalid_api_key"
    assert "sk-admin-wrong-key-000" not in error["message"]  # never echo a secret back
    with pytest.raises(openai.AuthenticationError):
        make_client(app, key="sk-admin-wrong").admin.organization.users.list()


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/organization/invites", {"email": "a@b.example"}, "role"),
        ("/organization/invites", {"email": "a@b.example", "role": "admin"}, "role"),
        ("/organization/invites", {"email": "nobody", "role": "reader"}, "email"),
        ("/organization/invites", {"email": "a@b.example", "role": "reader", "x": 1}, "x"),
        ("/organization/projects", {"name": 7}, "name"),
        ("/organization/groups", {"name": ""}, "name"),
        ("/organization/certificates", {"certificate": "not a pem"}, "certificate"),
        ("/organization/certificates/activate", {"certificate_ids": []}, "certificate_ids"),
        (
            "/organization/spend_limit",
            {"threshold_amount": 0, "currency": "USD", "interval": "month"},
            "threshold_amount",
        ),
        (
            "/organization/admin_api_keys",
            {"name": "k", "expires_in_seconds": 0},
            "expires_in_seconds",
        ),
        (
            "/organization/spend_alerts",
            {
                "threshold_amount": 5,
                "currency": "USD",
                "interval": "month",
                "notification_channel": {"type": "sms", "recipients": []},
            },
            "notification_channel.type",
        ),
    ],
)
def test_it_rejects_a_bad_body_naming_the_field(
    http: httpx.Client, path: str, body: dict[str, Any], param: str
) -> None:
    assert error_of(http.post(path, json=body), 400)["param"] == param


def test_it_rejects_a_body_that_is_not_json(http: httpx.Client) -> None:
    response = http.post(
        "/organization/groups", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert error_of(response, 400)["code"] == "invalid_json"


def test_it_rejects_a_body_of_whitespace(app: SimulatorApp, http: httpx.Client) -> None:
    """Whitespace is a body that is not JSON, even where every field is optional."""
    role = f"/organization/roles/{scenario_ids(app).custom_role}"
    response = http.post(role, content=b"\t", headers={"content-type": "application/json"})
    assert error_of(response, 400)["code"] == "invalid_json"


def test_it_refuses_what_the_state_does_not_allow(app: SimulatorApp, http: httpx.Client) -> None:
    ids = scenario_ids(app)
    default = f"/organization/projects/{ids.default_project}"
    assert error_of(http.post(default, json={"name": "x"}), 400)
    archived = f"/organization/projects/{ids.archived_project}"
    assert error_of(http.get(f"{archived}/users"), 400)
    assert error_of(http.get(f"{archived}/service_accounts"), 400)
    assert error_of(http.post(f"{archived}/service_accounts", json={"name": "x"}), 400)
    project = f"/organization/projects/{ids.project}"
    if ids.sa_key:
        assert error_of(http.delete(f"{project}/api_keys/{ids.sa_key}"), 400)
    assert error_of(http.delete(f"/organization/certificates/{ids.active_certificate}"), 400)
    assert error_of(http.delete(f"/organization/invites/{ids.accepted_invite}"), 400)
    assert error_of(http.delete(f"/organization/roles/{ids.predefined_role}"), 400)
    assert error_of(http.post(f"/organization/groups/{ids.scim_group}", json={"name": "x"}), 400)
    rl = f"{project}/rate_limits/{ids.rate_limit}"
    assert error_of(http.post(rl, json={"max_requests_per_1_minute": 10**12}), 400)["param"] == (
        "max_requests_per_1_minute"
    )


def test_it_turns_a_bug_into_a_500_error_response(
    app: SimulatorApp, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orgadmin.simulator.routing import ROUTES

    route = next(r for r in ROUTES if r.operation_id == "list-users")

    def broken(ctx: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(route, "handler", broken)
    error = error_of(http.get("/organization/users"), 500)
    assert error["type"] == "server_error"
    assert "boom" not in error["message"]


def test_it_surfaces_errors_as_sdk_exceptions(app: SimulatorApp) -> None:
    org = make_client(app).admin.organization
    with pytest.raises(openai.NotFoundError):
        org.users.retrieve("user-nobody")
    with pytest.raises(openai.BadRequestError) as caught:
        org.usage.completions(start_time=TODAY, limit=99)
    assert caught.value.body["param"] == "limit"  # type: ignore[index]
