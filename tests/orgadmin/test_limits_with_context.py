"""Limits with context (issue 16, item 4): the Spend tabs show this month's spend against the
hard limit and the alerts, with the Overview's projection; a rate limit shows the organization's
maximum before anyone types."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.models import CostBucket
from dashboard.tables import month_spend
from orgadmin.models import OrgSettings, Project, RateLimit, SpendAlert
from orgadmin.selectors.spend import rate_limit_ceilings, spend_gauge
from tests.factories import OrganizationFactory
from tests.orgadmin.conftest import active_project

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def acme(db, monkeypatch):
    """Nov 1–19 at $10 a day for "Search" (and $4 today, the 20th), $100 a day for another
    project; Search has a $250 limit and alerts at $100 and $500, the organization $5,000 and
    one at $2,000."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    org = OrganizationFactory(name="Acme")
    search = Project.objects.create(
        org=org, openai_id="proj_a", name="Search", spend_limit_cents=25_000
    )
    Project.objects.create(org=org, openai_id="proj_b", name="Other")
    OrgSettings.objects.create(org=org, spend_limit_cents=500_000)
    for n, (project, cents) in enumerate([(search, 10_000), (search, 50_000), (None, 200_000)]):
        SpendAlert.objects.create(
            org=org, project=project, openai_id=f"a{n}", threshold_cents=cents
        )
    for day in range(1, 21):
        for project_id, amount in (("proj_a", "10" if day < 20 else "4"), ("proj_b", "100")):
            CostBucket.objects.create(
                org=org, day=dt.date(2026, 11, day), line_item="gpt-5, input",
                project_id=project_id, api_key_id="", amount=Decimal(amount), currency="usd",
            )  # fmt: skip
    return org


def test_the_gauge_is_the_overviews_month_to_date_and_projection(acme):
    search = Project.objects.get(openai_id="proj_a")
    alerts = list(SpendAlert.objects.filter(project=search))
    gauge = spend_gauge(org=acme, project=search, limit_cents=25_000, alerts=alerts)

    overview = month_spend(org=acme, today=NOW.date(), project_id="proj_a")
    assert overview.month_to_date == Decimal("194")  # 19 × $10 + $4 today
    assert overview.projected == Decimal("300")  # $190 + $10 a day × 11 days
    assert (gauge.spent_cents, gauge.projected_cents) == (19_400, 30_000)
    assert gauge.percent == 78  # of the limit
    assert [(m.kind, m.cents, m.at, m.reached, m.projected) for m in gauge.marks] == [
        ("alert", 10_000, "20.0", True, True),
        ("limit", 25_000, "50.0", False, True),
        ("alert", 50_000, "100.0", False, False),
    ]
    assert (gauge.spent_at, gauge.projected_at) == ("38.8", "60.0")


def test_a_projects_spend_tab_draws_its_spend_against_the_limit(acme, client_as, finance):
    url = reverse("orgadmin:project_tab", args=["proj_a", "spend"])
    page = text(client_as(finance).get(url))  # Finance reads it too
    bar = re.search(r'<div class="gauge" role="progressbar"[^>]*>', page).group(0)
    assert 'aria-valuemax="25000"' in bar
    assert 'aria-valuenow="19400"' in bar
    assert "$194.00 of $250.00 (78%), projected $300.00 by the end of the month" in bar
    assert "projected <strong>$300.00</strong> by the end of the month" in page
    assert "Alert at $100.00: <strong>reached</strong>" in page
    assert "Hard limit at $250.00: reached by the end of the month at this rate" in page
    assert "Alert at $500.00: not reached" in page
    assert page.count('class="gauge-mark ') == 3


def test_the_organizations_spend_tab_counts_every_project(acme, client_as, admin):
    page = text(client_as(admin).get(reverse("orgadmin:org_settings_tab", args=["spend"])))
    assert 'aria-valuenow="219400"' in page  # $194 + 20 × $100
    assert "spent of the $5,000.00 limit (44%)" in page
    assert "Alert at $2,000.00: <strong>reached</strong>" in page


def test_without_a_limit_or_alerts_it_shows_the_figures_without_a_bar(acme, client_as, admin):
    url = reverse("orgadmin:project_tab", args=["proj_b", "spend"])
    page = text(client_as(admin).get(url))
    assert "This month so far" in page
    assert "$2,000.00" in page
    assert 'role="progressbar"' not in page


# --- rate limits ----------------------------------------------------------------------------------


def test_the_ceiling_of_a_model_is_the_highest_any_project_has(synced, store):
    ceilings = rate_limit_ceilings(org=synced)
    for limit in next(iter(store.projects.values())).rate_limits.values():
        assert ceilings[limit.model] == limit.org_limits
    assert RateLimit.objects.exists()


def test_a_rate_limit_shows_the_organizations_maximum_before_anyone_types(
    synced, store, client_as, admin
):
    project = active_project(store)
    limit = sorted(project.rate_limits.values(), key=lambda r: r.id)[0]
    field = "max_requests_per_1_minute"
    ceiling = limit.org_limits[field]
    url = reverse("orgadmin:project_tab", args=[project.id, "rate-limits"])
    page = text(client_as(admin).get(url))
    cell = re.search(
        rf'<input [^>]*id="rl-{re.escape(limit.id)}-{field}"[^>]*>\s*<small[^>]*>', page
    )
    assert f'data-max="{ceiling}"' in cell.group(0)
    assert f'aria-describedby="rl-{limit.id}-{field}-max"' in cell.group(0)
    assert f'id="rl-{limit.id}-{field}-max">max {ceiling:,}</small>' in page
