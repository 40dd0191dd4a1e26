"""The Overview's month-end forecasts per project and per model (dashboard/group_forecasts.py):
stored by the check after a usage sync, shown without a fit, computed again when a cost row
changes their inputs, hidden from an Auditor, and never left saying "after the next sync" by the
page cache once they are stored."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import forecasting, group_forecasts
from dashboard.group_forecasts import (
    OTHERS,
    group_forecasts_refresh,
    month_groups,
    stored_forecasts,
)
from dashboard.models import GroupForecast
from dashboard.sync.usage import usage_sync
from dashboard.tasks import check_alerts
from orgadmin.models import Project
from tests.budgets.conftest import spend
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
PENDING = "After the next sync"


@pytest.fixture
def fits(monkeypatch):
    """The forecaster's fits, counted (each still runs)."""
    calls = []
    real = forecasting.forecast_month_end

    def counted(*args, **kwargs):
        calls.append(kwargs["today"])
        return real(*args, **kwargs)

    monkeypatch.setattr(forecasting, "forecast_month_end", counted)
    return calls


@pytest.fixture
def acme(db):
    org = OrganizationFactory(name="Acme")
    Project.objects.create(org=org, openai_id="proj_web", name="Web shop")
    Project.objects.create(org=org, openai_id="proj_bot", name="Support bot")
    return org


def _today() -> dt.date:
    return timezone.now().date()  # the reporting timezone is UTC


def _history(org, days: int = 20) -> None:
    """Two projects and two models with a weekday pattern, up to yesterday, and a little today."""
    today = _today()
    for n in range(days, 0, -1):
        day = today - n * DAY
        weekday = day.weekday() < 5
        spend(org, day, f"{20 + n % 3 + 10 * weekday}.00", project_id="proj_web", model="gpt-4o")
        spend(org, day, f"{5 + n % 2 + 2 * weekday}.00", project_id="proj_bot", model="gpt-4.1")
    spend(org, today, "3.00", project_id="proj_web", model="gpt-4o")


def _page(client) -> str:
    return html.unescape(client.get(reverse("home")).content.decode())


def test_it_stores_a_forecast_per_project_and_model_after_a_sync_of_the_simulator(
    org, client_as, finance, fits
):
    usage_sync(org=org, families=["moderations"])  # the costs always sync; one small family
    result = check_alerts(org.pk)  # what the worker runs after every usage sync

    groups = month_groups(org=org, today=_today(), currency="usd")
    wanted = {g.key for g in groups.all()}
    stored = {(f.dimension, f.value): f for f in GroupForecast.objects.filter(org=org)}
    assert result["group_forecasts_computed"] == len(wanted) == len(stored)
    assert set(stored) == wanted
    for dim in ("project_id", "model"):
        named = [g for g in groups.groups[dim] if g.value != OTHERS]
        assert 1 <= len(named) <= group_forecasts.TOP_GROUPS
        spent = [g.inputs.spent for g in named]
        assert spent == sorted(spent, reverse=True)  # the most spent first
    for row in stored.values():
        assert row.low <= row.expected <= row.high
    assert stored_forecasts(org=org, groups=groups).keys() == wanted  # all today's

    before = len(fits)
    body = _page(client_as(finance))
    assert len(fits) - before == 1 + group_forecasts.PAGE_FITS  # the organization's own only
    assert "Month-end forecast by project" in body
    assert "Month-end forecast by model" in body
    assert PENDING not in body
    top = groups.groups["model"][0]
    assert f"${stored['model', top.value].expected:,}" in body
    assert f"model={top.value}" in body  # its costs this month


def test_the_check_keeps_what_did_not_change_and_a_new_cost_row_recomputes_its_own(acme, fits):
    _history(acme)
    first = group_forecasts_refresh(org=acme)
    assert first == {"computed": 4, "kept": 0, "dropped": 0}  # two projects, two models
    assert group_forecasts_refresh(org=acme) == {"computed": 0, "kept": 4, "dropped": 0}
    web = GroupForecast.objects.get(org=acme, dimension="project_id", value="proj_web")
    fitted = len(fits)

    spend(acme, _today() - DAY, "400.00", project_id="proj_web", model="gpt-4o", kind="output")

    assert group_forecasts_refresh(org=acme) == {"computed": 2, "kept": 2, "dropped": 0}
    assert len(fits) - fitted == 2  # the web project and gpt-4o, nothing else
    again = GroupForecast.objects.get(pk=web.pk)  # replaced in place
    assert again.inputs != web.inputs
    assert again.expected > web.expected
    assert again.computed_at >= web.computed_at


def test_the_page_fits_none_and_shows_them_once_the_check_stored_them(
    acme, client_as, finance, fits
):
    _history(acme)
    client = client_as(finance)

    pending = _page(client)  # nothing stored yet
    assert len(fits) == 1 + group_forecasts.PAGE_FITS  # the organization's own forecast only
    assert pending.count(PENDING) == 4
    groups = month_groups(org=acme, today=_today(), currency="usd")
    for group in groups.all():  # each with its spend so far, which needs no fit
        assert f"${group.inputs.spent:,.2f}" in pending
    assert "Web shop" in pending
    assert "gpt-4.1" in pending

    group_forecasts_refresh(org=acme)  # the check, after the page was cached
    shown = _page(client)

    assert PENDING not in shown  # the page cache's fingerprint moved with the stored forecasts
    web = GroupForecast.objects.get(org=acme, dimension="project_id", value="proj_web")
    assert f"${web.expected:,}" in shown
    assert f"likely ${web.low:,}–<wbr>${web.high:,}" in shown


def test_an_auditor_sees_none_of_them(acme, client_as, auditor, finance):
    _history(acme)
    group_forecasts_refresh(org=acme)

    assert "Month-end forecast" in _page(client_as(finance))
    body = _page(client_as(auditor))
    assert "Month-end forecast" not in body
    assert "Web shop" not in body


def test_the_rest_past_the_top_ones_is_others_forecast_as_one(acme, monkeypatch, fits):
    monkeypatch.setattr(group_forecasts, "TOP_GROUPS", 1)
    _history(acme, days=10)
    today = _today()
    spend(acme, today - DAY, "2.50", project_id="", model="gpt-4.1")  # no project

    groups = month_groups(org=acme, today=today, currency="usd")
    projects = groups.groups["project_id"]

    assert [g.value for g in projects] == ["proj_web", OTHERS]
    rest = projects[1]
    assert (rest.others, rest.unassigned) == (1, True)  # the bot, and the costs of no project
    weekday = (today - DAY).weekday() < 5  # yesterday: the bot's $8 (or $6) and $2.50
    assert rest.inputs.history[-1] == (today - DAY, Decimal("10.50" if weekday else "8.50"))
    # Both tables add up to the month's spend: the top ones and the rest, nothing twice.
    total = sum(g.inputs.spent for g in projects)
    assert total == sum(g.inputs.spent for g in groups.groups["model"])

    group_forecasts_refresh(org=acme)
    row = GroupForecast.objects.get(org=acme, dimension="project_id", value=OTHERS)
    assert row.expected >= rest.inputs.spent.quantize(Decimal("0.01"))


def test_a_project_that_left_the_top_loses_its_stored_row(acme, monkeypatch):
    _history(acme, days=10)
    group_forecasts_refresh(org=acme)
    monkeypatch.setattr(group_forecasts, "TOP_GROUPS", 1)

    result = group_forecasts_refresh(org=acme)

    assert result["dropped"] == 2  # the bot project and gpt-4.1 are now in Others
    values = set(GroupForecast.objects.filter(org=acme).values_list("dimension", "value"))
    assert values == {
        ("project_id", "proj_web"),
        ("project_id", OTHERS),
        ("model", "gpt-4o"),
        ("model", OTHERS),
    }


def test_it_reads_them_in_three_queries(acme, django_assert_num_queries):
    _history(acme)
    group_forecasts_refresh(org=acme)

    with django_assert_num_queries(3):  # the month's totals, the daily history, the stored
        groups = month_groups(org=acme, today=_today(), currency="usd")
        found = stored_forecasts(org=acme, groups=groups)

    assert len(found) == 4
