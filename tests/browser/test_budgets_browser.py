"""The Budgets page in Chromium: budgets on track, forecast to exceed, over, ended and not
started, beside OpenAI's own limits, in both themes on a desktop and a 390 px phone, with
axe-core; and an Admin adding one, with an error shown beside its field first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from dashboard.budgets.models import Budget
from orgadmin.access import Role
from orgadmin.models import OrgSettings, Project, SpendAlert
from tests.browser.conftest import every_look, screenshot, settle
from tests.budgets.conftest import budget, spend, spend_daily
from tests.factories import OrganizationFactory, UserFactory

DAY = dt.timedelta(days=1)


def _budgets(org) -> None:
    today = timezone.now().date()
    first = today - 60 * DAY
    spend_daily(org, first, today, "18.40", project_id="proj_web", api_key_id="key_web")
    spend_daily(org, first, today, "6.10", project_id="proj_batch", api_key_id="key_batch",
                model="gpt-4o-mini")  # fmt: skip
    Project.objects.create(org=org, openai_id="proj_web", name="Web app", spend_limit_cents=90_000)
    Project.objects.create(org=org, openai_id="proj_batch", name="Batch jobs")
    OrgSettings.objects.create(org=org, spend_limit_cents=2_000_000, spend_limit_interval="month")
    SpendAlert.objects.create(org=org, openai_id="alert_1", threshold_cents=1_000_000)
    month_days = 30
    budget(org, name="Organization", amount=Decimal("2000.00"))
    budget(org, name="Web app", project_id="proj_web", amount=Decimal(18.4 * month_days * 0.8))
    budget(org, name="Batch (mini)", project_id="proj_batch", model="gpt-4o-mini",
           amount=Decimal("6.10") * (today.day - 1) or Decimal(5))  # fmt: skip
    budget(org, name="Launch week", period=Budget.Period.CUSTOM, start=today - 40 * DAY,
           end=today - 34 * DAY, amount=Decimal("200.00"))  # fmt: skip
    budget(org, name="Next quarter", period=Budget.Period.QUARTER, amount=Decimal("5000.00"),
           thresholds=[25, 50, 75, 100])  # fmt: skip
    budget(org, name="Holiday freeze", period=Budget.Period.CUSTOM, start=today + 10 * DAY,
           end=today + 20 * DAY, amount=Decimal("100.00"))  # fmt: skip


def test_the_budgets_page_reads_well_in_both_themes_and_on_a_phone(page, login, db):
    org = OrganizationFactory(name="Acme")
    _budgets(org)
    login(UserFactory(username="alice-admin", role=Role.ADMIN))
    problems = every_look(
        page,
        "/budgets/",
        "i20-budgets",
        ("Over budget", "Ended", "Not started", "Set in OpenAI", "Web app"),
    )
    assert problems == []
    assert page.js_errors == []


def test_an_admin_adds_a_budget_and_sees_an_error_beside_its_field_first(page, login, db):
    org = OrganizationFactory(name="Acme")
    spend(org, timezone.now().date(), "3.00", project_id="proj_web")
    login(UserFactory(username="alice-admin", role=Role.ADMIN))
    page.goto("/budgets/")
    assert "No budgets yet" in page.locator("main").inner_text()
    screenshot(page, "i20-budgets-empty")
    page.fill("#id_name", "Web")
    page.fill("#id_amount", "1,500")
    page.fill("#id_thresholds", "50, 50")
    page.click("#budget-form button[type=submit]")
    settle(page)
    assert "50 is repeated" in page.locator("#budget-form").inner_text()
    screenshot(page, "i20-budgets-form-error")
    page.fill("#id_thresholds", "50, 90")
    page.select_option("#id_project_id", "proj_web")
    page.click("#budget-form button[type=submit]")
    settle(page)
    page.wait_for_selector("#budget-list .budget")
    assert "Web" in page.locator("#budget-list").inner_text()
    assert Budget.objects.get(org=org).thresholds == [50, 90]
    assert page.js_errors == []
