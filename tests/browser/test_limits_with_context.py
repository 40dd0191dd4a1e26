"""Limits with context (issue 16, item 4) as a person sees them: the spend gauge of the
organization and of a project, and the rate limits with their maximum, in both themes, on a
desktop and a phone: nothing spills sideways, axe finds nothing serious or critical."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from dashboard.models import CostBucket
from orgadmin.access import Role
from orgadmin.models import Project
from orgadmin.sync.directory import directory_sync
from tests.browser.conftest import SERIOUS, SIZES, axe_violations, fits, screenshot, settle
from tests.factories import UserFactory


@pytest.fixture
def spent(org):
    """The directory synced, and $400 a day this month for one project."""
    directory_sync(org=org)
    project = (
        Project.objects.filter(org=org, status=Project.Status.ACTIVE)
        .exclude(name="Default project")
        .order_by("name")
        .first()
    )
    project.spend_limit_cents = 1_500_000
    project.save(update_fields=["spend_limit_cents"])
    today = timezone.now().date()
    for day in range(1, today.day + 1):
        CostBucket.objects.create(
            org=org, day=today.replace(day=day), line_item="gpt-5, input",
            project_id=project.openai_id, api_key_id="", amount=Decimal(400), currency="usd",
        )  # fmt: skip
    return project


PAGES = {
    "org-spend": lambda p: "/settings/spend/",
    "project-spend": lambda p: f"/projects/{p.openai_id}/spend/",
    "project-rate-limits": lambda p: f"/projects/{p.openai_id}/rate-limits/",
}


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_limits_read_well_everywhere(page, login, spent, name, theme, size):
    page.set_viewport_size(SIZES[size])
    login(UserFactory(username=f"adm-{name}-{theme}-{size}", role=Role.ADMIN))
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    page.goto(PAGES[name](spent))
    settle(page)
    if name.endswith("spend"):
        assert page.locator("[role=progressbar]").count() == 1
        assert "projected" in page.inner_text(".spend-gauge")
    else:
        assert page.locator(".limit-max").count() > 0
        box = page.locator("input[data-max]").first
        box.fill(f"{int(box.get_attribute('data-max')) + 1:,}")
        assert box.get_attribute("aria-invalid") == "true"
        assert not box.evaluate("el => el.checkValidity()")  # the form won't send it
    screenshot(page, f"{name}-{theme}-{size}")
    assert fits(page, size)
    assert axe_violations(page, impacts=SERIOUS) == []
    assert page.js_errors == []
