"""Issue 16, item 11: a legend click hides or shows its series (Plotly's own), drilling down is a
bar click, and hovering a bar shows the segment and the day's total."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.sync.usage import usage_sync
from orgadmin.access import Role
from tests.browser.conftest import screenshot
from tests.conftest import SIM_NOW
from tests.factories import UserFactory

NOW = dt.datetime.fromtimestamp(SIM_NOW, dt.UTC)


@pytest.fixture
def synced(org, simulator):
    from orgadmin.sync.directory import directory_sync

    directory_sync(org=org)
    usage_sync(org=org, start=NOW - dt.timedelta(days=31))
    return org


def test_a_legend_click_hides_the_series_and_hover_shows_the_days_total(page, login, synced):
    login(UserFactory(username="fin-legend", role=Role.FINANCE))
    page.goto("/costs/?preset=30d&group_by=project_id")
    page.wait_for_selector("#chart-costs[data-rendered=true]")
    url = page.url
    bars = page.locator("#chart-costs .trace.bars").count()
    assert bars >= 2

    page.locator("#chart-costs .legend .traces .legendtoggle").first.click()
    page.wait_for_function(
        "() => document.getElementById('chart-costs').data.filter(t => t.visible === 'legendonly')"
        ".length === 1"
    )
    assert page.url == url  # no drill-down, no navigation
    assert page.locator(".drill-menu").count() == 0
    screenshot(page, "chart-legend-hidden")
    page.locator("#chart-costs .legend .traces .legendtoggle").first.click()
    page.wait_for_function(
        "() => document.getElementById('chart-costs').data.every(t => t.visible !== 'legendonly')"
    )

    # Hover a segment: the label names the segment and the day's total.
    boxes = [
        b
        for b in (p.bounding_box() for p in page.locator("#chart-costs .point path").all())
        if b and b["height"] > 6 and b["width"] > 2
    ]
    box = max(boxes, key=lambda b: b["height"])
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = page.locator("#chart-costs .hoverlayer .hovertext")
    label.first.wait_for()
    text = label.first.text_content()
    assert "Day total: $" in text
    assert text.count("$") == 2  # the segment's amount and the total
    screenshot(page, "chart-hover-total")
    assert page.js_errors == []
