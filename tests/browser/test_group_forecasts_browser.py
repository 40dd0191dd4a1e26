"""The Overview's month-end forecasts by project and by model in Chromium: fourteen projects (the
top twelve and "Others") and four models, forecast by the check after a sync, in both themes on
a desktop and a 390 px phone, with axe-core; and the rows a sync left without a forecast yet."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dashboard.group_forecasts import group_forecasts_refresh
from dashboard.models import CostBucket
from orgadmin.access import Role
from orgadmin.models import Project
from tests.browser.conftest import SCREENSHOTS, SIZES, axe_violations, fits, screenshot, settle
from tests.factories import OrganizationFactory, UserFactory

DAY = dt.timedelta(days=1)
PROJECTS = [
    "Web shop", "Support bot", "Search", "Batch jobs", "Recommendations", "Internal tools",
    "Translations", "Data labelling", "Mobile app", "Voice assistant", "Fraud checks",
    "Email drafts", "Experiments", "Docs Q&A",
]  # fmt: skip
MODELS = ["gpt-4.1-2025-04-14", "gpt-5-mini-2025-08-07", "o4-mini-2025-04-16", "gpt-image-1"]


def _costs(org, days: int = 45) -> None:
    """Each project a weekday pattern at its own scale, one model each (by turns), to today."""
    today = timezone.now().date()
    rows = []
    for i, name in enumerate(PROJECTS):
        project_id = f"proj_{i:02d}"
        Project.objects.create(org=org, openai_id=project_id, name=name)
        for n in range(days, -1, -1):
            day = today - n * DAY
            scale = 60 / (i + 1) * (1.0 if day.weekday() < 5 else 0.45) * (1 + (n * 7 + i) % 5 / 20)
            rows.append(
                CostBucket(
                    org=org,
                    day=day,
                    line_item=f"{MODELS[i % len(MODELS)]}, input",
                    project_id=project_id,
                    api_key_id=f"key_{i:02d}",
                    amount=f"{scale * (0.3 if n == 0 else 1):.2f}",
                    currency="usd",
                )
            )
    for row in rows:
        row.save()  # one by one: the rollups follow (dashboard/signals.py)


def test_the_overview_shows_the_forecasts_by_project_and_model(page, login, db):
    org = OrganizationFactory(name="Acme")
    _costs(org)
    group_forecasts_refresh(org=org)  # what the check after a sync does
    login(UserFactory(username="fred-finance", role=Role.FINANCE))
    problems = []
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            page.evaluate(f"localStorage.setItem('theme', '{theme}')")
            page.goto("/")
            settle(page)
            where = f"{theme}, {size}"
            section = page.locator(".forecast-tables")
            screenshot(page, f"i20-overview-forecasts-{theme}-{size}")
            section.screenshot(
                path=SCREENSHOTS / f"i20-overview-forecasts-{theme}-{size}-section.png"
            )
            text = section.inner_text()
            for expected in ("by project", "by model", "Web shop", "Others", "2 more projects"):
                if expected not in text:
                    problems.append(f"{where}: {expected!r} missing")
            if "After the next sync" in text:
                problems.append(f"{where}: a forecast is missing")
            if not fits(page, size):
                problems.append(f"{where}: wider than the screen")
            problems += [f"{where}: {v}" for v in axe_violations(page)]
    assert problems == []
    assert page.js_errors == []


def test_rows_whose_costs_changed_since_say_their_forecast_comes_after_the_next_sync(
    page, login, db
):
    org = OrganizationFactory(name="Acme")
    _costs(org, days=20)
    group_forecasts_refresh(org=org)
    # A sync wrote a row of the web shop's today; the check after it hasn't run yet.
    CostBucket.objects.create(
        org=org,
        day=timezone.now().date(),
        line_item="gpt-4.1-2025-04-14, output",
        project_id="proj_00",
        api_key_id="key_00",
        amount="12.00",
        currency="usd",
    )
    login(UserFactory(username="fred-finance", role=Role.FINANCE))
    page.set_viewport_size(SIZES["phone"])
    page.goto("/")
    settle(page)
    screenshot(page, "i20-overview-forecasts-pending-phone")
    page.locator(".forecast-tables").screenshot(
        path=SCREENSHOTS / "i20-overview-forecasts-pending-phone-section.png"
    )
    text = page.locator(".forecast-tables").inner_text()
    # The web shop and its model wait; the rest stand (Others too: the total and the web shop
    # moved together, the rest's own days did not).
    assert text.count("After the next sync") == 2
    assert axe_violations(page, within=".forecast-tables") == []
