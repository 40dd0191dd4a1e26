"""The chargeback report in Chromium: a month's centres with direct, shared and adjustment
costs, one centre's lines drilled into, and the cost centres page, in both themes on a desktop
and a 390 px phone, with axe-core."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dashboard.chargeback import services
from orgadmin.access import Role
from orgadmin.models import OrgUser, Project, ProjectApiKey
from tests.browser.conftest import axe_violations, every_look, screenshot, settle
from tests.chargeback.conftest import assign, centre, cost, rule
from tests.factories import OrganizationFactory, UserFactory

SEP, OCT = dt.date(2025, 9, 1), dt.date(2025, 10, 1)
EXPECTED = (
    "Chargeback: October 2025",
    "Product",
    "Unallocated",
    "Default project by team",
    "revised by the API after close",
)


def _chargeback(org, admin) -> None:
    names = {"proj_web": "Web app", "proj_data": "Data platform", "proj_default": "Default project"}
    for openai_id, name in names.items():
        Project.objects.create(org=org, openai_id=openai_id, name=name)
    web = Project.objects.get(org=org, openai_id="proj_web")
    ProjectApiKey.objects.create(org=org, project=web, openai_id="key_ci", name="ci-deploy")
    OrgUser.objects.create(org=org, openai_id="user-ann", email="ann@example.com")
    for month, days in ((SEP, 30), (OCT, 31)):
        for i in range(days):
            day = month + dt.timedelta(days=i)
            cost(org, day, Decimal("18.4371") + i, project_id="proj_web", api_key_id="key_app")
            cost(org, day, "6.105", project_id="proj_web", api_key_id="key_ci")
            cost(org, day, "9.99", project_id="proj_data", api_key_id="key_etl")
            cost(org, day, "4.3333", project_id="proj_default", api_key_id="key_misc")
            cost(org, day, "0.77", project_id="proj_lab", api_key_id="key_lab")
    product, platform = centre(org, "Product", "CC-100"), centre(org, "Platform", "CC-200")
    research = centre(org, "Research", "CC-300")
    assign(org, "project", "proj_web", product)
    assign(org, "api_key", "key_ci", platform)
    assign(org, "project", "proj_data", research)
    rule(org, "Default project by team", project_id="proj_default",
         shares=[(product, "50"), (platform, "30"), (research, "20")])  # fmt: skip
    services.month_close(org=org, actor=admin, month=SEP)
    bucket = cost(org, dt.date(2025, 9, 30), "3.21", project_id="proj_data",
                          api_key_id="key_late")  # fmt: skip
    assert bucket.pk  # a cost recorded after September was closed: an adjustment in October


def test_the_chargeback_report_reads_well_in_both_themes_and_on_a_phone(page, login, db):
    org = OrganizationFactory(name="Acme")
    admin = UserFactory(username="alice-admin", role=Role.ADMIN)
    _chargeback(org, admin)
    login(admin)
    problems = every_look(
        page, "/chargeback/?month=2025-10&centre=Research", "i21-chargeback", EXPECTED
    )
    page.goto("/chargeback/?month=2025-09")
    screenshot(page, "i21-chargeback-closed-dark-phone")
    assert "Closed on" in page.locator("main").inner_text()
    page.goto("/chargeback/centres/")
    settle(page)
    screenshot(page, "i21-chargeback-centres-dark-phone")
    problems += [f"centres: {v}" for v in axe_violations(page)]
    assert problems == []
    assert page.js_errors == []
