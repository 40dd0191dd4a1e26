"""All organizations (issue 17, item 6) as a person with Finance on three connections sees it:
reached from the organization switcher, its Costs (and Overview) in both themes, on a desktop
and a 390 px phone, with axe-core and nothing spilling sideways."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from dashboard.models import CostBucket
from orgadmin.access import Role
from orgadmin.models import Project
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.factories import OrganizationFactory, UserFactory


def _orgs() -> list:
    today = timezone.now().astimezone(dt.UTC).date()
    found = []
    for name, currency, scale in (
        ("Acme Production", "usd", 3),
        ("Acme Research", "usd", 1),
        ("Acme Europe GmbH", "eur", 2),
    ):
        org = OrganizationFactory(name=name)
        found.append(org)
        for p in range(3):
            Project.objects.create(org=org, openai_id=f"proj_{p}", name=f"{name} project {p}")
            for days in range(1, 8):
                for item in ("gpt-5, input", "gpt-5, output"):
                    CostBucket.objects.create(
                        org=org, day=today - dt.timedelta(days=days), line_item=item,
                        project_id=f"proj_{p}", api_key_id="", currency=currency,
                        amount=Decimal(scale * (p + 1)) + Decimal(days) / 10,
                        quantity=1000 * days, quantity_unit="tokens",
                    )  # fmt: skip
    return found


PAGES = {
    "costs": ("/all/costs/?preset=7d&group_by=project_id", "By organization and project"),
    "overview": ("/all/", "By organization"),
}


def test_all_organizations_reads_well(page, login, db):
    orgs = _orgs()
    person = UserFactory(username="fin-all", roles_on={o: Role.FINANCE for o in orgs})
    login(person)
    # The way in: "All organizations" at the top of the switcher, from a Costs page.
    page.goto("/costs/")
    page.select_option("#org-switcher", "all")
    page.wait_for_url("**/all/costs/")
    assert "Acme Europe GmbH" in page.locator("main").inner_text()
    problems = []
    for theme in ("light", "dark"):
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            page.evaluate(f"localStorage.setItem('theme', '{theme}')")
            for name, (path, expected) in PAGES.items():
                page.goto(path)
                settle(page)
                screenshot(page, f"all-orgs-{name}-{theme}-{size}")
                where = f"{name}, {theme}, {size}"
                if expected not in page.locator("main").inner_text():
                    problems.append(f"{where}: no {expected!r} on the page")
                if not fits(page, size):
                    problems.append(f"{where}: wider than the screen")
                problems += [f"{where}: {v}" for v in axe_violations(page)]
    assert problems == []
    assert page.js_errors == []
