"""The xAI client against answers written by hand: every wire quirk the reference documents, the
retries (waits asserted, no real sleeping), and every failure as one readable `OrgAPIError`."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from orgadmin import crypto
from orgadmin.client import OrgAPIError, install_transport
from orgadmin.models import Organization
from orgadmin.xai.client import XAIClient, xai_client
from orgadmin.xai.types import Cent, cents_to_usd

BASE = "http://xai-simulator.test"
KEY = "xai-mgmt-simulator-test-key-0000000000wxyz"
TEAM = "team-demo-0001"

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport that answers from a list (the last answer repeats) and keeps the requests."""

    def __init__(self, *answers: httpx.Response | Handler | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise type(answer)(str(answer), request=request)
        return answer(request) if callable(answer) else answer

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def answer(body: Any = None, status: int = 200, **headers: str) -> httpx.Response:
    headers = {"x-request-id": "req-1", **{k.replace("_", "-"): v for k, v in headers.items()}}
    return httpx.Response(status, json={} if body is None else body, headers=headers)


def grpc_error(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    return answer({"code": code, "message": message, "details": []}, status, **headers)


def client_for(recorder: Recorder, **kwargs: Any) -> XAIClient:
    return XAIClient(BASE, KEY, transport=httpx.MockTransport(recorder), **kwargs)


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The waits between attempts (stamina sleeps through tenacity's `time.sleep`)."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


# --- the wire's shapes --------------------------------------------------------------------------


def test_it_reads_a_key_in_either_documented_shape():
    recorder = Recorder(
        answer(
            {
                "apiKeys": [
                    {
                        "apiKeyId": "k1",
                        "name": "Docs style",
                        "acl_strings": ["api-key:model:*"],
                        "disabled": "false",
                        "qps": "10",
                        "qpm": 600,
                        "tpm": "1000000",
                        "createTime": "2026-11-02T10:00:00.123456789Z",
                    },
                    {
                        "apiKeyId": "k2",
                        "name": "Canonical",
                        "aclStrings": ["api-key:endpoint:chat"],
                        "disabled": True,
                        "tpm": 5,
                    },
                ]
            }
        )
    )
    with client_for(recorder) as xai:
        first, second = xai.list_api_keys(TEAM)
    assert (first.acl_strings, first.disabled, first.qps, first.qpm, first.tpm) == (
        ["api-key:model:*"],
        False,
        10,
        600,
        1_000_000,
    )
    assert first.create_time == datetime(2026, 11, 2, 10, 0, 0, 123457, tzinfo=UTC)
    assert (second.acl_strings, second.disabled, second.tpm) == (["api-key:endpoint:chat"], True, 5)


def test_it_follows_the_page_tokens_to_the_end_asking_each_page_once():
    def page(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("paginationToken", "")
        following = {"": "p2", "p2": "p3", "p3": ""}[token]
        return answer(
            {"apiKeys": [{"apiKeyId": f"key-{token or 'p1'}"}], "paginationToken": following}
        )

    recorder = Recorder(page)
    with client_for(recorder) as xai:
        keys = xai.list_api_keys(TEAM, active_only=True, page_size=1)
    assert [k.api_key_id for k in keys] == ["key-p1", "key-p2", "key-p3"]
    asked = [r.url.params.get("paginationToken") for r in recorder.requests]
    assert asked == [None, "p2", "p3"]
    assert all(r.url.path == f"/auth/teams/{TEAM}/api-keys" for r in recorder.requests)
    assert recorder.requests[0].url.params["activeOnly"] == "true"
    assert recorder.requests[0].url.params["pageSize"] == "1"


def test_it_refuses_a_page_token_handed_out_twice_instead_of_looping():
    recorder = Recorder(answer({"apiKeys": [], "paginationToken": "same"}))
    with client_for(recorder) as xai, pytest.raises(OrgAPIError, match="same page twice"):
        xai.list_api_keys(TEAM)
    assert len(recorder.requests) == 2


def test_it_reads_audit_pages_under_any_token_name_with_the_filters():
    recorder = Recorder(
        answer(
            {
                "events": [{"eventId": "e1", "description": 'Created API key "a"'}],
                "nextPageToken": "t2",
            }
        ),
        answer(
            {
                "events": [{"eventId": "e2", "user": {"userId": "u1", "email": "a@x.ai"}}],
                "pageToken": "t3",
            }
        ),
        answer({"events": [{"eventId": "e3", "eventTime": "2026-11-02T10:00:00Z"}]}),
    )
    since = datetime(2026, 11, 1, tzinfo=UTC)
    with client_for(recorder) as xai:
        pages = list(
            xai.audit_events(TEAM, since=since, query="key", user_id="u1", ascending=False)
        )
    assert [[e.event_id for e in page] for page in pages] == [["e1"], ["e2"], ["e3"]]
    assert pages[1][0].user.email == "a@x.ai"
    assert pages[2][0].event_time == datetime(2026, 11, 2, 10, tzinfo=UTC)
    params = [dict(r.url.params) for r in recorder.requests]
    assert params[0] == {
        "pageSize": "100",
        "orderBy": "TIME_DESCENDING",
        "eventTimeFrom": "2026-11-01T00:00:00Z",
        "eventFilter.query": "key",
        "eventFilter.userId": "u1",
    }
    assert [p.get("pageToken") for p in params] == [None, "t2", "t3"]


def test_it_reads_money_in_cents_as_exact_dollars_whatever_the_shape():
    recorder = Recorder(
        answer(
            {
                "spendingLimits": {
                    "hardSlAuto": {"val": "50000"},
                    "effectiveHardSl": {"val": 50000},
                    "effectiveSl": {},
                    "softSl": {"val": "12345"},
                }
            }
        ),
        answer(
            {
                "total": {"val": "-1999"},
                "changes": [{"changeOrigin": "PURCHASE", "amount": {"val": "-2000"}}],
            }
        ),
        answer(
            {
                "invoices": [
                    {
                        "invoiceId": "i1",
                        "subtotal": "1000",
                        "tax": 83,
                        "total": {"val": "1083"},
                        "lines": [
                            {
                                "description": "grok-4 input tokens",
                                "numUnits": "3",
                                "amount": "1000",
                            }
                        ],
                    }
                ]
            }
        ),
    )
    with client_for(recorder) as xai:
        limits = xai.spending_limits(TEAM)
        balance = xai.prepaid_balance(TEAM)
        (invoice,) = xai.invoices(TEAM, since=(2026, 1))
    assert limits.soft_sl.usd == Decimal("123.45")
    assert limits.effective_sl == Cent(0)
    assert limits.hard_sl_override is None  # no override set: not a zero limit
    assert balance.total.usd == Decimal("-19.99")
    assert balance.changes[0].amount.val == -2000
    assert (invoice.subtotal.val, invoice.tax.val, invoice.total.usd) == (
        1000,
        83,
        Decimal("10.83"),
    )
    assert invoice.lines[0].num_units == 3
    assert dict(recorder.requests[2].url.params) == {"since.year": "2026", "since.month": "1"}
    assert cents_to_usd(9_223_372_036_854_775_807) == Decimal("92233720368547758.07")


def test_it_reads_usage_values_exactly_and_asks_in_the_given_time_zone():
    recorder = Recorder(
        answer(
            {
                "timeSeries": [
                    {
                        "group": ["grok-4 input tokens", "k1"],
                        "groupLabels": ["grok-4 input tokens", "Prod"],
                        "dataPoints": [
                            {"timestamp": "2026-11-01T00:00:00Z", "values": [0.1]},
                            {"timestamp": "2026-11-02T00:00:00Z", "values": [0.2]},
                        ],
                    }
                ],
                "limitReached": "false",
            }
        )
    )
    start = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # midnight in Paris
    with client_for(recorder) as xai:
        usage = xai.usage(TEAM, start=start, end=start + timedelta(days=2), timezone="Europe/Paris")
    (series,) = usage.time_series
    assert sum(p.values[0] for p in series.data_points) == Decimal("0.3")  # not 0.30000000000000004
    assert series.data_points[0].timestamp == datetime(2026, 11, 1, tzinfo=UTC)
    assert usage.limit_reached is False
    assert usage.request_id == "req-1"
    assert recorder.requests[0].url.path == f"/v1/billing/teams/{TEAM}/usage"
    assert recorder.bodies()[0] == {
        "analyticsRequest": {
            "timeRange": {
                "startTime": "2026-11-01 00:00:00",
                "endTime": "2026-11-03 00:00:00",
                "timezone": "Europe/Paris",
            },
            "timeUnit": "TIME_UNIT_DAY",
            "values": [{"name": "usd", "aggregation": "AGGREGATION_SUM"}],
            "groupBy": ["description", "api_key_id"],
            "filters": [],
        }
    }


# --- what the client sends ----------------------------------------------------------------------


def test_it_sends_an_update_with_its_field_mask_and_tpm_as_a_string():
    recorder = Recorder(
        answer({"apiKeyId": "k1", "tpm": "2000", "aclStrings": ["api-key:model:*"]})
    )
    with client_for(recorder) as xai:
        key = xai.update_api_key("k1", {"tpm": 2000, "acls": ["api-key:model:*"], "qps": 5})
    request = recorder.requests[0]
    assert (request.method, request.url.path) == ("PUT", "/auth/api-keys/k1")
    assert recorder.bodies()[0] == {
        "apiKey": {"tpm": "2000", "aclStrings": ["api-key:model:*"], "qps": 5},
        "fieldMask": "tpm,aclStrings,qps",
    }
    assert key.tpm == 2000


def test_it_disables_a_key_with_the_disabled_mask():
    recorder = Recorder(answer({"apiKeyId": "k1", "disabled": "true"}))
    with client_for(recorder) as xai:
        assert xai.set_api_key_disabled("k1", True).disabled is True
    assert recorder.bodies()[0] == {"apiKey": {"disabled": True}, "fieldMask": "disabled"}


def test_it_creates_a_key_and_keeps_its_secret_out_of_its_repr():
    secret = "xai-" + "s" * 80
    recorder = Recorder(
        answer({"apiKeyId": "k9", "apiKey": secret, "redactedApiKey": "xai-...ssss"})
    )
    expires = datetime(2027, 1, 1, tzinfo=UTC)
    with client_for(recorder) as xai:
        key = xai.create_api_key(
            TEAM, name="CI", acls=["api-key:endpoint:chat"], qps=3, tpm=1000, expire_time=expires
        )
    assert key.api_key == secret
    assert secret not in repr(key)
    assert recorder.requests[0].url.path == f"/auth/teams/{TEAM}/api-keys"
    assert recorder.bodies()[0] == {
        "name": "CI",
        "acls": ["api-key:endpoint:chat"],
        "qps": 3,
        "tpm": "1000",
        "expireTime": "2027-01-01T00:00:00Z",
    }


def test_it_rotates_a_key_with_or_without_the_old_secrets_expiry():
    recorder = Recorder(answer({"apiKeyId": "k1", "apiKey": "xai-new"}))
    with client_for(recorder) as xai:
        xai.rotate_api_key("k1")
        rotated = xai.rotate_api_key(
            "k1", old_secret_expire_time=datetime(2026, 12, 7, 12, tzinfo=UTC)
        )
    assert rotated.api_key == "xai-new"
    assert [r.url.path for r in recorder.requests] == ["/auth/api-keys/k1/rotate"] * 2
    assert recorder.bodies() == [{}, {"oldSecretExpireTime": "2026-12-07T12:00:00Z"}]


def test_it_deletes_a_key_by_its_own_path_not_the_teams():
    recorder = Recorder(answer({}))
    with client_for(recorder) as xai:
        assert xai.delete_api_key("k1") is None
        assert xai.key_propagation("k1") == {}
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("DELETE", "/auth/api-keys/k1"),
        ("GET", "/auth/api-keys/k1/propagation"),
    ]


def test_it_escapes_ids_and_refuses_dot_segments():
    recorder = Recorder(answer({"icPropagation": {"us-east-1.api.x.ai": True}}))
    with client_for(recorder) as xai:
        assert xai.key_propagation("a/b") == {"us-east-1.api.x.ai": True}
        with pytest.raises(OrgAPIError, match="not one the xAI API hands out"):
            xai.delete_api_key("..")
    assert recorder.requests[0].url.raw_path == b"/auth/api-keys/a%2Fb/propagation"
    assert len(recorder.requests) == 1  # nothing sent for ".."


def test_it_sets_the_soft_limit_in_cents_and_reads_the_limits_back():
    recorder = Recorder(
        answer({"thisBpSoftSpendingLimit": {"val": "5000"}}),
        answer({"spendingLimits": {"softSl": {"val": "5000"}}}),
    )
    with client_for(recorder) as xai:
        limits = xai.set_soft_spending_limit(TEAM, 5000)
        with pytest.raises(ValueError, match="cents"):
            xai.set_soft_spending_limit(TEAM, -1)
    assert limits.soft_sl == Cent(5000)
    assert recorder.bodies()[0] == {"desiredSoftSpendingLimit": {"val": 5000}}
    assert [r.method for r in recorder.requests] == ["POST", "GET"]


def test_it_reads_the_management_key_and_the_acl_lists():
    recorder = Recorder(
        answer(
            {"apiKeyId": "m1", "scope": "SCOPE_TEAM", "scopeId": TEAM, "acls": ["management-api:*"]}
        ),
        answer(
            {
                "endpoints": [
                    {"acl": "api-key:endpoint:chat", "description": "Chat", "value": "chat"}
                ]
            }
        ),
        answer({"models": [{"name": "grok-4"}]}),
    )
    with client_for(recorder) as xai:
        key = xai.validate_key()
        endpoints = xai.list_endpoints(TEAM)
        models = xai.list_models(TEAM)
    assert (key.scope_id, key.acls, key.request_id) == (TEAM, ["management-api:*"], "req-1")
    assert endpoints[0].acl == "api-key:endpoint:chat"
    assert models[0].name == "grok-4"
    assert recorder.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_it_has_no_way_to_buy_credits():
    names = [n.lower() for n in dir(XAIClient) if not n.startswith("__")]
    assert not [n for n in names if "top" in n or "purchase" in n or "payment" in n]


# --- retries ------------------------------------------------------------------------------------


def test_it_waits_as_long_as_retry_after_says(waits):
    recorder = Recorder(
        grpc_error(429, 8, "Too many requests.", retry_after="7"),
        grpc_error(429, 8, "Too many requests.", retry_after="2"),
        answer({"apiKeys": []}),
    )
    with client_for(recorder) as xai:
        assert xai.list_api_keys(TEAM) == []
    assert waits == [7.0, 2.0]
    assert len(recorder.requests) == 3


def test_it_retries_server_errors_then_succeeds(waits):
    recorder = Recorder(
        answer(status=503), answer(status=502), answer({"apiKeys": [{"apiKeyId": "k1"}]})
    )
    with client_for(recorder) as xai:
        assert [k.api_key_id for k in xai.list_api_keys(TEAM)] == ["k1"]
    assert len(recorder.requests) == 3
    assert len(waits) == 2
    assert all(0 < w <= 8 for w in waits)


def test_it_gives_up_after_its_attempts(waits):
    recorder = Recorder(
        grpc_error(503, 14, "The service is currently unavailable.", x_request_id="req-last")
    )
    with client_for(recorder, max_attempts=3) as xai, pytest.raises(OrgAPIError) as caught:
        xai.billing_info(TEAM)
    assert len(recorder.requests) == 3
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (
        503,
        "unavailable",
        "req-last",
    )
    assert caught.value.retryable


def test_it_does_not_wait_past_its_time_budget(waits):
    recorder = Recorder(grpc_error(429, 8, "Too many requests.", retry_after="3600"))
    with client_for(recorder) as xai, pytest.raises(OrgAPIError) as caught:
        xai.invoices(TEAM)
    assert waits == []
    assert len(recorder.requests) == 1
    assert "Try again in 3600 seconds" in caught.value.message


def test_it_does_not_retry_a_client_error(waits):
    recorder = Recorder(grpc_error(400, 3, "name is required"))
    with client_for(recorder) as xai, pytest.raises(OrgAPIError) as caught:
        xai.create_api_key(TEAM, name="", acls=[])
    assert len(recorder.requests) == 1
    assert (caught.value.message, caught.value.status, caught.value.code) == (
        "name is required",
        400,
        "invalid_argument",
    )


def test_it_never_retries_a_creation_the_api_may_have_made(waits):
    recorder = Recorder(answer(status=500), answer({"apiKeyId": "k2", "apiKey": "xai-second"}))
    with client_for(recorder) as xai, pytest.raises(OrgAPIError):
        xai.create_api_key(TEAM, name="Once", acls=[])
    assert len(recorder.requests) == 1  # a second key would be made and its secret lost


def test_it_retries_a_rate_limited_creation(waits):
    recorder = Recorder(
        grpc_error(429, 8, "slow down", retry_after="1"),
        answer({"apiKeyId": "k2", "apiKey": "xai-new"}),
    )
    with client_for(recorder) as xai:
        assert xai.create_api_key(TEAM, name="Once", acls=[]).api_key_id == "k2"
    assert waits == [1.0]


# --- failures as OrgAPIError --------------------------------------------------------------------


def test_it_says_the_management_key_was_rejected():
    recorder = Recorder(
        grpc_error(401, 16, "Invalid bearer token. Please ensure you use a valid management key.")
    )
    with client_for(recorder) as xai, pytest.raises(OrgAPIError) as caught:
        xai.validate_key()
    error = caught.value
    assert error.message == (
        "The xAI API rejected the management key: Invalid bearer token. Please ensure you use a "
        "valid management key."
    )
    assert (error.status, error.code, error.request_id) == (401, "unauthenticated", "req-1")
    assert error.account_wide
    assert not error.permission_denied


def test_it_tells_a_refused_area_from_a_refused_key():
    recorder = Recorder(
        grpc_error(
            403,
            7,
            "Permission denied: this management key lacks the ACL management-api:billing:read",
        )
    )
    with client_for(recorder) as xai, pytest.raises(OrgAPIError) as caught:
        xai.prepaid_balance(TEAM)
    error = caught.value
    assert error.permission_denied
    assert not error.account_wide
    assert (error.status, error.area, error.method) == (403, "billing", "GET")
    assert "lacks the ACL" in str(error)


def test_it_finds_the_request_id_under_another_name_and_explains_a_404():
    response = httpx.Response(404, content=b"not json", headers={"xai-request-id": "abc-123"})
    with client_for(Recorder(response)) as xai, pytest.raises(OrgAPIError) as caught:
        xai.update_api_key("gone", {"name": "x"})
    error = caught.value
    assert error.message == "Not found: it may have been deleted by someone else."
    assert (error.status, error.request_id, error.path) == (404, "abc-123", "/auth/api-keys/gone")
    assert (
        str(error)
        == "Not found: it may have been deleted by someone else. · HTTP 404 · request id abc-123"
    )


def test_a_timeout_becomes_a_readable_error_after_its_retries(waits):
    recorder = Recorder(httpx.ReadTimeout("timed out"))
    with client_for(recorder, max_attempts=2) as xai, pytest.raises(OrgAPIError) as caught:
        xai.invoice_preview(TEAM)
    assert caught.value.message == "The xAI API did not answer in time. Try again."
    assert (caught.value.code, caught.value.status) == ("timeout", None)
    assert len(recorder.requests) == 2


def test_a_lost_connection_becomes_a_readable_error(waits):
    xai = client_for(Recorder(httpx.ConnectError("refused")), max_attempts=2)
    with xai, pytest.raises(OrgAPIError, match="Could not reach the xAI API") as caught:
        xai.validate_key()
    assert caught.value.account_wide


def test_an_answer_of_the_wrong_shape_is_an_error_that_says_where():
    xai = client_for(Recorder(answer({"apiKeys": [{"qps": "many"}]})))
    with xai, pytest.raises(OrgAPIError, match=r"Unexpected answer from the xAI.*qps") as caught:
        xai.list_api_keys(TEAM)
    assert caught.value.code == "bad_answer"


def test_the_key_never_reaches_an_error_or_a_log(waits, caplog):
    caplog.set_level(logging.DEBUG)
    recorder = Recorder(
        grpc_error(503, 14, "busy"),
        grpc_error(401, 16, f"Invalid bearer token {KEY}"),
    )
    xai = client_for(recorder)
    with pytest.raises(OrgAPIError) as caught:
        xai.validate_key()
    error = caught.value
    for text in (str(error), repr(error), error.message, repr(xai), repr(vars(error))):
        assert KEY not in text
    assert "[the management key]" in error.message
    assert caplog.records, "expected the retry to be logged"
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.args)
        assert KEY not in repr(vars(record))
    xai.close()


# --- a connection's client ----------------------------------------------------------------------


def _org(base_url: str = BASE, key: str = KEY) -> Organization:
    org = Organization(name="Team", provider=Organization.Provider.XAI, base_url=base_url)
    org.set_admin_key(key)
    return org


def test_a_connections_client_goes_through_the_mounted_transport(settings):
    settings.XAI_MAX_ATTEMPTS = 2
    recorder = Recorder(answer({"apiKeyId": "m1", "scopeId": TEAM}))
    with install_transport(BASE, httpx.MockTransport(recorder)), xai_client(_org()) as xai:
        assert xai.validate_key().scope_id == TEAM
        assert xai.max_attempts == 2
    assert recorder.requests[0].url == f"{BASE}/auth/management-keys/validation"


def test_a_connection_with_a_refused_base_url_gets_no_client():
    with pytest.raises(OrgAPIError) as caught:
        xai_client(_org(base_url="https://elsewhere.example.com"))
    assert caught.value.code == "base_url_refused"


def test_a_malformed_stored_key_is_named_a_management_key():
    org = _org()
    org.admin_key_encrypted = crypto.encrypt("xai-with a space")
    with pytest.raises(OrgAPIError, match="stored management key") as caught:
        xai_client(org)
    assert caught.value.code == "key_malformed"


def test_a_soft_limit_change_keeps_its_own_request_id_after_reading_the_limits_back():
    """xAI answers the change with only the new soft limit: the limits are read again, but the
    id to quote about the change (in Activity) is the change's."""
    recorder = Recorder(
        answer({"thisBpSoftSpendingLimit": {"val": "1200"}}, x_request_id="req-change"),
        answer({"spendingLimits": {"softSl": {"val": 1200}}}, x_request_id="req-read"),
    )
    with client_for(recorder) as xai:
        limits = xai.set_soft_spending_limit(TEAM, 1200)
        assert limits.request_id == "req-change"
        assert xai.last_request_id == "req-change"
    assert limits.soft_sl is not None
    assert limits.soft_sl.val == 1200
    assert [r.method for r in recorder.requests] == ["POST", "GET"]
