"""Reading the usage sync's pages: the next request in flight while a page is written, what the
decoder tolerates, and a page that is not the JSON we expect."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest

from dashboard.families import FAMILIES
from dashboard.models import USAGE_MODELS, CostBucket
from dashboard.sync import usage as sync
from dashboard.sync.decode import page_decoder
from dashboard.sync.usage import usage_sync
from dashboard.sync.writer import write_cost_page, write_usage_page
from orgadmin.client import OrgAPIError, install_transport
from orgadmin.models import SyncRun
from tests.conftest import SIM_BASE_URL, SIM_NOW

NOW = dt.datetime.fromtimestamp(SIM_NOW, dt.UTC)
HOUR = 3600


class Requests:
    """Passes requests on to the simulator and notes the cursor of each as it starts (on the
    SDK's side, in whichever thread sends it)."""

    def __init__(self, app) -> None:
        self.app = app
        self.cursors: list[str | None] = []
        self.sent: list[tuple[str, int]] = []  # (endpoint, start_time) of each
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        query = parse_qs(environ["QUERY_STRING"])
        with self.changed:
            self.cursors.append(query.get("page", [None])[0])
            self.sent.append((environ["PATH_INFO"].rsplit("/", 1)[-1], int(query["start_time"][0])))
            self.changed.notify_all()
        return self.app(environ, start_response)

    def started(self, count: int, *, within: float) -> bool:
        """Whether `count` requests have started, waiting up to `within` seconds for them."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.cursors) >= count, timeout=within)


def test_the_next_page_is_requested_while_a_page_is_written(org, simulator, monkeypatch):
    requests = Requests(simulator)
    real = sync.write_usage_page
    in_flight = []

    def write(org, family, buckets, stamp):
        # Page i is being written: has the next request (page i + 1, or after the last page the
        # costs' first) started? If the sync sent it only after this write, it never would while
        # we wait here.
        in_flight.append(requests.started(len(in_flight) + 2, within=10))
        return real(org, family, buckets, stamp)

    monkeypatch.setattr(sync, "write_usage_page", write)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=requests)):
        # 20 days and the current hour are 481 hourly buckets: 3 pages of 168, then the costs.
        run = usage_sync(org=org, start=NOW - dt.timedelta(days=20), families=["completions"])

    assert run.status == SyncRun.Status.SUCCEEDED
    assert in_flight == [True, True, True]
    # Each window is one page (no cursor needed), and the streams take turns: the costs' only
    # page comes between the completions' first and second.
    assert requests.cursors == [None] * 4
    endpoints = [endpoint for endpoint, _ in requests.sent]
    assert endpoints == ["completions", "costs", "completions", "completions"]
    starts = [at for endpoint, at in requests.sent if endpoint == "completions"]
    assert starts == sorted(starts)
    assert len(set(starts)) == 3


class Replace:
    """Answers one endpoint with a 200 whose body is `body`, as a broken proxy or API might."""

    def __init__(self, app, suffix: str, body: bytes) -> None:
        self.app, self.suffix, self.body = app, suffix, body

    def __call__(self, environ, start_response):
        if not environ["PATH_INFO"].endswith(self.suffix):
            return self.app(environ, start_response)
        start_response(
            "200 OK",
            [
                ("content-type", "application/json"),
                ("content-length", str(len(self.body))),
                ("x-request-id", "req_not_our_json_0001"),
            ],
        )
        return [self.body]


@pytest.mark.parametrize(
    "body",
    [
        b'{"object":"page","data":[{"object":"bucket","start_time":17000',  # cut short
        b'{"object":"page","data":[{"start_time":"yesterday","results":[]}],"has_more":false}',
        b'[{"start_time":1700000000,"end_time":1700003600,"results":[]}]',
        b'{"object":"page","data":[],"has_more":true,"next_page":null}',  # more, but no cursor
        b"<html><body>Service unavailable</body></html>",
    ],
    ids=["cut-short", "start-time-as-text", "not-a-page", "more-without-a-cursor", "html"],
)
def test_a_page_that_is_not_the_json_we_expect_fails_its_stream_with_the_request_id(
    org, simulator, body
):
    with install_transport(
        SIM_BASE_URL, httpx.WSGITransport(app=Replace(simulator, "/usage/images", body))
    ):
        run = usage_sync(
            org=org, start=NOW - dt.timedelta(days=2), families=["images", "embeddings"]
        )

    assert run.status == SyncRun.Status.PARTIAL
    assert [(f["stream"], f["error"], f["request_id"]) for f in run.failures] == [
        (
            "usage/images",
            "The OpenAI API sent a page that is not the JSON we expect.",
            "req_not_our_json_0001",
        )
    ]
    assert not USAGE_MODELS["images"].objects.exists()
    assert USAGE_MODELS["embeddings"].objects.exists()  # the other streams are stored


def test_the_decoder_raises_the_readable_error_with_the_request_id():
    decode = page_decoder("embeddings")

    with pytest.raises(OrgAPIError) as info:
        decode(b'{"data": [{"start_time": null}]}', "req_abc")

    assert str(info.value) == (
        "The OpenAI API sent a page that is not the JSON we expect. · request id req_abc"
    )
    page = decode(b'{"data": [], "has_more": true, "next_page": "page_2"}', "req_def")
    assert (page.buckets, page.next_page, page.request_id) == ([], "page_2", "req_def")
    assert decode(b'{"data": [], "has_more": false, "next_page": "x"}', None).next_page is None


def _page(*buckets: dict) -> bytes:
    page = {"object": "page", "data": list(buckets), "has_more": False, "next_page": None}
    return json.dumps(page | {"surprise": {"new": "field"}}).encode()


def test_it_stores_what_the_live_api_sends_besides_the_spec(org):
    start = int(NOW.timestamp()) - 5 * HOUR
    result = {
        "object": "organization.usage.completions.result",
        "project_id": "proj_a",
        "user_id": None,  # a dimension sent as null
        "api_key_id": "key_a",
        "model": "gpt-4o",
        "batch": True,  # the batch flag as a boolean
        "service_tier": "default",
        "input_tokens": "120",  # a metric sent as a string
        "output_tokens": 30.0,  # ... or as a float
        "num_model_requests": 2,
        "input_cached_tokens": 7,
        "brand_new_metric": 42,  # a field we don't know
    }
    # A result without an optional metric, nor the required number of requests.
    sparse = {
        k: v for k, v in result.items() if k not in ("input_cached_tokens", "num_model_requests")
    }
    bucket = {
        "object": "bucket",
        "start_time": start,
        "end_time": start + HOUR,
        "results": [result, sparse | {"project_id": "proj_b", "batch": False}],
    }
    page = page_decoder("completions")(_page(bucket), "req_1")

    write_usage_page(org, FAMILIES["completions"], page.buckets, NOW)

    fields = ("project_id", "user_id", "batch", "input_tokens", "output_tokens")
    fields += ("num_model_requests", "input_cached_tokens")
    rows = USAGE_MODELS["completions"].objects.order_by("project_id").values_list(*fields)
    assert list(rows) == [
        ("proj_a", "", "true", 120, 30, 2, 7),
        ("proj_b", "", "false", 120, 30, 0, None),  # a required metric missing is 0
    ]


def test_it_keeps_amounts_exact_beyond_what_a_float_holds(org):
    day = int(NOW.timestamp()) // 86400 * 86400
    result = {
        "object": "organization.costs.result",
        "amount": {"value": "AMOUNT", "currency": "USD"},
        "line_item": "gpt-4o, input",
        "project_id": "proj_a",
        "api_key_id": None,
        "quantity": 1000,
        "quantity_unit": "tokens",
    }
    as_text = result | {"project_id": "proj_b", "amount": {"value": "0.1"}}  # no currency
    text = _page({"start_time": day, "end_time": day + 86400, "results": [result, as_text]})
    # A JSON number with more digits than a float holds (Python's json would round it).
    page = page_decoder(None)(text.replace(b'"AMOUNT"', b"1234567.123456789012"), None)

    write_cost_page(org, page.buckets, NOW)

    assert sorted(CostBucket.objects.values_list("project_id", "amount", "currency")) == [
        ("proj_a", Decimal("1234567.123456789012"), "usd"),
        ("proj_b", Decimal("0.1"), "usd"),
    ]
