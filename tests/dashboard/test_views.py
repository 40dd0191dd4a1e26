"""The Costs, Usage and Overview pages, their exports, filters, sync button and query counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.models import USAGE_MODELS, CostBucket, ReportingSettings
from orgadmin.models import ActionLog, Project, SyncRun
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()
D1, D2, D3 = (TODAY - dt.timedelta(days=n) for n in (3, 2, 1))


@pytest.fixture
def acme(db):
    org = OrganizationFactory(name="Acme")
    Project.objects.create(org=org, openai_id="proj_a", name="Search")
    for day, item, project, key, amount, qty in [
        (D1, "gpt-5, input", "proj_a", "key_1", "1.10", 1000),
        (D1, "gpt-5, output", "proj_a", "key_1", "2.20", 200),
        (D2, "gpt-5, input", "proj_b", "key_2", "0.70", 700),
        (D3, "gpt-5, input", "proj_a", "key_2", "0.000000000001", 1),
    ]:
        CostBucket.objects.create(
            org=org, day=day, line_item=item, project_id=project, api_key_id=key,
            amount=Decimal(amount), currency="usd", quantity=qty, quantity_unit="tokens",
        )  # fmt: skip
    model = USAGE_MODELS["completions"]
    for hours, mdl, batch, tokens, cached in [
        (1, "gpt-5", "false", 100, 40),
        (30, "gpt-5-mini", "true", 50, 0),
    ]:
        model.objects.create(
            org=org, bucket_start=timezone.now().replace(minute=0, second=0, microsecond=0)
            - dt.timedelta(hours=hours), project_id="proj_a", user_id="user_1", api_key_id="key_1",
            model=mdl, batch=batch, service_tier="default", input_tokens=tokens, output_tokens=10,
            num_model_requests=2, input_cached_tokens=cached, input_uncached_tokens=tokens - cached,
        )  # fmt: skip
    _rollup(org, "completions")
    return org


def _rollup(org, slug):
    """Rows made here, not by a sync: build their daily rollup as the sync would."""
    from dashboard.families import FAMILIES
    from dashboard.sync.writer import usage_rollup

    start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    usage_rollup(
        org=org, family=FAMILIES[slug], start=start, end=timezone.now() + dt.timedelta(days=1)
    )


def period(**extra):
    return {"start": D1.isoformat(), "end": TODAY.isoformat(), **extra}


# --- costs ---------------------------------------------------------------------------------


def test_it_shows_costs_by_line_item_with_totals(acme, client_as, finance):
    response = client_as(finance).get(reverse("costs"), period())

    assert response.status_code == 200
    body = response.content.decode()
    assert "$4.00" in body  # 1.10 + 2.20 + 0.70 + a pico-dollar, in cents
    assert "gpt-5, output" in body
    names = [trace.name for trace in response.context["figure"].data]
    assert names == ["gpt-5, output", "gpt-5, input"]  # the biggest first
    assert response.context["total"] == Decimal("4.000000000001")


def test_it_names_projects_from_the_directory_and_falls_back_to_the_id(acme, client_as, finance):
    response = client_as(finance).get(reverse("costs"), period(group_by="project_id"))

    labels = [row["cells"][0]["label"] for row in response.context["table"]]
    assert labels == ["Search", "proj_b"]


def test_it_drills_down_from_a_series_to_its_line_items(acme, client_as, finance, admin):
    response = client_as(finance).get(reverse("costs"), period(group_by="project_id"))

    drill = response.context["figure"].data[0].meta["drill"]
    assert "project_id=proj_a" in drill
    assert "group_by=line_item" in drill
    narrowed = client_as(finance).get(drill)
    assert narrowed.context["total"] == Decimal("3.300000000001")
    # Each day of the chart links to the audit log of that day, for who may open it (issue 16,
    # item 3): not Finance.
    assert response.context["figure"].data[0].customdata is None
    response = client_as(admin).get(reverse("costs"), period(group_by="project_id"))
    link = response.context["figure"].data[0].customdata[0]
    assert link == f"/audit-log/?start={D1.isoformat()}&end={D2.isoformat()}"


def test_it_answers_htmx_with_the_body_and_pushes_the_canonical_url(acme, client_as, finance):
    response = client_as(finance).get(reverse("costs"), period(), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="costs-body"')
    assert "<html" not in body
    assert response["HX-Push-Url"].startswith("/costs/?start=")
    assert "group_by=line_item" in response["HX-Push-Url"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-03-10", "end": "2025-03-01"}, "The end date must be after the start"),
        ({"start": "2025-02-30", "end": "2025-03-01"}, "Enter a date as YYYY-MM-DD"),
        ({"start": "yesterday"}, "Enter a date as YYYY-MM-DD"),
        ({"group_by": "user_id"}, "Can&#x27;t group by “user_id”"),  # model: item 1 of #16
        ({"tz": "Mars/Olympus"}, "Unknown timezone"),
        ({"start": "2020-01-01", "end": "2025-01-01"}, "Pick at most 731 days"),
    ],
)
def test_it_explains_bad_filters_beside_the_field(acme, client_as, finance, params, message):
    response = client_as(finance).get(reverse("costs"), params)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_it_uses_the_organization_reporting_timezone_by_default(acme, client_as, admin):
    response = client_as(admin).post(
        reverse("reporting_settings"), {"timezone": "Asia/Tokyo", "next": "/costs/"}
    )

    assert response.status_code == 302
    assert ReportingSettings.objects.get(org=acme).timezone == "Asia/Tokyo"
    assert ActionLog.objects.filter(action="reporting.timezone").exists()
    page = client_as(admin).get(reverse("costs"))
    assert page.context["controls"]["tz"] == "Asia/Tokyo"


# --- exports -------------------------------------------------------------------------------


def test_it_exports_costs_as_csv_with_ungrouped_dimensions_empty(acme, client_as, finance):
    response = client_as(finance).get(
        reverse("costs_export", kwargs={"fmt": "csv"}),
        period(group_by="project_id,line_item", precision="full"),
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "date", "provider", "project_id", "project_name", "line_item", "api_key_id", "amount",
        "currency", "quantity",
    ]  # fmt: skip
    assert [
        D1.isoformat(), "OpenAI", "proj_a", "Search", "gpt-5, input", "", "1.1", "usd", "1000"
    ] in rows  # fmt: skip
    assert [
        D3.isoformat(),
        "OpenAI",
        "proj_a",
        "Search",
        "gpt-5, input",
        "",
        "0.000000000001",
        "usd",
        "1",
    ] in rows
    assert [D2.isoformat(), "OpenAI", "proj_b", "", "gpt-5, input", "", "0.7", "usd", "700"] in rows


def test_it_exports_costs_as_json_with_exact_amounts(acme, client_as, finance):
    response = client_as(finance).get(
        reverse("costs_export", kwargs={"fmt": "json"}), period(group_by="", precision="full")
    )

    rows = json.loads(b"".join(response.streaming_content), parse_float=Decimal)
    assert [r["amount"] for r in rows] == [Decimal("3.3"), Decimal("0.7"), Decimal("1E-12")]
    assert rows[0]["project_id"] is None
    assert rows[0]["quantity"] is None  # a quantity only adds up within one line item


def test_it_refuses_an_export_with_bad_parameters_in_plain_words(acme, client_as, finance):
    response = client_as(finance).get(
        reverse("usage_export", kwargs={"fmt": "csv"}), {"family": "telepathy"}
    )

    assert response.status_code == 400
    assert "Unknown usage family “telepathy”" in response.content.decode()


def test_it_exports_usage_with_every_dimension_and_metric_of_the_family(acme, client_as, finance):
    response = client_as(finance).get(
        reverse("usage_export", kwargs={"fmt": "csv"}),
        {"family": "completions", "preset": "7d", "group_by": "model", "bucket_width": "1h"},
    )

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header = rows[0]
    assert header[:7] == [
        "bucket_start", "project_id", "user_id", "api_key_id", "model", "batch", "service_tier",
    ]  # fmt: skip
    assert "input_cached_tokens" in header
    assert "output_image_tokens" in header
    assert len(rows) == 3
    first = dict(zip(header, rows[1], strict=True))
    assert first["bucket_start"].endswith(":00:00Z")
    assert first["model"] == "gpt-5-mini"
    assert first["project_id"] == ""  # not grouped by project
    assert first["input_tokens"] == "50"


def test_it_cuts_days_at_local_midnight_in_the_reporting_timezone(client_as, finance):
    org = OrganizationFactory(name="Tz")
    model = USAGE_MODELS["embeddings"]
    # 03:00 and 06:00 UTC on a winter day: in New York (UTC-5) the first is the evening before.
    for hour in (3, 6):
        model.objects.create(
            org=org, bucket_start=dt.datetime(2025, 1, 15, hour, tzinfo=dt.UTC),
            model="text-embedding-3-small", input_tokens=hour, num_model_requests=1,
        )  # fmt: skip
    _rollup(org, "embeddings")
    params = {"family": "embeddings", "start": "2025-01-14", "end": "2025-01-16", "group_by": ""}

    utc = client_as(finance).get(reverse("usage_export", kwargs={"fmt": "json"}), params)
    ny = client_as(finance).get(
        reverse("usage_export", kwargs={"fmt": "json"}), {**params, "tz": "America/New_York"}
    )

    utc_rows = json.loads(b"".join(utc.streaming_content))
    ny_rows = json.loads(b"".join(ny.streaming_content))
    assert [(r["bucket_start"], r["input_tokens"]) for r in utc_rows] == [
        ("2025-01-15T00:00:00Z", 9)
    ]
    assert [(r["bucket_start"], r["input_tokens"]) for r in ny_rows] == [
        ("2025-01-14T05:00:00Z", 3),
        ("2025-01-15T05:00:00Z", 6),
    ]


# --- usage ---------------------------------------------------------------------------------


def test_it_shows_a_familys_metric_by_model_with_batch_and_cache_splits(acme, client_as, finance):
    response = client_as(finance).get(reverse("usage"), {"family": "completions", "preset": "7d"})

    assert response.status_code == 200
    context = response.context
    assert [t.name for t in context["figure"].data] == ["gpt-5", "gpt-5-mini"]
    assert sum(sum(t.y) for t in context["figure"].data) == 150
    extras = {e["id"]: e for e in context["extras"]}
    cache = extras["chart-cache"]["figure"].data
    assert [t.name for t in cache] == ["Uncached input", "Cached input"]
    assert sum(cache[1].y) == 40
    batch = extras["chart-batch"]["figure"].data
    assert [t.name for t in batch] == ["Non-batch", "Batch"]
    assert sum(batch[1].y) == 50
    assert "26.7% of input tokens were cached" in response.content.decode()


def test_it_offers_each_family_as_a_tab_keeping_the_period(acme, client_as, finance):
    response = client_as(finance).get(reverse("usage"), {"family": "images", "preset": "90d"})

    tabs = {t["slug"]: t for t in response.context["tabs"]}
    assert len(tabs) == 10
    assert tabs["images"]["active"]
    assert "preset=90d" in tabs["vector_stores"]["url"]
    assert "No images usage in this period" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"family": "telepathy"}, "Unknown usage family"),
        ({"bucket_width": "1w"}, "Bucket width is 1d or 1h"),
        ({"metric": "vibes"}, "Completions has no metric “vibes”"),
        ({"bucket_width": "1h", "start": "2025-01-01", "end": "2025-06-01"}, "at most 92 days"),
        ({"group_by": "size"}, "Can&#x27;t group by “size”"),
    ],
)
def test_it_explains_bad_usage_filters(acme, client_as, finance, params, message):
    response = client_as(finance).get(reverse("usage"), params)

    assert response.status_code == 200
    assert message in response.content.decode()


# --- overview ------------------------------------------------------------------------------


def test_it_shows_finance_month_to_date_projection_and_sparklines(acme, client_as, finance):
    response = client_as(finance).get(reverse("home"))

    context = response.context
    assert context["finance"]
    month_start = timezone.now().date().replace(day=1)
    expected = sum(
        CostBucket.objects.filter(org=acme, day__gte=month_start).values_list("amount", flat=True),
        Decimal(0),
    )
    assert context["mtd"] == expected
    assert len(context["sparklines"]) == 10
    assert [p["label"] for p in context["top_projects"]] == ["Search", "proj_b"]
    assert context["top_models"][0]["model"] == "gpt-5"
    assert "Projected month end" in response.content.decode()


def test_the_overview_forecasts_the_month_end_with_a_range_and_says_how(client_as, finance):
    from orgadmin.templatetags.directory import money

    org = OrganizationFactory(name="Forecast")
    today = timezone.now().date()
    for n in range(1, 70):  # ten weeks: weekdays $40, weekends $8
        day = today - dt.timedelta(days=n)
        CostBucket.objects.create(
            org=org, day=day, line_item="gpt-5, input", project_id="proj_a", api_key_id="",
            amount=Decimal(40 if day.weekday() < 5 else 8) + Decimal(n % 3), currency="usd",
        )  # fmt: skip

    response = client_as(finance).get(reverse("home"))

    forecast = response.context["forecast"]
    page = response.content.decode().replace("&#x27;", "'")
    assert forecast.method == "ets+theta"
    assert forecast.low < forecast.expected < forecast.high
    assert money(forecast.expected) in page
    assert f"likely {money(forecast.low)}–{money(forecast.high)}" in page
    assert "Exponential smoothing and Theta" in page
    assert "average of the last 7 full days" not in page


def test_it_keeps_the_overview_without_spend_for_an_auditor(acme, client_as, auditor):
    response = client_as(auditor).get(reverse("home"))

    assert response.status_code == 200
    assert "finance" not in response.context
    assert "Month to date" not in response.content.decode()


# --- sync now and freshness ----------------------------------------------------------------


def test_it_queues_a_sync_and_polls_until_it_ends(acme, client_as, finance):
    client = client_as(finance)
    with mock.patch("dashboard.views.sync_usage.delay_on_commit") as delay:
        response = client.post(reverse("usage_sync"), HTTP_HX_REQUEST="true")

    delay.assert_called_once_with(acme.pk, finance.pk)
    assert response.status_code == 200
    assert 'hx-trigger="every 2s"' in response.content.decode()
    assert "Sync queued" in response.content.decode()
    since = response.content.decode().split("?since=")[1].split('"')[0]

    SyncRun.objects.create(org=acme, kind=SyncRun.Kind.USAGE, status="succeeded",
                           finished_at=timezone.now())  # fmt: skip
    from urllib.parse import unquote

    done = client.get(
        reverse("usage_sync_status"), {"since": unquote(since)}, HTTP_HX_REQUEST="true"
    )

    assert done.status_code == 286
    assert "usageSynced" in json.loads(done["HX-Trigger"])
    assert "Data synced" in done.content.decode()
    assert "every 2s" not in done.content.decode()


def test_it_warns_when_the_last_sync_failed(acme, client_as, finance):
    SyncRun.objects.create(
        org=acme, kind=SyncRun.Kind.USAGE, status="failed", finished_at=timezone.now(),
        error="The OpenAI API is rate limiting us. · HTTP 429 · request id req_123",
    )  # fmt: skip

    body = client_as(finance).get(reverse("costs")).content.decode()

    assert "Last sync failed" in body
    assert "req_123" in body
    assert "nothing synced yet" in body


# --- query counts --------------------------------------------------------------------------


def test_it_pins_the_queries_of_each_page(acme, client_as, finance, django_assert_num_queries):
    client = client_as(finance)
    client.get(reverse("costs"))  # warm the session
    # Every page: session, user, their role grants (every permission and the roles label), the
    # connections they may see (the current one and the menu): 4 (issue 17; the session is
    # written again once a minute at most, not by these). Then the page's own:
    # costs: what the page cache's key holds (dashboard/page_cache.py: one query), then
    # timezone, freshness, rows, names, previous period, what the API refuses
    with django_assert_num_queries(11):
        client.get(reverse("costs"), period(group_by="project_id"))
    # usage: the cache's key, timezone, freshness, rows, names, what the API refuses (+ the
    # batch split for completions)
    with django_assert_num_queries(10):
        client.get(reverse("usage"), {"family": "completions"})
    with django_assert_num_queries(9):
        client.get(reverse("usage"), {"family": "embeddings"})
    # overview: the cache's key, sync badges, timezone, spend, top projects, top keys, top
    # models, names, sparklines (one UNION of every family), freshness, what the API refuses;
    # the month-end forecasts by project and model (dashboard/group_forecasts.py): this month's
    # totals per project and model, the top ones' daily history, their stored forecasts
    with django_assert_num_queries(18):
        client.get(reverse("home"))
    # The same pages again, nothing changed since: from the cache (the 4 of every page and the
    # one of the cache's key).
    for url, params in [
        ("costs", period(group_by="project_id")),
        ("usage", {"family": "embeddings"}),
        ("home", {}),
    ]:
        with django_assert_num_queries(5):
            client.get(reverse(url), params)
