"""Every xAI Management API endpoint of the simulator, checked against JSON Schemas written from
the reference (`tests/contract/xai/*.schema.json`, draft 2020-12).

The schemas accept both shapes wherever the reference says xAI sends either (int64 as a number
or a string, `Cent.val` likewise, `aclStrings`/`acl_strings`, `disabled` as a bool or "false",
the next page token's name). The quirk tests prove the simulator really sends both, so a client
tested against it copes with the live API.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from orgadmin.simulator.faults import FaultConfig
from orgadmin.xai.simulator import XAISimulatorApp
from orgadmin.xai.simulator.routing import BILLING_READ, KEYS_READ, ROUTES
from tests.xai.simulator_support import KEY, TEAM, client, make_app, usage_body

SCHEMAS = Path(__file__).parent / "xai"
BILLING = f"/v1/billing/teams/{TEAM}"
Call = Callable[[httpx.Client, XAISimulatorApp], httpx.Response]


@cache
def _registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def errors(body: Any, name: str) -> list[str]:
    """What in `body` breaks the schema `name` (empty when it conforms)."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    validator = Draft202012Validator(schema, registry=_registry())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def _first_key(http: httpx.Client) -> str:
    return http.get(f"/auth/teams/{TEAM}/api-keys").json()["apiKeys"][0]["apiKeyId"]


def _new_key(http: httpx.Client) -> str:
    body = {"name": "Contract", "acls": ["api-key:model:*"], "qps": 1, "qpm": 10, "tpm": "1000"}
    return http.post(f"/auth/teams/{TEAM}/api-keys", json=body).json()["apiKeyId"]


def _invoice_id(http: httpx.Client) -> str:
    return http.get(f"{BILLING}/invoices").json()["invoices"][0]["invoiceId"]


CALLS: dict[str, tuple[str, Call]] = {
    "validate management key": (
        "management_key",
        lambda h, a: h.get("/auth/management-keys/validation"),
    ),
    "list keys": ("api_keys", lambda h, a: h.get(f"/auth/teams/{TEAM}/api-keys")),
    "list keys, filtered": (
        "api_keys",
        lambda h, a: h.get(
            f"/auth/teams/{TEAM}/api-keys",
            params={"activeOnly": "true", "aclFilters": "api-key:endpoint:chat", "pageSize": 2},
        ),
    ),
    "create key": (
        "api_key_with_secret",
        lambda h, a: h.post(
            f"/auth/teams/{TEAM}/api-keys", json={"name": "New", "acls": ["api-key:model:*"]}
        ),
    ),
    "update key": (
        "api_key",
        lambda h, a: h.put(
            f"/auth/api-keys/{_first_key(h)}", json={"apiKey": {"tpm": "5000"}, "fieldMask": "tpm"}
        ),
    ),
    "rotate key": (
        "api_key_with_secret",
        lambda h, a: h.post(f"/auth/api-keys/{_first_key(h)}/rotate", json={}),
    ),
    "delete key": ("empty", lambda h, a: h.delete(f"/auth/api-keys/{_new_key(h)}")),
    "key propagation": (
        "propagation",
        lambda h, a: h.get(f"/auth/api-keys/{_first_key(h)}/propagation"),
    ),
    "models": ("models", lambda h, a: h.get(f"/auth/teams/{TEAM}/models")),
    "endpoints": ("endpoints", lambda h, a: h.get(f"/auth/teams/{TEAM}/endpoints")),
    "billing info": ("billing_info", lambda h, a: h.get(f"{BILLING}/billing-info")),
    "set billing info": (
        "empty",
        lambda h, a: h.post(f"{BILLING}/billing-info", json={"billingInfo": {"name": "Acme"}}),
    ),
    "invoices": ("invoices", lambda h, a: h.get(f"{BILLING}/invoices")),
    "invoices of a billing cycle": (
        "invoices",
        lambda h, a: h.get(
            f"{BILLING}/invoices", params={"billingCycle.year": 2026, "billingCycle.month": 10}
        ),
    ),
    "invoices since": (
        "invoices",
        lambda h, a: h.get(f"{BILLING}/invoices", params={"since.year": 2026, "since.month": 9}),
    ),
    "invoices by id": (
        "invoices",
        lambda h, a: h.get(f"{BILLING}/invoices", params={"invoiceIds": _invoice_id(h)}),
    ),
    "payment methods": ("payment_methods", lambda h, a: h.get(f"{BILLING}/payment-method")),
    "set default payment method": (
        "empty",
        lambda h, a: h.post(
            f"{BILLING}/payment-method/default", json={"paymentMethodId": "pm_demo_amex_0005"}
        ),
    ),
    "invoice preview": (
        "invoice_preview",
        lambda h, a: h.get(f"{BILLING}/postpaid/invoice/preview"),
    ),
    "spending limits": (
        "spending_limits",
        lambda h, a: h.get(f"{BILLING}/postpaid/spending-limits"),
    ),
    "set soft spending limit": (
        "soft_spending_limit_set",
        lambda h, a: h.post(
            f"{BILLING}/postpaid/spending-limits",
            json={"desiredSoftSpendingLimit": {"val": "120000"}},
        ),
    ),
    "prepaid balance": ("prepaid_balance", lambda h, a: h.get(f"{BILLING}/prepaid/balance")),
    "prepaid top-up": (
        "top_up",
        lambda h, a: h.post(f"{BILLING}/prepaid/top-up", json={"amount": {"val": 5000}}),
    ),
    "usage by day": (
        "usage",
        lambda h, a: h.post(
            f"{BILLING}/usage", json=usage_body("2026-10-01 00:00:00", "2026-11-01 00:00:00")
        ),
    ),
    "usage by hour in Paris, one key": (
        "usage",
        lambda h, a: h.post(
            f"{BILLING}/usage",
            json=usage_body(
                "2026-11-10 00:00:00",
                "2026-11-11 00:00:00",
                unit="TIME_UNIT_HOUR",
                group_by=("description",),
                timezone="Europe/Paris",
                filters=(f"api_key_id:{_first_key(h)}",),
            ),
        ),
    ),
    "usage, one total": (
        "usage",
        lambda h, a: h.post(
            f"{BILLING}/usage",
            json=usage_body(
                "2026-08-01 00:00:00", "2026-11-18 00:00:00", unit="TIME_UNIT_NONE", group_by=()
            ),
        ),
    ),
    "audit events": ("audit_events", lambda h, a: h.get(f"/audit/teams/{TEAM}/events")),
    "audit events, filtered": (
        "audit_events",
        lambda h, a: h.get(
            f"/audit/teams/{TEAM}/events",
            params={
                "pageSize": 5,
                "orderBy": "TIME_ASCENDING",
                "eventFilter.query": "api key",
                "eventTimeFrom": "2026-09-01T00:00:00Z",
                "eventTimeTo": "2026-11-01T00:00:00Z",
            },
        ),
    ),
}


class Recorder(httpx.BaseTransport):
    """The app in-process, remembering each request."""

    def __init__(self, app: XAISimulatorApp) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


def _route_of(request: httpx.Request) -> tuple[str, str]:
    path = request.url.path.rstrip("/")
    found = [r for r in ROUTES if r.method == request.method and r.regex.match(path)]
    assert len(found) == 1, f"{request.method} {path}"
    return found[0].method, found[0].template


@pytest.mark.parametrize("name", CALLS)
def test_it_answers_each_call_as_the_reference_says(name: str) -> None:
    schema, call = CALLS[name]
    app = make_app()

    response = call(client(app), app)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert len(response.headers["x-request-id"]) == 36
    assert errors(response.json(), schema) == []


def test_the_calls_cover_every_endpoint_of_the_simulator() -> None:
    app = make_app()
    recorder = Recorder(app)
    http = httpx.Client(
        transport=recorder,
        base_url="http://xai-simulator.test",
        headers={"Authorization": f"Bearer {KEY}"},
    )
    for _schema, call in CALLS.values():
        assert call(http, app).status_code == 200

    served = {_route_of(request) for request in recorder.requests}

    assert served == {(r.method, r.template) for r in ROUTES}
    assert len(served) == 21


def test_every_page_of_the_large_scenario_conforms_and_the_last_has_no_token() -> None:
    http = client(make_app("large"))
    pages, token = [], None
    while True:
        params = {"pageSize": 30, **({"paginationToken": token} if token else {})}
        page = http.get(f"/auth/teams/{TEAM.replace('demo', 'large')}/api-keys", params=params)
        assert errors(page.json(), "api_keys") == []
        pages.append(page.json())
        token = page.json().get("paginationToken")
        if not token:
            break
    assert len(pages) == 7  # 200 keys by 30
    assert "paginationToken" not in pages[-1]


def test_every_page_of_the_large_audit_log_conforms() -> None:
    http = client(make_app("large"))
    team = TEAM.replace("demo", "large")
    token, seen = "", 0
    while True:
        page = http.get(f"/audit/teams/{team}/events", params={"pageSize": 500, "pageToken": token})
        assert errors(page.json(), "audit_events") == []
        seen += len(page.json()["events"])
        token = page.json()["nextPageToken"]
        if not token:
            break
    assert seen >= 2000


# --- errors ------------------------------------------------------------------------------------


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"]
    body = response.json()
    assert errors(body, "error") == []
    return body


def test_a_bad_or_missing_key_gets_the_documented_401() -> None:
    app = make_app()
    for http in (client(app, "xai-mgmt-wrong"), client(app, None)):
        body = _error(http.get(f"/auth/teams/{TEAM}/api-keys"), 401)
        assert body["message"] == (
            "Invalid bearer token. Please ensure you use a valid management key."
        )
        assert body["code"] == 16


def test_a_key_without_the_acl_gets_a_403_naming_it() -> None:
    app = make_app(management_keys={"xai-mgmt-billing-reader": [BILLING_READ]})
    http = client(app, "xai-mgmt-billing-reader")

    body = _error(http.get(f"/auth/teams/{TEAM}/api-keys"), 403)

    assert body["code"] == 7
    assert KEYS_READ in body["message"]
    assert http.get(f"{BILLING}/invoices").status_code == 200


def test_unknown_keys_and_team_scoped_key_paths_get_a_404() -> None:
    http = client(make_app())
    key_id = _first_key(http)
    for response in (
        http.get("/auth/api-keys/no-such-key/propagation"),
        http.delete("/auth/api-keys/no-such-key"),
        http.get(f"/auth/teams/{TEAM}/api-keys/{key_id}"),
        http.delete(f"/auth/teams/{TEAM}/api-keys/{key_id}"),
    ):
        assert _error(response, 404)["code"] == 5


def test_a_rate_limited_request_gets_a_429_with_retry_after() -> None:
    app = make_app(faults=FaultConfig(script=["429", "503"], retry_after=3))
    http = client(app)

    body = _error(http.get(f"{BILLING}/invoices"), 429)
    unavailable = http.get(f"{BILLING}/invoices")

    assert body["code"] == 8
    assert unavailable.status_code == 503
    assert errors(unavailable.json(), "error") == []
    assert http.get(f"{BILLING}/invoices").status_code == 200


def test_a_bad_request_gets_a_400_in_the_same_shape() -> None:
    http = client(make_app())
    response = http.post(f"/auth/teams/{TEAM}/api-keys", json={"name": ""})
    assert _error(response, 400)["code"] == 3


# --- the quirks really appear --------------------------------------------------------------------


def _int64_shapes(values: list[Any]) -> set[type]:
    return {type(v) for v in values}


def test_int64_fields_come_both_as_numbers_and_as_strings() -> None:
    http = client(make_app())
    invoices = http.get(f"{BILLING}/invoices").json()["invoices"]
    totals = [i["total"] for i in invoices]
    amounts = [line["amount"] for i in invoices for line in i["lines"]]
    preview = http.get(f"{BILLING}/postpaid/invoice/preview").json()["coreInvoice"]

    assert _int64_shapes(totals) == {int, str}
    assert _int64_shapes(amounts) == {int, str}
    assert _int64_shapes([preview["amountBeforeVat"], preview["vatCost"]]) == {int, str}


def test_cent_values_come_both_as_numbers_and_as_strings() -> None:
    http = client(make_app())
    changes = http.get(f"{BILLING}/prepaid/balance").json()["changes"]
    limits = http.get(f"{BILLING}/postpaid/spending-limits").json()["spendingLimits"]

    assert _int64_shapes([c["amount"]["val"] for c in changes]) == {int, str}
    assert _int64_shapes([cent["val"] for cent in limits.values()]) == {int, str}


def test_one_key_listing_shows_both_acl_field_names_and_both_disabled_shapes() -> None:
    keys = client(make_app()).get(f"/auth/teams/{TEAM}/api-keys").json()["apiKeys"]

    assert any("aclStrings" in k for k in keys)
    assert any("acl_strings" in k for k in keys)
    assert {type(k["disabled"]) for k in keys} == {bool, str}
    assert {"false", "true"} >= {k["disabled"] for k in keys if isinstance(k["disabled"], str)}
    assert all(isinstance(k["tpm"], str) for k in keys if "tpm" in k)


def test_timestamps_come_with_and_without_fractional_seconds() -> None:
    http = client(make_app())
    keys = http.get(f"/auth/teams/{TEAM}/api-keys").json()["apiKeys"]
    invoices = http.get(f"{BILLING}/invoices").json()["invoices"]

    assert all("." in k["createTime"] for k in keys)
    assert all("." not in i["createTime"] for i in invoices)


def test_the_canonical_shapes_only_when_mixed_shapes_are_off() -> None:
    from orgadmin.xai.simulator import create_app

    app = create_app(management_keys=[KEY], now=lambda: 1_795_012_200, mixed_shapes=False)
    http = client(app)
    keys = http.get(f"/auth/teams/{TEAM}/api-keys").json()["apiKeys"]
    invoices = http.get(f"{BILLING}/invoices").json()["invoices"]

    assert all("aclStrings" in k and isinstance(k["disabled"], bool) for k in keys)
    assert all(isinstance(i["total"], int) for i in invoices)
    assert errors({"apiKeys": keys}, "api_keys") == []


def test_the_schemas_accept_both_shapes_and_reject_others() -> None:
    key = {
        "apiKeyId": "k",
        "name": "n",
        "redactedApiKey": "xai-...abcd",
        "teamId": "t",
        "createTime": "2026-01-01T00:00:00Z",
        "disabled": "false",
        "acl_strings": [],
    }
    assert errors({"apiKeys": [key]}, "api_keys") == []
    assert errors({"apiKeys": [{**key, "disabled": "no"}]}, "api_keys") != []
    assert errors({"apiKeys": [{**key, "aclStrings": []}]}, "api_keys") != []
    assert errors({"thisBpSoftSpendingLimit": {"val": "12"}}, "soft_spending_limit_set") == []
    assert errors({"thisBpSoftSpendingLimit": {"val": "1.5"}}, "soft_spending_limit_set") != []
    assert errors({"events": [], "pageToken": "x"}, "audit_events") == []
