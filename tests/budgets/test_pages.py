"""The Budgets page: Finance and Admin read it, an Admin adds, changes and removes budgets; bad
input is answered on the page; OpenAI's own limits show beside ours; the page's queries are
pinned."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.budgets.models import Budget, StoredForecast
from orgadmin.models import OrgSettings, Project, SpendAlert
from tests.budgets.conftest import budget, spend, spend_daily

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def _today() -> dt.date:
    return timezone.now().date()  # the reporting timezone is UTC here


def _form(**changes):
    return {
        "name": "Production",
        "amount": "1,000",
        "period": "month",
        "start": "",
        "end": "",
        "project_id": "",
        "api_key_id": "",
        "model": "",
        "thresholds": "50, 80, 100",
        "forecast_alert": "on",
        **changes,
    }


def test_finance_reads_each_budget_with_its_bar_forecast_and_costs_link(acme, client_as, finance):
    spend_daily(acme, _today() - 30 * DAY, _today(), "10.00", project_id="proj_web")
    b = budget(acme, name="Web", project_id="proj_web", amount=Decimal("5.00"))

    page = client_as(finance).get(reverse("budgets"))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Web" in html
    assert 'role="progressbar"' in html
    assert "Over budget" in html
    spent = Decimal("10.00") * _today().day  # the month so far, today included
    assert f'aria-valuenow="{spent}"' in html
    assert f'aria-valuetext="${spent} of $5.00' in html
    assert "Costs of this budget" in html
    assert "project_id=proj_web" in html
    assert "Add a budget" not in html  # Finance reads only
    assert reverse("budget_edit", args=[b.pk]) not in html
    assert client_as(finance).post(reverse("budget_add"), _form()).status_code == 403


def test_an_auditor_may_not_open_it(acme, client_as, auditor):
    assert client_as(auditor).get(reverse("budgets")).status_code == 403


def test_the_empty_page_explains_budgets_and_offers_to_add_one(acme, client_as, admin, finance):
    html = client_as(admin).get(reverse("budgets")).content.decode()
    assert "No budgets yet" in html
    assert 'href="#budget-form"' in html
    assert (
        "An Admin of this connection adds them"
        in client_as(finance).get(reverse("budgets")).content.decode()
    )


def test_an_admin_adds_a_budget_with_a_scope_and_thresholds(acme, client_as, admin):
    spend(acme, _today(), "1.00", project_id="proj_web", api_key_id="key_ci", model="gpt-4o")
    c = client_as(admin)
    page = c.get(reverse("budgets"))
    assert 'value="proj_web"' in page.content.decode()  # offered: it had costs lately

    response = c.post(
        reverse("budget_add"),
        _form(project_id="proj_web", model="gpt-4o", thresholds="90 80"),
        follow=True,
    )

    assert response.status_code == 200
    b = Budget.objects.get(org=acme)
    assert (b.name, b.amount, b.project_id, b.api_key_id, b.model) == (
        "Production",
        Decimal("1000.00"),
        "proj_web",
        "",
        "gpt-4o",
    )
    assert b.thresholds == [80, 90]
    assert "Added the budget “Production”" in response.content.decode()


def test_htmx_add_answers_with_a_fresh_form_and_tells_the_list(acme, client_as, admin):
    response = client_as(admin).post(reverse("budget_add"), _form(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "directoryChanged" in response.headers["HX-Trigger"]
    assert 'id="budget-form"' in response.content.decode()
    assert Budget.objects.filter(org=acme).count() == 1


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"name": ""}, "This field is required."),
        ({"amount": "lots"}, "Enter an amount such as 1,000 or 250.50."),
        ({"amount": "0"}, "greater than or equal to 0.01"),
        ({"amount": "1" * 20}, "digits"),
        ({"period": "weekly"}, "Select a valid choice"),
        ({"period": "custom"}, "A custom range needs both days."),
        ({"period": "custom", "start": "2025-06-10", "end": "2025-06-01"}, "on or after"),
        ({"period": "custom", "start": "2020-01-01", "end": "2025-01-01"}, "at most 731 days"),
        ({"period": "custom", "start": "June", "end": "2025-06-01"}, "YYYY-MM-DD"),
        ({"thresholds": "50, 50"}, "50 is repeated"),
        ({"thresholds": "0, 2000"}, "between 1 and 1000"),
        ({"thresholds": "eighty"}, "is not a percent"),
        ({"thresholds": "12.5"}, "not a whole percent"),
        ({"project_id": "proj_nowhere' OR 1=1"}, None),  # kept as typed, matches nothing
        ({"model": "x" * 300}, "at most 200"),
    ],
)
def test_bad_input_is_answered_on_the_page(acme, client_as, admin, changes, error):
    response = client_as(admin).post(reverse("budget_add"), _form(**changes))
    assert response.status_code in (200, 302)
    if error is None:
        return
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Budget.objects.filter(org=acme).exists()


def test_a_taken_name_is_refused_beside_the_field(acme, client_as, admin):
    budget(acme, name="Production")
    response = client_as(admin).post(reverse("budget_add"), _form())
    assert "A budget has this name already." in response.content.decode()
    assert Budget.objects.filter(org=acme).count() == 1


def test_an_admin_edits_and_removes_a_budget(acme, client_as, admin):
    b = budget(acme, name="Web")
    c = client_as(admin)
    edit = c.get(reverse("budget_edit", args=[b.pk]))
    assert edit.status_code == 200
    assert 'value="50, 80, 100"' in edit.content.decode()

    bad = c.post(reverse("budget_edit", args=[b.pk]), _form(name="Web", amount="-5"))
    assert bad.status_code == 200
    saved = c.post(reverse("budget_edit", args=[b.pk]), _form(name="Web", amount="2500"))
    assert saved.status_code == 302
    b.refresh_from_db()
    assert (b.amount, b.revision) == (Decimal("2500.00"), 1)

    removed = c.post(reverse("budget_remove", args=[b.pk]), follow=True)
    assert "Removed the budget “Web”" in removed.content.decode()
    assert not Budget.objects.filter(pk=b.pk).exists()


def test_another_organizations_budget_is_not_found(acme, client_as, admin):
    from tests.factories import OrganizationFactory

    other = budget(OrganizationFactory(name="Other"), name="Theirs")
    c = client_as(admin)
    assert c.get(reverse("budget_edit", args=[other.pk])).status_code == 404
    assert c.post(reverse("budget_remove", args=[other.pk])).status_code == 404
    assert Budget.objects.filter(pk=other.pk).exists()


def test_openais_own_limits_and_alerts_show_beside_ours_read_only(acme, client_as, finance):
    OrgSettings.objects.create(org=acme, spend_limit_cents=500_000, spend_limit_interval="month")
    SpendAlert.objects.create(org=acme, openai_id="alert_org", threshold_cents=250_000)
    web = Project.objects.create(
        org=acme, openai_id="proj_web", name="Web app", spend_limit_cents=120_000,
        spend_limit_enforcement="enforcing",
    )  # fmt: skip
    SpendAlert.objects.create(org=acme, project=web, openai_id="alert_web", threshold_cents=90_000)
    Project.objects.create(org=acme, openai_id="proj_quiet", name="Quiet")

    html = client_as(finance).get(reverse("budgets")).content.decode()

    assert "Set in OpenAI" in html
    assert "$5,000.00 a month" in html
    assert "$2,500.00 a month" in html
    assert "Web app" in html
    assert "$1,200.00 a month" in html
    assert "Enforcing: requests refused" in html
    assert "$900.00 a month" in html
    assert "Quiet" not in html  # neither limit nor alerts
    assert "https://platform.openai.com/settings/organization" in html


def test_an_xai_team_points_to_its_billing_page_for_its_limits(team, client_as, admin):
    html = client_as(admin).get(reverse("budgets")).content.decode()
    assert "Set in xAI" in html
    assert reverse("orgadmin:billing") in html


@pytest.mark.parametrize("budgets", [1, 12])
def test_the_page_asks_a_pinned_number_of_queries(
    acme, client_as, finance, django_assert_num_queries, budgets
):
    spend_daily(acme, _today() - 100 * DAY, _today(), "10.00", project_id="proj_web")
    for n in range(budgets):
        budget(acme, name=f"B{n}", project_id="" if n % 2 else "proj_web", amount=Decimal(300 + n))
    c = client_as(finance)
    c.get(reverse("budgets"))  # the first page after signing in writes the session
    # The session, the user, their grants, the connections (4); the reporting timezone for
    # today; the budgets, their spend, their stored forecasts, the timezone again (for the costs
    # links), the projects' names (5); OpenAI's limit, alerts and projects (3); the usage
    # sync's freshness (1).
    with django_assert_num_queries(14):
        page = c.get(reverse("budgets"))
    assert page.status_code == 200
    assert page.content.decode().count('role="progressbar"') == budgets
    # Nothing stored (a cost row came in): one query more, storing every budget's at once.
    StoredForecast.objects.all().delete()
    with django_assert_num_queries(15):
        cold = c.get(reverse("budgets"))
    assert cold.content.decode().count('role="progressbar"') == budgets
    assert StoredForecast.objects.filter(budget__org=acme).count() == budgets
