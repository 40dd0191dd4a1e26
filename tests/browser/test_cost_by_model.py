"""Cost by model (#16, acceptance): a finance user picks Group by = Model on Costs and reads the
models ranked by what they cost, in both themes, on a desktop and a 390 px phone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from dashboard.models import CostBucket
from orgadmin.access import Role
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.factories import UserFactory

# gpt-4.1's input is the top line item; summed by model, o3 costs more.
LINES = [
    ("gpt-4.1-2025-04-14, input", "5.00"),
    ("gpt-4.1-2025-04-14, output", "1.00"),
    ("o3-2025-04-16, input", "4.00"),
    ("o3-2025-04-16, output", "3.00"),
    ("o3-2025-04-16, cached input (batch)", "1.00"),
]


@pytest.fixture
def costs(org):
    day = timezone.now().date() - dt.timedelta(days=2)
    for item, amount in LINES:
        CostBucket.objects.create(
            org=org, day=day, line_item=item, project_id="", api_key_id="",
            amount=Decimal(amount), currency="usd", quantity=1000, quantity_unit="tokens",
        )  # fmt: skip
    return org


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_cost_by_model(page, login, costs, theme, size):
    page.set_viewport_size(SIZES[size])
    login(UserFactory(username=f"fin-model-{theme}-{size}", role=Role.FINANCE))
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    page.goto("/costs/?preset=30d")
    settle(page)
    first = page.locator("#costs-body > .table-wrap tbody tr").first
    assert first.locator("td").first.inner_text().startswith("gpt-4.1-2025-04-14, input")

    page.get_by_label("Group by").select_option(label="Model")
    page.wait_for_url(lambda url: "group_by=model" in url)
    settle(page)

    rows = page.locator("#costs-body > .table-wrap tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("td").first.inner_text().startswith("o3-2025-04-16")
    assert "$8.00" in rows.nth(0).inner_text()
    assert rows.nth(1).locator("td").first.inner_text().startswith("gpt-4.1-2025-04-14")
    assert page.get_by_label("This table").is_checked()
    screenshot(page, f"cost-by-model-{theme}-{size}")

    assert fits(page, size)
    for area in ("#costs-body > .table-wrap", "main .chart-card", "main .export-card"):
        assert axe_violations(page, within=area) == [], area

    # The Overview ranks models by what they cost, tokens beside.
    page.goto("/")
    settle(page)
    top = page.locator("article", has=page.get_by_role("heading", name="Top models"))
    assert top.locator("li").first.inner_text().startswith("o3-2025-04-16")
    assert "$8.00" in top.locator("li").first.inner_text()
    screenshot(page, f"overview-top-models-{theme}-{size}")
    assert fits(page, size)
    assert axe_violations(page, within=".top-lists") == []
    assert page.js_errors == []
