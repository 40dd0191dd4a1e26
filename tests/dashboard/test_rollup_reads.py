"""Every selector gives exactly what the raw rows give, reading the rollups: a matrix of queries
(families, bucket widths, groupings, filters, timezones with half-hour offsets and DST changes)
drawn by hypothesis over data written by the sync's own writer around the DST days of 2025."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
from collections import defaultdict
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q, Sum
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import rollups, selectors
from dashboard.families import FAMILIES, HEADLINE
from dashboard.models import ROLLUP_MODELS, USAGE_MODELS, CostBucket, CostRollup, RollupTimezone
from dashboard.periods import Period
from dashboard.selectors import CostQuery, UsageQuery
from dashboard.services import reporting_timezone_set
from dashboard.sync.rollup_check import rollups_check
from dashboard.sync.writer import write_cost_page, write_usage_page
from orgadmin.models import Project
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

# Days around the DST changes of 2025: the US (Mar 9, Nov 2), Europe (Mar 30, Oct 26), Lord
# Howe's half hour (Apr 6) and St. John's (-3:30, with the US).
WINDOWS = [
    (dt.date(2025, 3, 7), dt.date(2025, 3, 11)),
    (dt.date(2025, 3, 29), dt.date(2025, 4, 8)),
    (dt.date(2025, 10, 25), dt.date(2025, 11, 4)),
]
ZONES = [
    "UTC",
    "Asia/Kolkata",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Asia/Tokyo",
]
FAMILY_SLUGS = ["completions", "vector_stores", "images", "web_search_calls"]
VALUES = {
    "project_id": ["proj_a", "proj_b", "proj_c", ""],
    "user_id": ["user_1", "user_2", ""],
    "api_key_id": ["key_1", "key_2", "key_3"],
    "model": ["gpt-4o", "gpt-4o-mini", "o3"],
    "batch": ["true", "false", ""],
    "service_tier": ["default", "flex"],
    "size": ["1024x1024", "512x512"],
    "source": ["image.generation", "image.edit"],
    "context_level": ["low", "high"],
}
LINE_ITEMS = ["gpt-4o, input", "gpt-4o, output", "o3, input", "web search tool calls", "dall-e-3"]
UNITS = {"dall-e-3": "images", "web search tool calls": ""}
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


def _usage_bucket(rng: random.Random, slug: str, start: dt.datetime) -> dict:
    family = FAMILIES[slug]
    results = []
    for _ in range(rng.choice([0, 1, 2, 4, 6])):
        result = {d: rng.choice(VALUES.get(d, ["vs_1", "vs_2"])) for d in family.dimensions}
        for m in family.metrics:
            # An optional metric the API leaves out now and then: NULL sums must stay NULL.
            absent = not m.required and rng.random() < 0.3
            result[m.name] = None if absent else rng.randrange(0, 10**6)
        results.append(result)
    end = start + HOUR
    return {
        "start_time": int(start.timestamp()),
        "end_time": int(end.timestamp()),
        "results": results,
    }


def _cost_bucket(rng: random.Random, day: dt.date) -> dict:
    results = []
    for _ in range(rng.choice([0, 3, 6])):
        item = rng.choice(LINE_ITEMS)
        results.append(
            {
                "line_item": item,
                "project_id": rng.choice(VALUES["project_id"]),
                "api_key_id": rng.choice(VALUES["api_key_id"]),
                "amount": {
                    "value": f"{rng.randrange(0, 1000)}.{rng.randrange(0, 10**12):012d}",
                    "currency": rng.choice(["usd", "usd", "usd", "eur"]),
                },
                "quantity": None if rng.random() < 0.2 else rng.randrange(1, 10**5),
                "quantity_unit": UNITS.get(item, "tokens"),
            }
        )
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    return {
        "start_time": int(start.timestamp()),
        "end_time": int((start + DAY).timestamp()),
        "results": results,
    }


def _fill(org, seed: int) -> None:
    """The windows' usage and costs, written page by page as the sync writes them."""
    rng = random.Random(seed)
    stamp = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    for lo, hi in WINDOWS:
        first = dt.datetime.combine(lo, dt.time(), dt.UTC)
        hours = [first + h * HOUR for h in range(int((hi - lo).days * 24))]
        for slug in FAMILY_SLUGS:
            for i in range(0, len(hours), 100):  # pages that end mid-day, as the API's do
                buckets = [_usage_bucket(rng, slug, h) for h in hours[i : i + 100]]
                write_usage_page(org, FAMILIES[slug], buckets, stamp)
        days = [lo + dt.timedelta(days=n) for n in range((hi - lo).days)]
        write_cost_page(org, [_cost_bucket(rng, d) for d in days], stamp)
    for project in VALUES["project_id"][:2]:
        Project.objects.create(org=org, openai_id=project, name=project.title())


@pytest.fixture(params=["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
def data(request, admin):
    org = OrganizationFactory(name="Rollups")
    reporting_timezone_set(org=org, timezone=request.param, actor=admin)
    _fill(org, seed=7)
    other = OrganizationFactory(name="Other")
    _fill(other, seed=8)
    assert rollups_check(org=org) == []
    assert RollupTimezone.objects.get(org=org).timezone == request.param
    return org, other


# --- what the raw rows give --------------------------------------------------------------------


@contextlib.contextmanager
def _raw():
    """Selectors that read the raw rows: the hourly ones (the daily copies hold a level's mean
    per project and day, rounded, where the pages divide a bucket's sum by its hours)."""
    with (
        mock.patch.multiple(
            rollups,
            usage_rollup_rows=lambda **kwargs: None,
            cost_rollup_rows=lambda **kwargs: None,
        ),
        mock.patch.object(selectors, "_usage_model", lambda q: USAGE_MODELS[q.family.slug]),
    ):
        yield


def _same(read):
    rolled = read()
    with _raw():
        raw = read()
    assert rolled == raw
    return rolled


# --- the matrix --------------------------------------------------------------------------------


@st.composite
def periods(draw, *, hourly: bool):
    lo, hi = draw(st.sampled_from(WINDOWS))
    start = lo - dt.timedelta(days=1) + dt.timedelta(days=draw(st.integers(0, (hi - lo).days)))
    length = draw(st.integers(1, 3 if hourly else 12))
    return Period(start, start + dt.timedelta(days=length), ZoneInfo(draw(st.sampled_from(ZONES))))


def _values(draw, pool: list[str]) -> tuple[str, ...]:
    """One to three of a dimension's values to filter on ("zz": one that has no rows)."""
    return tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)))


@st.composite
def usage_queries(draw):
    family = FAMILIES[draw(st.sampled_from(FAMILY_SLUGS))]
    width = draw(st.sampled_from(["1d", "1h"]))
    dims = list(family.dimensions)
    group_by = tuple(draw(st.lists(st.sampled_from(dims), max_size=2, unique=True)))
    filtered = draw(st.lists(st.sampled_from(dims), max_size=2, unique=True))
    filters = tuple((d, _values(draw, [*VALUES.get(d, ["vs_1", "vs_2"]), "zz"])) for d in filtered)
    return UsageQuery(family, draw(periods(hourly=width == "1h")), width, group_by, filters)


@st.composite
def cost_queries(draw):
    dims = ["line_item", "model", "project_id", "api_key_id"]
    group_by = tuple(draw(st.lists(st.sampled_from(dims), max_size=2, unique=True)))
    filtered = draw(st.lists(st.sampled_from(dims), max_size=2, unique=True))
    pool = {**VALUES, "line_item": LINE_ITEMS, "model": ["gpt-4o", "o3", "dall-e-3"]}
    filters = tuple((d, _values(draw, [*pool[d], "zz"])) for d in filtered)
    return CostQuery(draw(periods(hourly=False)), group_by, filters)


MATRIX = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_usage_reads_give_what_the_raw_rows_give(data):
    org, _ = data

    @MATRIX
    @given(query=usage_queries())
    def check(query):
        _same(lambda: selectors.usage_table(org=org, query=query).cells)
        _same(lambda: list(selectors.usage_export_rows(org=org, query=query)))

    check()


def test_cost_reads_give_what_the_raw_rows_give(data):
    org, other = data

    @MATRIX
    @given(query=cost_queries(), currency=st.sampled_from(["usd", "eur"]))
    def check(query, currency):
        _same(lambda: selectors.cost_rows(org=org, query=query))
        _same(lambda: list(selectors.cost_export_rows(org=org, query=query)))
        _same(lambda: sorted(selectors.cost_project_ids(org=org, query=query)))
        _same(lambda: selectors.cost_total(org=org, query=query, currency=currency))
        by_org = CostQuery(query.period, ("org_id", *query.group_by[:1]))
        _same(lambda: selectors.cost_rows(orgs=[org, other], query=by_org))

    check()


def test_the_overview_reads_give_what_the_raw_rows_give(data):
    org, _ = data

    @MATRIX
    @given(period=periods(hourly=False))
    def check(period):
        totals = selectors.family_daily_totals(org=org, period=period)
        with _raw():
            for slug in FAMILY_SLUGS:
                table = selectors.usage_table(org=org, query=UsageQuery(FAMILIES[slug], period))
                expected = {
                    b.astimezone(period.tz).date(): sum(v[m] for m in HEADLINE[slug])
                    for (b, _), v in table.cells.items()
                }
                assert totals[slug] == expected, slug

    check()


# --- the cost selectors that always read the rollup, against the raw rows' sums ----------------


def _raw_costs(org, start, end, **where):
    return CostBucket.objects.filter(org=org, day__gte=start, day__lt=end, **where)


@pytest.mark.parametrize(("start", "end"), [(lo, hi) for lo, hi in WINDOWS])
def test_spend_reads_give_the_raw_rows_sums(data, start, end):
    org, _ = data
    raw = _raw_costs(org, start, end)
    by_day = defaultdict(dict)
    for row in raw.values("currency", "day").annotate(a=Sum("amount")).order_by():
        by_day[row["currency"]][row["day"]] = row["a"]
    assert selectors.daily_spend(org=org, start=start, end=end) == dict(by_day)
    one = selectors.daily_spend(org=org, start=start, end=end, project_id="proj_a")
    mine = _raw_costs(org, start, end, project_id="proj_a", currency="usd")
    assert sum(one["usd"].values()) == mine.aggregate(t=Sum("amount"))["t"]

    for dimension in ("project_id", "api_key_id"):
        top = selectors.top_costs(
            org=org, start=start, end=end, dimension=dimension, currency="usd"
        )
        expected = (
            raw.filter(currency="usd").exclude(**{dimension: ""}).values(dimension)
            .annotate(amount=Sum("amount")).order_by("-amount", dimension)[:5]
        )  # fmt: skip
        assert top == list(expected)
    models = selectors.top_cost_models(org=org, start=start, end=end, currency="usd")
    expected = (
        raw.filter(currency="usd").exclude(model="").values("model")
        .annotate(amount=Sum("amount"), tokens=Sum("quantity", filter=Q(quantity_unit="tokens")))
        .order_by("-amount", "model")[:5]
    )  # fmt: skip
    assert models == list(expected)

    currency, spend = selectors.project_spend(org=org, start=start, end=end)
    got = dict(Project.objects.filter(org=org).annotate(s=spend).values_list("openai_id", "s"))
    for project, amount in got.items():
        want = raw.filter(project_id=project, currency=currency).aggregate(t=Sum("amount"))["t"]
        assert amount == (want or 0), project


@pytest.mark.parametrize(("start", "end"), [(lo, hi) for lo, hi in WINDOWS])
def test_the_all_organizations_reads_give_the_raw_rows_sums(data, start, end):
    org, other = data
    both = CostBucket.objects.filter(org__in=[org, other], day__gte=start, day__lt=end)
    period = Period(start, end, ZoneInfo("UTC"))

    totals = selectors.org_cost_totals(orgs=[org, other], period=period)
    expected = both.values("org_id", "currency").annotate(a=Sum("amount")).order_by()
    assert totals == {(r["org_id"], r["currency"]): r["a"] for r in expected}
    daily = selectors.org_daily_spend(orgs=[org, other], start=start, end=end)
    for row in both.values("org_id", "currency", "day").annotate(a=Sum("amount")).order_by():
        assert daily[row["org_id"]][row["currency"]][row["day"]] == row["a"]
    top = selectors.org_top_projects(orgs=[org, other], start=start, end=end, currency="usd")
    expected = (
        both.filter(currency="usd").exclude(project_id="").values("org_id", "project_id")
        .annotate(amount=Sum("amount")).order_by("-amount", "org_id", "project_id")[:5]
    )  # fmt: skip
    assert top == list(expected)


# --- which rows are read -------------------------------------------------------------------------


def _tables_read(read) -> str:
    with CaptureQueriesContext(connection) as queries:
        read()
    return " ".join(q["sql"] for q in queries.captured_queries)


def test_pages_read_the_rollups_when_they_answer_and_the_raw_rows_otherwise(data):
    org, _ = data
    tz = RollupTimezone.objects.get(org=org).timezone
    period = Period(dt.date(2025, 3, 29), dt.date(2025, 4, 8), ZoneInfo(tz))
    family = FAMILIES["completions"]

    by_model = UsageQuery(family, period, "1d", ("model",), (("model", ("o3",)),))
    sql = _tables_read(lambda: selectors.usage_table(org=org, query=by_model))
    assert "completionsrollup" in sql
    assert "completionsusage" not in sql
    two = UsageQuery(family, period, "1d", ("model",), (("project_id", ("proj_a",)),))
    sql = _tables_read(lambda: selectors.usage_table(org=org, query=two))
    assert "completionsrollup" not in sql
    assert "completionsusage" in sql
    costs = CostQuery(period, ("line_item",))
    sql = _tables_read(lambda: selectors.cost_rows(org=org, query=costs))
    assert "costrollup" in sql
    assert "costbucket" not in sql


# --- rebuilt, and cut again ----------------------------------------------------------------------


def _held():
    rows = {slug: sorted(m.objects.values_list(*_columns(m))) for slug, m in ROLLUP_MODELS.items()}
    rows["costs"] = sorted(CostRollup.objects.values_list(*_columns(CostRollup)))
    return rows


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.attname != "id"]


def test_a_rebuild_gives_the_very_rows_the_sync_kept(data):
    kept = _held()
    assert sum(len(rows) for rows in kept.values()) > 0

    call_command("rollups", "rebuild", stdout=io.StringIO())

    assert _held() == kept


def test_a_new_reporting_timezone_is_cut_from_the_hours_held(data, admin):
    org, _ = data

    reporting_timezone_set(org=org, timezone="America/St_Johns", actor=admin)

    assert rollups_check(org=org) == []
    tz = ZoneInfo("America/St_Johns")
    for lo, hi in WINDOWS:
        for slug in FAMILY_SLUGS:
            family = FAMILIES[slug]
            for group in ((), (family.dimensions[0],)):
                query = UsageQuery(family, Period(lo, hi, tz), "1d", group)
                _same(lambda q=query: selectors.usage_table(org=org, query=q).cells)
