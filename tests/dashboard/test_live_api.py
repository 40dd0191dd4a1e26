"""The live API's known differences from the spec, survived end to end against the simulator's
quirks: a refused grouping (costs by API key), string amounts, buckets labelled from the request
and ending at "now", buckets revised upward after they close, and one endpoint failing alone."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest
from django.db.models import Sum
from django.urls import reverse

from dashboard.families import COSTS_ENDPOINT, FAMILIES
from dashboard.models import USAGE_MODELS, CostBucket
from dashboard.sync.usage import usage_sync
from dashboard.sync.writer import write_usage_page
from orgadmin.client import OrgAPIError, admin_client, api_errors, install_transport
from orgadmin.models import ApiCapability, SyncRun
from orgadmin.simulator import create_app
from orgadmin.simulator.quirks import Quirks
from orgadmin.simulator.usage.families import PICO
from orgadmin.sync.runs import refused_candidates
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL

DAY, HOUR = 86400, 3600
DAYS = 5
NOT_OFFERED = "Cost by API key isn&#x27;t offered by this organization&#x27;s API."


class Recorder:
    """Counts what reaches the simulator; `refuse` and `fail` stand in for a live server's
    answers that no quirk covers (a grouping a usage endpoint refuses, an endpoint that is down)."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.refuse: dict[str, str] = {}  # path suffix -> the group_by value it answers 400 to
        self.fail: set[str] = set()  # path suffixes answering 502

    def __call__(self, environ, start_response):
        path, query = environ["PATH_INFO"], parse_qs(environ.get("QUERY_STRING", ""))
        self.requests.append((path, query))
        for suffix, value in self.refuse.items():
            if path.endswith(suffix) and value in _group_by(query):
                return _answer(
                    start_response,
                    "400 Bad Request",
                    {
                        "error": {
                            "message": f"Invalid value for group_by: '{value}' is not supported.",
                            "type": "invalid_request_error",
                            "param": "group_by",
                            "code": None,
                        }
                    },
                )
        if any(path.endswith(suffix) for suffix in self.fail):
            return _answer(
                start_response,
                "502 Bad Gateway",
                {"error": {"message": "Bad gateway.", "type": "server_error", "param": None,
                           "code": None}},
            )  # fmt: skip
        return self.app(environ, start_response)

    def to(self, suffix: str) -> list[dict[str, list[str]]]:
        return [q for p, q in self.requests if p.endswith(suffix)]


def _group_by(query: dict[str, list[str]]) -> list[str]:
    values = query.get("group_by", []) + query.get("group_by[]", [])
    return [v for value in values for v in value.split(",")]


def _answer(start_response, status: str, body: dict) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(
        status, [("content-type", "application/json"), ("x-request-id", "req_live_test_0001")]
    )
    return [payload]


@pytest.fixture
def live(org, clock):
    """The demo organization with the strict costs of some live organizations, on a clock."""
    app = create_app(
        scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=clock, quirks=Quirks()
    )
    recorder = Recorder(app)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=recorder)):
        yield recorder


def _start(clock) -> dt.datetime:
    return clock.datetime() - dt.timedelta(days=DAYS)


def _days(clock, start: dt.datetime | None = None) -> tuple[int, int]:
    lo = int((start or _start(clock)).timestamp()) // DAY * DAY
    return lo, -(-int(clock.seconds) // DAY) * DAY


def _costs_truth(
    app, clock, group_by: tuple[str, ...], start: dt.datetime | None = None
) -> dict[tuple, Decimal]:
    """The simulator's costs now, by day and `group_by`, from the first synced day."""
    lo, hi = _days(clock, start)
    groups = app.store.usage.cost_groups(
        lo, hi, now=int(clock.seconds), width=DAY, base=lo, group_by=group_by, filters={}
    )
    out: dict[tuple, Decimal] = {}
    for k, by_group in groups.items():
        day = dt.datetime.fromtimestamp(lo + k * DAY, dt.UTC).date()
        for group, (pico, _, _) in by_group.items():
            if pico:
                key = (day, *("" if v is None else v for v in group))
                out[key] = out.get(key, Decimal(0)) + Decimal(pico) / PICO
    return out


def _costs_stored(fields: tuple[str, ...]) -> dict[tuple, Decimal]:
    rows = CostBucket.objects.values("day", *fields).annotate(total=Sum("amount")).order_by()
    return {(r["day"], *(r[f] for f in fields)): r["total"] for r in rows if r["total"]}


def _usage_matches(app, clock, families=FAMILIES, start: dt.datetime | None = None) -> None:
    """Every flow metric of every family over the synced hours equals the simulator's, now."""
    lo = int((start or _start(clock)).timestamp()) // HOUR * HOUR
    hi = -(-int(clock.seconds) // HOUR) * HOUR
    for slug in families:
        family = FAMILIES[slug]
        if slug == "vector_stores":
            continue  # a level, compared in tests/dashboard/test_sync.py
        truth = app.store.usage_totals(slug, lo, hi, now=int(clock.seconds))
        sums = USAGE_MODELS[slug].objects.aggregate(**{m: Sum(m) for m in family.metric_names})
        for metric in family.metric_names:
            assert (sums[metric] or 0) == truth.get(metric, 0), f"{slug}.{metric}"


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# --- 1. a refused grouping --------------------------------------------------------------------


def test_with_costs_by_key_refused_a_backfill_stores_every_cost_and_says_what_is_missing(
    live, org, clock, client_as, finance
):
    live.app.quirks.strict_costs = True

    run = usage_sync(org=org, start=_start(clock))

    assert run.status == SyncRun.Status.SUCCEEDED
    # Every cost by day, project and line item, to the pico-dollar (so to the cent).
    assert _costs_stored(("project_id", "line_item")) == _costs_truth(
        live.app, clock, ("project_id", "line_item")
    )
    assert not CostBucket.objects.exclude(api_key_id="").exists()
    capability = ApiCapability.objects.get(org=org, endpoint=COSTS_ENDPOINT)
    assert capability.refused == ["group_by:api_key_id"]
    assert capability.request_id.startswith("req_")
    # One refused request, then the same window without the key.
    costs = live.to("/organization/costs")
    assert "api_key_id" in _group_by(costs[0])
    assert all("api_key_id" not in _group_by(q) for q in costs[1:])

    lo, hi = _days(clock)
    period = {
        "start": dt.date.fromtimestamp(lo).isoformat(),
        "end": dt.date.fromtimestamp(hi).isoformat(),
    }
    client = client_as(finance)
    by_key = client.get(reverse("costs"), {**period, "group_by": "api_key_id"})
    body = by_key.content.decode()
    assert NOT_OFFERED in body
    assert capability.request_id in body
    # The page's total is the simulator's, to the cent.
    total = sum(_costs_truth(live.app, clock, ()).values(), Decimal(0))
    assert f"${total.quantize(Decimal('0.01')):,}" in body
    # By project (the default grouping here) the page says nothing is missing.
    assert NOT_OFFERED not in client.get(reverse("costs"), period).content.decode()
    # The Overview's top keys say why there are none.
    assert NOT_OFFERED in client.get(reverse("home")).content.decode()

    # The CSV agrees with the simulator line by line, and its key column says why it's empty.
    rows = _csv(
        client.get(
            reverse("costs_export", kwargs={"fmt": "csv"}),
            {**period, "group_by": "project_id,line_item", "precision": "full"},
        )
    )
    assert "api_key_id (not offered by this organization's API)" in rows[0]
    exported: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in rows:
        exported[(row["project_id"], row["line_item"])] += Decimal(row["amount"])
    truth: dict[tuple, Decimal] = defaultdict(Decimal)
    for (_, project, item), amount in _costs_truth(
        live.app, clock, ("project_id", "line_item")
    ).items():
        truth[(project, item)] += amount
    assert {k: v for k, v in exported.items() if v} == dict(truth)


def test_keys_come_back_after_the_next_daily_check_once_the_api_takes_them(live, org, clock):
    live.app.quirks.strict_costs = True
    start = _start(clock)
    usage_sync(org=org, start=start)
    live.app.quirks.strict_costs = False

    # Within the day, the refused grouping is not asked for again.
    clock.advance(hours=2)
    live.requests.clear()
    usage_sync(org=org)
    assert all("api_key_id" not in _group_by(q) for q in live.to("/organization/costs"))
    assert not CostBucket.objects.exclude(api_key_id="").exists()

    # A day later it is, the API takes it, and the history held is fetched again with keys.
    clock.advance(hours=23)
    run = usage_sync(org=org)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert ApiCapability.objects.get(org=org, endpoint=COSTS_ENDPOINT).refused == []
    assert _costs_stored(("project_id", "line_item", "api_key_id")) == _costs_truth(
        live.app, clock, ("project_id", "line_item", "api_key_id"), start
    )
    assert CostBucket.objects.exclude(api_key_id="").exists()


def test_a_usage_family_that_refuses_a_grouping_is_stored_without_it(
    live, org, clock, client_as, finance
):
    live.refuse["/usage/completions"] = "user_id"

    run = usage_sync(org=org, start=_start(clock), families=["completions"])

    assert run.status == SyncRun.Status.SUCCEEDED
    _usage_matches(live.app, clock, families=["completions"])
    model = USAGE_MODELS["completions"]
    assert model.objects.exists()
    assert not model.objects.exclude(user_id="").exists()
    assert model.objects.exclude(api_key_id="").exists()  # only the refused grouping is gone
    capability = ApiCapability.objects.get(org=org, endpoint="usage/completions")
    assert capability.refused == ["group_by:user_id"]

    query = {"family": "completions", "group_by": "user_id"}
    page = client_as(finance).get(reverse("usage"), query)
    assert "Completions usage by user isn&#x27;t offered by this organization&#x27;s API." in (
        page.content.decode()
    )


@pytest.mark.parametrize(
    ("message", "param", "sent", "expected"),
    [
        # The value refused is named.
        (
            "Invalid value for group_by: 'api_key_id' is not supported.",
            "group_by",
            ["group_by:api_key_id", "group_by:project_id"],
            ["group_by:api_key_id", "group_by:project_id"],
        ),
        # The values accepted are named: the others are the suspects.
        (
            "Invalid value for 'group_by': only `project_id` and `line_item` are supported.",
            "group_by",
            ["group_by:api_key_id", "group_by:line_item", "group_by:project_id"],
            ["group_by:api_key_id", "group_by:line_item", "group_by:project_id"],
        ),
        (
            "group_by must be one of: project_id, line_item",
            None,
            ["group_by:line_item", "group_by:api_key_id", "group_by:project_id"],
            ["group_by:api_key_id", "group_by:line_item", "group_by:project_id"],
        ),
        # A filter named by `param`.
        (
            "Unrecognized request argument supplied: api_key_ids",
            "api_key_ids",
            ["api_key_ids", "group_by:project_id"],
            ["api_key_ids"],
        ),
        # A 400 about something else is no option's fault.
        ("Invalid 'start_time': -1.", "start_time", ["group_by:project_id"], []),
    ],
)
def test_it_reads_which_option_a_400_refuses(message, param, sent, expected):
    error = OrgAPIError(message, status=400, param=param)
    assert refused_candidates(error, sent) == expected


def test_it_reads_the_strict_simulators_refusals_as_the_options_they_are(live, org):
    live.app.quirks.strict_costs = True
    client = admin_client(org)
    for params, sent, blamed in (
        ({"group_by": ["project_id", "api_key_id"]}, ["group_by:api_key_id",
         "group_by:project_id"], "group_by:api_key_id"),
        ({"api_key_ids": ["key_x"]}, ["api_key_ids"], "api_key_ids"),
    ):  # fmt: skip
        with pytest.raises(OrgAPIError) as refused, api_errors():
            client.usage.costs(start_time=1_700_000_000, **params)
        assert refused.value.status == 400
        assert refused.value.request_id
        assert refused_candidates(refused.value, sent)[0] == blamed


# --- 2. streams are independent -----------------------------------------------------------------


def test_one_endpoint_failing_leaves_the_others_synced_and_the_next_run_fetches_only_it(
    live, org, clock, client_as, finance, settings
):
    settings.USAGE_SYNC_MAX_RETRIES = 0
    settings.USAGE_BACKFILL_DAYS = DAYS
    live.fail.add("/usage/images")
    start = _start(clock)

    run = usage_sync(org=org)  # the first run: a backfill of every stream

    assert run.status == SyncRun.Status.PARTIAL
    assert [f["stream"] for f in run.failures] == ["usage/images"]
    assert run.failures[0]["status"] == 502
    assert run.failures[0]["request_id"] == "req_live_test_0001"
    assert "Images usage" in run.error
    others = [slug for slug in FAMILIES if slug != "images"]
    _usage_matches(live.app, clock, families=others)
    assert not USAGE_MODELS["images"].objects.exists()
    assert _costs_stored(()) == _costs_truth(live.app, clock, ())
    banner = client_as(finance).get(reverse("costs")).content.decode()
    assert "Partly synced" in banner
    assert "Images usage" in banner
    assert "req_live_test_0001" in banner

    live.fail.clear()
    live.requests.clear()
    clock.advance(minutes=10)
    again = usage_sync(org=org)

    assert again.status == SyncRun.Status.SUCCEEDED
    _usage_matches(live.app, clock, start=start)
    # Images backfill from where the failed run started; the others re-read their settle window.
    images = live.to("/usage/images")
    assert int(images[0]["start_time"][0]) == int(start.timestamp()) // HOUR * HOUR
    settle_start = int(clock.seconds) - settings.USAGE_SETTLE_HOURS * HOUR - HOUR
    for query in live.to("/usage/embeddings"):
        assert int(query["start_time"][0]) >= settle_start


def test_when_every_stream_fails_the_run_fails_with_each_error(live, org, clock, settings):
    settings.USAGE_SYNC_MAX_RETRIES = 0
    live.fail.update({f"/usage/{slug}" for slug in FAMILIES} | {"/organization/costs"})

    with pytest.raises(OrgAPIError):
        usage_sync(org=org, start=_start(clock))

    run = SyncRun.objects.get(org=org)
    assert run.status == SyncRun.Status.FAILED
    assert len(run.failures) == len(FAMILIES) + 1


# --- 3. production bucket shapes, string amounts and late revisions ----------------------------


def test_the_live_quirks_sync_exactly_and_late_revisions_are_picked_up(live, org, clock):
    live.app.quirks = Quirks.live()
    start = _start(clock)
    usage_sync(org=org, start=start)
    _usage_matches(live.app, clock)
    assert _costs_stored(("project_id", "line_item", "api_key_id")) == _costs_truth(
        live.app, clock, ("project_id", "line_item", "api_key_id")
    )
    lo = int(_start(clock).timestamp()) // HOUR * HOUR
    closed_hour = int(clock.seconds) // HOUR * HOUR - HOUR
    before = live.app.store.usage_totals("completions", lo, closed_hour + HOUR)

    clock.advance(hours=8)  # past every late report (LIVE_REVISION_HOURS), inside the settle window
    usage_sync(org=org)

    after = live.app.store.usage_totals("completions", lo, closed_hour + HOUR)
    assert after["input_tokens"] > before["input_tokens"]  # the closed hours were revised upward
    _usage_matches(live.app, clock, start=start)
    assert _costs_stored(("project_id", "line_item", "api_key_id")) == _costs_truth(
        live.app, clock, ("project_id", "line_item", "api_key_id"), start
    )


def test_an_unaligned_bucket_counts_in_the_hour_and_day_that_hold_its_start(
    org, client_as, finance
):
    hour = dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC)
    unaligned = int(hour.timestamp()) + 1800  # as the live API labels a 10:30 request

    def bucket(start: int, end: int, tokens: int) -> dict:
        result = {"object": "organization.usage.embeddings.result", "input_tokens": tokens,
                  "num_model_requests": 1, "project_id": "proj_a", "user_id": None,
                  "api_key_id": None, "model": "text-embedding-3-small"}  # fmt: skip
        return {"object": "bucket", "start_time": start, "end_time": end, "results": [result]}

    page = [
        bucket(unaligned, unaligned + HOUR, 100),
        bucket(unaligned + HOUR, unaligned + HOUR + 600, 23),  # the open bucket, ending at "now"
    ]
    write_usage_page(org, FAMILIES["embeddings"], page, dt.datetime.now(dt.UTC))

    model = USAGE_MODELS["embeddings"]
    assert sorted(model.objects.values_list("bucket_start", "input_tokens")) == [
        (hour, 100),
        (hour + dt.timedelta(hours=1), 23),
    ]
    client = client_as(finance)
    day = {"family": "embeddings", "start": "2026-03-04", "end": "2026-03-05", "tz": "UTC"}
    for width in ("1h", "1d"):
        rows = _csv(
            client.get(
                reverse("usage_export", kwargs={"fmt": "csv"}), {**day, "bucket_width": width}
            )
        )
        assert sum(int(r["input_tokens"]) for r in rows) == 123, width


def test_the_command_names_the_streams_a_partial_run_missed(live, org, clock, settings):
    from django.core.management import CommandError, call_command

    settings.USAGE_SYNC_MAX_RETRIES = 0
    live.fail.add("/organization/costs")
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError):
        call_command("sync_usage", "--days", "2", stdout=out, stderr=err)

    assert "rows written" in out.getvalue()  # the usage streams were stored
    assert "not synced: Costs: Bad gateway." in err.getvalue()
    assert "request id req_live_test_0001" in err.getvalue()
