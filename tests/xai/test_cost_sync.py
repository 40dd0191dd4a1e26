"""An xAI team's costs synced into the cost tables (issue 19, point 6), against the in-process
xAI simulator under faults, and shown beside an OpenAI organization's with a provider column."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections import defaultdict
from decimal import Decimal

import httpx
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dashboard import tasks as dashboard_tasks
from dashboard.models import CostBucket, CostRollup
from dashboard.sync import xai_costs
from dashboard.sync.usage import usage_sync
from dashboard.sync.xai_costs import model_of_description
from orgadmin import tasks as orgadmin_tasks
from orgadmin.access import Role
from orgadmin.client import install_transport
from orgadmin.models import SyncRun, SyncWatermark
from orgadmin.simulator.faults import FaultConfig
from orgadmin.xai.simulator import usage as sim_usage
from tests.factories import OrganizationFactory, UserFactory
from tests.xai.simulator_support import BASE_URL, KEY, NOW, NOW_DT, TEAM, make_app

pytestmark = pytest.mark.django_db

TODAY = NOW_DT.date()
FIRST = TODAY - dt.timedelta(days=90)  # the first day of the default 90-day backfill
TOMORROW = TODAY + dt.timedelta(days=1)
CENT = Decimal("0.01")


class Flaky(httpx.BaseTransport):
    """The simulator's transport, timing out on the requests numbered in `timeouts` (1-based),
    and keeping each analytics request sent."""

    def __init__(self, inner: httpx.BaseTransport, timeouts: set[int] = frozenset()) -> None:
        self.inner, self.timeouts, self.count = inner, set(timeouts), 0
        self.asked: list[dict] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if request.url.path.endswith("/usage"):
            self.asked.append(json.loads(request.content)["analyticsRequest"])
        if self.count in self.timeouts:
            raise httpx.ReadTimeout("simulated timeout", request=request)
        return self.inner.handle_request(request)


@pytest.fixture
def slept(monkeypatch) -> list[float]:
    """The client's waits between attempts, without sleeping (stamina sleeps with time.sleep)."""
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    return waits


@pytest.fixture
def now(monkeypatch):
    """The dashboard's clock at the simulator's pinned NOW (2026-11-18 14:30 UTC)."""
    moment = {"at": NOW_DT}
    monkeypatch.setattr(timezone, "now", lambda: moment["at"])
    return moment


@pytest.fixture
def app(now, slept):
    app = make_app("demo", now=lambda: now["at"].timestamp())
    app.transport = Flaky(httpx.WSGITransport(app=app))
    with install_transport(BASE_URL, app.transport):
        yield app


@pytest.fixture
def team(app):
    return OrganizationFactory(
        name="Grok team", provider="xai", base_url=BASE_URL, admin_key=KEY, account_id=TEAM
    )


def _held(team) -> dict[tuple[dt.date, str, str], Decimal]:
    return {
        (r.day, r.line_item, r.api_key_id): r.amount for r in CostBucket.objects.filter(org=team)
    }


def _truth(app, start: dt.date = FIRST, end: dt.date = TOMORROW) -> dict:
    """The simulator's usage, in dollars, per (day, billed item, key)."""
    found = {}
    day = start
    while day < end:
        for (item, key), cents in app.store.usage_totals(day, day + dt.timedelta(days=1)).items():
            if cents:
                found[day, item, key] = Decimal(cents) / 100
        day += dt.timedelta(days=1)
    return found


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def _json(response) -> list[dict]:
    return json.loads(b"".join(response.streaming_content), parse_float=Decimal)


def _finance_on(*orgs):
    return UserFactory(username="fin", roles_on=dict.fromkeys(orgs, Role.FINANCE))


# --- the billed items ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "model"),
    [
        ("grok-4 input tokens", "grok-4"),
        ("grok-4 cached input tokens", "grok-4"),
        ("grok-3-mini output tokens", "grok-3-mini"),
        ("grok-code-fast-1 input tokens", "grok-code-fast-1"),
        ("grok-2-image images", "grok-2-image"),
        ("grok-4-0709, output", "grok-4-0709"),
        ("  grok-4   input tokens ", "grok-4"),
        ("Live Search sources", "Live Search sources"),  # names no model: its own group
        ("grok-4", "grok-4"),
        ("", ""),
    ],
)
def test_a_billed_item_names_its_model(description, model):
    assert model_of_description(description) == model


# --- the backfill --------------------------------------------------------------------------------


def test_a_90_day_backfill_under_faults_exports_the_simulators_totals_to_the_cent(
    app, team, client_as, slept
):
    # A 429 with Retry-After, two 503s, a dropped connection and a timeout on the way.
    app.faults = FaultConfig(script=["429", "503", "ok", "503", "drop"], retry_after=3)
    app.transport.timeouts = {6}

    run = usage_sync(org=team)

    assert run.kind == SyncRun.Kind.USAGE
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert 3.0 in slept  # the 429's Retry-After was honoured
    assert {"429", "503", "drop"} <= set(app.fault_counts)
    assert app.transport.count == 8  # 3 windows; 5 faulted attempts retried (1 a timeout)
    truth = _truth(app)
    assert _held(team) == truth
    client = client_as(_finance_on(team))
    client.post(reverse("switch"), {"org": team.pk})
    response = client.get(
        reverse("costs_export", kwargs={"fmt": "csv"}),
        {
            "start": FIRST.isoformat(),
            "end": TOMORROW.isoformat(),
            "tz": "UTC",
            "group_by": "line_item,api_key_id",
            "rows": "daily",
            "precision": "currency",
        },
    )
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    assert header[:2] == ["date", "provider"]
    col = {name: i for i, name in enumerate(header)}
    per_day: dict = defaultdict(Decimal)
    per_key: dict = defaultdict(Decimal)
    for row in body:
        assert row[col["provider"]] == "xAI"
        assert row[col["currency"]] == "usd"
        per_day[row[col["date"]]] += Decimal(row[col["amount"]])
        per_key[row[col["api_key_id"]]] += Decimal(row[col["amount"]])
    day = FIRST
    while day < TOMORROW:
        cents = app.store.usage_cents(day, day + dt.timedelta(days=1))
        assert per_day.get(day.isoformat(), Decimal(0)) == Decimal(cents) / 100, day
        day += dt.timedelta(days=1)
    assert sum(per_day.values()) == Decimal(app.store.usage_cents(FIRST, TOMORROW)) / 100
    keys = {key for _, _, key in truth}
    assert len(keys) > 1
    for key in keys:
        expected = app.store.usage_cents(FIRST, TOMORROW, api_key_id=key)
        assert per_key[key] == Decimal(expected) / 100, key


def test_rows_carry_the_billed_item_its_model_and_exact_dollars(app, team):
    usage_sync(org=team)

    rows = CostBucket.objects.filter(org=team)
    assert rows.exists()
    assert set(rows.values_list("project_id", flat=True)) == {""}
    assert set(rows.values_list("currency", flat=True)) == {"usd"}
    assert set(rows.values_list("quantity", flat=True)) == {None}
    grok = rows.filter(line_item="grok-4 input tokens").first()
    assert grok is not None
    assert grok.model == "grok-4"
    assert all(r.amount == r.amount.quantize(CENT) for r in rows)  # whole cents, as billed
    # The rollups agree with the rows (what Costs and Overview read).
    total = CostRollup.objects.filter(org=team, dimension="").values_list("amount", flat=True)
    assert sum(total) == sum(r.amount for r in rows)


def test_a_second_run_changes_nothing_and_asks_only_the_settle_window(app, team):
    first = usage_sync(org=team)
    held = _held(team)
    count = CostBucket.objects.filter(org=team).count()

    second = usage_sync(org=team)

    assert second.status == SyncRun.Status.SUCCEEDED
    assert _held(team) == held
    assert CostBucket.objects.filter(org=team).count() == count
    assert second.requests_made < first.requests_made
    assert second.requests_made == 1  # the last days, again: one window


def test_a_late_change_inside_the_settle_window_is_picked_up(app, team, now):
    usage_sync(org=team)
    yesterday = TODAY - dt.timedelta(days=1)
    old_day = TODAY - dt.timedelta(days=20)
    rows = app.store.usage[yesterday]
    assert len(rows) > 2
    (item, key, cents), *rest = rows
    # Yesterday: one row grew by a cent, another went (a credit), a new key spent.
    app.store.usage[yesterday] = [(item, key, cents + 1), *rest[1:], ("grok-4 output tokens",
                                  "key-late", 250)]  # fmt: skip
    app.store.usage[old_day].append(("grok-4 output tokens", "key-late", 999))  # long settled
    now["at"] += dt.timedelta(hours=1)

    run = usage_sync(org=team)

    assert run.status == SyncRun.Status.SUCCEEDED
    held = _held(team)
    assert held[yesterday, item, key] == Decimal(cents + 1) / 100
    gone = rest[0]
    if (gone[0], gone[1]) != (item, key):
        assert (yesterday, gone[0], gone[1]) not in held  # a shrunk day keeps no stale row
    assert held[yesterday, "grok-4 output tokens", "key-late"] == Decimal("2.50")
    assert (old_day, "grok-4 output tokens", "key-late") not in held  # outside the window
    day_total = CostRollup.objects.get(org=team, dimension="", day=yesterday).amount
    assert day_total == Decimal(app.store.usage_cents(yesterday, TODAY)) / 100


def test_a_killed_run_resumes_with_nothing_lost_or_doubled(app, team, monkeypatch):
    monkeypatch.setattr(xai_costs, "MAX_WINDOW_DAYS", 10)
    real = xai_costs.write_cost_page
    calls = {"n": 0}

    def dies_on_the_fourth(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(xai_costs, "write_cost_page", dies_on_the_fourth)
    with pytest.raises(RuntimeError):
        usage_sync(org=team)
    killed = SyncRun.objects.get(org=team)
    assert killed.status == SyncRun.Status.FAILED
    stored = {day for day, _, _ in _held(team)}
    assert min(stored) == FIRST
    assert max(stored) < FIRST + dt.timedelta(days=30)
    high = SyncWatermark.objects.get(org=team, endpoint="costs").value
    assert high == dt.datetime.combine(FIRST + dt.timedelta(days=30), dt.time(), dt.UTC)

    run = usage_sync(org=team)  # the next hourly run

    assert run.status == SyncRun.Status.SUCCEEDED
    assert _held(team) == _truth(app)
    assert run.requests_made < 10  # from the watermark on, not the whole 90 days


def test_a_capped_answer_is_split_and_never_stored(app, team, monkeypatch):
    monkeypatch.setattr(sim_usage, "MAX_POINTS", 300)

    run = usage_sync(org=team)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert _held(team) == _truth(app)
    assert run.requests_made > 4  # more windows than the 31-day ones
    assert all(a["timeUnit"] == "TIME_UNIT_DAY" for a in app.transport.asked)
    assert all(a["timeRange"]["timezone"] == "UTC" for a in app.transport.asked)


def test_a_day_too_big_for_one_answer_is_asked_key_by_key(app, team, monkeypatch):
    monkeypatch.setattr(sim_usage, "MAX_POINTS", 12)
    start = NOW_DT - dt.timedelta(days=3)

    run = usage_sync(org=team, start=start)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert _held(team) == _truth(app, start.date())
    by_key = [a for a in app.transport.asked if a["filters"]]
    assert by_key  # a capped single day was asked key by key
    assert all(a["filters"][0].startswith("api_key_id:") for a in by_key)


def test_a_window_that_keeps_failing_makes_a_partial_run_and_the_next_fills_it(app, team, settings):
    settings.XAI_MAX_ATTEMPTS = 4
    # The first window answers; the second fails on every attempt; the third answers.
    app.faults = FaultConfig(script=["ok", "503", "503", "503", "503"])

    run = usage_sync(org=team)

    assert run.status == SyncRun.Status.PARTIAL
    (failure,) = run.failures
    second = FIRST + dt.timedelta(days=31)
    assert failure["label"].startswith(f"Costs {second.isoformat()} – ")
    assert failure["status"] == 503
    assert failure["request_id"]
    days = {day for day, _, _ in _held(team)}
    assert FIRST in days
    assert TODAY - dt.timedelta(days=1) in days
    assert second not in days

    again = usage_sync(org=team)

    assert again.status == SyncRun.Status.SUCCEEDED
    assert _held(team) == _truth(app)


def test_a_key_that_may_not_read_costs_ends_not_permitted(now, slept):
    app = make_app(
        "demo",
        now=lambda: NOW,
        management_keys={KEY: ["management-api:api-keys:read"]},
    )
    with install_transport(BASE_URL, httpx.WSGITransport(app=app)):
        team = OrganizationFactory(
            name="Narrow team", provider="xai", base_url=BASE_URL, admin_key=KEY, account_id=TEAM
        )
        run = usage_sync(org=team)

    assert run.status == SyncRun.Status.NOT_PERMITTED
    assert not CostBucket.objects.filter(org=team).exists()


# --- the jobs ------------------------------------------------------------------------------------


def test_the_hourly_job_and_the_backfill_command_sync_an_xai_team(app, team, capsys):
    assert dashboard_tasks.sync_usage(team.pk) == SyncRun.Status.SUCCEEDED
    CostBucket.objects.filter(org=team).delete()

    call_command("sync_usage", org="Grok team", days=90, refetch=True)

    assert "Grok team:" in capsys.readouterr().out
    assert _held(team) == _truth(app)


def test_an_xai_team_gets_no_directory_sync(app, team, monkeypatch):
    openai = OrganizationFactory(name="Acme")
    queued: list = []
    for task in (orgadmin_tasks.sync_directory, orgadmin_tasks.sync_audit_log):
        monkeypatch.setattr(task, "delay", lambda pk, _t=task: queued.append((_t.name, pk)))
    monkeypatch.setattr(dashboard_tasks.sync_usage, "delay", lambda pk: queued.append(("u", pk)))

    dashboard_tasks.sync_never_synced()
    assert orgadmin_tasks.sync_directories() == [openai.pk]

    directory = [pk for name, pk in queued if name == orgadmin_tasks.sync_directory.name]
    assert team.pk not in directory
    assert openai.pk in directory
    assert ("u", team.pk) in queued
    assert orgadmin_tasks.sync_directory.run(team.pk) == "no directory"


# --- side by side --------------------------------------------------------------------------------


@pytest.fixture
def both(app, team):
    acme = OrganizationFactory(name="Acme")
    yesterday = TODAY - dt.timedelta(days=1)
    CostBucket.objects.create(
        org=acme, day=yesterday, line_item="gpt-5, input", project_id="proj_a", api_key_id="",
        amount=Decimal("1.25"), currency="usd", quantity=100, quantity_unit="tokens",
    )  # fmt: skip
    usage_sync(org=team)
    return acme, team


def _month(**extra) -> dict:
    return {"start": FIRST.isoformat(), "end": TOMORROW.isoformat(), **extra}


def test_all_organizations_shows_openai_and_xai_side_by_side(both, client_as, app):
    acme, team = both
    client = client_as(_finance_on(acme, team))

    costs = client.get(reverse("all_costs"), _month(group_by="line_item"))
    overview = client.get(reverse("all_overview"))

    for page in (costs, overview):
        body = page.content.decode()
        assert page.status_code == 200
        assert '<th scope="col">Provider</th>' in body
        assert '<td class="provider">OpenAI</td>' in body
        assert '<td class="provider">xAI</td>' in body
    assert "What OpenAI and xAI bill" in costs.content.decode()
    by_org = {r["org"].name: r for r in costs.context["org_rows"]}
    assert by_org["Grok team"]["provider"] == "xAI"
    truth = Decimal(app.store.usage_cents(FIRST, TOMORROW)) / 100
    assert by_org["Grok team"]["amount"] == truth


def test_every_all_organizations_export_has_a_provider_column(both, client_as, app):
    acme, team = both
    client = client_as(_finance_on(acme, team))
    url = reverse("all_costs_export", kwargs={"fmt": "csv"})

    daily = _csv(client.get(url, _month(group_by="line_item", rows="daily", precision="full")))
    table = _csv(client.get(url, _month(group_by="line_item", rows="table", precision="full")))
    as_json = _json(
        client.get(reverse("all_costs_export", kwargs={"fmt": "json"}), _month(rows="daily"))
    )

    assert daily[0][:3] == ["date", "organization", "provider"]
    sums: dict = defaultdict(Decimal)
    for row in daily[1:]:
        sums[row[1], row[2]] += Decimal(row[daily[0].index("amount")])
    assert sums == {
        ("Acme", "OpenAI"): Decimal("1.25"),
        ("Grok team", "xAI"): Decimal(app.store.usage_cents(FIRST, TOMORROW)) / 100,
    }
    assert table[0][:3] == ["organization", "provider", "line_item"]
    assert {r[1] for r in table[1:] if r[0] == "Grok team"} == {"xAI"}
    assert {r[1] for r in table[1:] if r[0] == "Acme"} == {"OpenAI"}
    assert {(r["organization"], r["provider"]) for r in as_json} == {
        ("Acme", "OpenAI"),
        ("Grok team", "xAI"),
    }


def test_the_costs_and_overview_of_one_team_say_xai(both, client_as):
    acme, team = both
    client = client_as(_finance_on(acme, team))
    client.post(reverse("switch"), {"org": team.pk})

    costs = client.get(reverse("costs"), _month(group_by="model"))
    overview = client.get(reverse("home"))
    table = _csv(
        client.get(
            reverse("costs_export", kwargs={"fmt": "csv"}), _month(group_by="model", rows="table")
        )
    )

    assert "What xAI bills this team" in costs.content.decode()
    assert 'class="badge provider-badge"' in costs.content.decode()
    assert '<span class="badge provider-badge" title="This connection\'s provider">xAI</span>' in (
        overview.content.decode()
    )
    assert table[0][:2] == ["provider", "model"]
    models = {r[1] for r in table[1:]}
    assert {"grok-4", "grok-3-mini"} <= models
    assert {r[0] for r in table[1:]} == {"xAI"}
