"""Finance in a real browser: Overview, Costs and Usage, drill-down, filters, themes and speed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import brotli
import pytest

from dashboard.sync.usage import usage_sync
from orgadmin.access import Role
from tests.browser.conftest import screenshot, settle
from tests.conftest import SIM_NOW
from tests.factories import UserFactory

STATIC = Path(__file__).resolve().parents[2] / "static"
NOW = dt.datetime.fromtimestamp(SIM_NOW, dt.UTC)


@pytest.fixture
def synced(org, simulator):
    from orgadmin.sync.directory import directory_sync

    directory_sync(org=org)  # names for project, key and user ids
    usage_sync(org=org, start=NOW - dt.timedelta(days=31))
    return org


def _first_chart_ms(page) -> float:
    page.wait_for_function("performance.getEntriesByName('first-chart').length > 0")
    return page.evaluate("performance.getEntriesByName('first-chart')[0].startTime")


def _compressed_js_bytes(page) -> int:
    """What the scripts of this page weigh brotli-compressed, as WhiteNoise serves them."""
    urls = page.evaluate(
        "performance.getEntriesByType('resource')"
        ".filter(r => r.initiatorType === 'script').map(r => new URL(r.name).pathname)"
    )
    total = 0
    for url in urls:
        assert url.startswith("/static/"), url
        relative = url.removeprefix("/static/")
        path = STATIC / relative
        if not path.exists():  # django-htmx ships its own script
            import django_htmx

            path = Path(django_htmx.__file__).parent / "static" / relative
        total += len(brotli.compress(path.read_bytes()))
    return total


def _set_theme(page, theme: str) -> None:
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")


def test_it_draws_the_costs_chart_fast_and_drills_into_a_project(page, login, synced):
    # An Admin: the audit log of a day is offered only to who may open it (issue 16, item 3;
    # Finance's chart: tests/browser/test_role_links.py).
    login(UserFactory(username="adm-costs", role=Role.ADMIN))
    page.goto("/costs/?preset=30d&group_by=project_id")

    assert _first_chart_ms(page) <= 1000
    assert _compressed_js_bytes(page) <= 600 * 1024
    assert page.locator("#chart-costs .trace.bars").count() >= 2
    screenshot(page, "costs-light")
    _set_theme(page, "dark")
    page.reload()
    _first_chart_ms(page)
    screenshot(page, "costs-dark")

    # A bar offers "only this project" and the audit log of its day.
    first_bar = page.locator("#chart-costs .trace.bars .point path").first
    first_bar.click(force=True)
    menu = page.locator(".drill-menu")
    menu.wait_for()
    assert "audit log" in menu.inner_text()
    audit = menu.get_by_role("menuitem").nth(1).get_attribute("href")
    assert audit.startswith("/audit-log/?start=")
    menu.get_by_role("menuitem").first.click()
    page.wait_for_url(lambda url: "project_id=" in url and "group_by=line_item" in url)
    settle(page)
    page.wait_for_selector(".chip")
    assert "Project" in page.inner_text(".chips")
    assert page.js_errors == []


def test_it_applies_filters_through_htmx_and_keeps_them_in_the_url(page, login, synced):
    login(UserFactory(username="fin-filter", role=Role.FINANCE))
    page.goto("/costs/")
    _first_chart_ms(page)
    page.evaluate("window.__sameDocument = true")

    page.select_option("select[name=group_by]", "api_key_id")
    page.wait_for_url(lambda url: "group_by=api_key_id" in url)
    settle(page)
    page.locator(".segmented a", has_text="Last 7 days").click()
    page.wait_for_url(lambda url: "preset=7d" in url)
    settle(page)
    today = NOW.date()
    page.fill("input[name=start]", (today - dt.timedelta(days=3)).isoformat())
    page.wait_for_url(lambda url: "start=" in url and "preset" not in url)
    settle(page)
    page.fill("input[name=last]", (today - dt.timedelta(days=10)).isoformat())  # "To": issue 16
    page.wait_for_selector("#end-error")
    assert "after the start date" in page.inner_text("#end-error")
    screenshot(page, "costs-inverted-range")
    # No full reload happened along the way.
    assert page.evaluate("window.__sameDocument") is True
    assert page.js_errors == []


def test_it_shows_usage_per_family_with_the_batch_and_cache_splits(page, login, synced):
    login(UserFactory(username="fin-usage", role=Role.FINANCE))
    page.goto("/usage/?family=completions&preset=30d")

    assert _first_chart_ms(page) <= 1000
    page.wait_for_selector("#chart-cache[data-rendered=true]")
    page.wait_for_selector("#chart-batch[data-rendered=true]")
    screenshot(page, "usage-light")
    _set_theme(page, "dark")
    page.reload()
    _first_chart_ms(page)
    screenshot(page, "usage-dark")

    page.locator(".tabs a", has_text="Embeddings").click()
    page.wait_for_url(lambda url: "family=embeddings" in url)
    settle(page)
    page.wait_for_selector("#chart-usage[data-rendered=true]")
    page.select_option("select[name=bucket_width]", "1h")
    page.wait_for_url(lambda url: "bucket_width=1h" in url)
    settle(page)
    assert page.js_errors == []


def test_it_shows_the_overview_to_finance(page, login, synced):
    login(UserFactory(username="fin-home", role=Role.FINANCE))
    page.goto("/")

    _first_chart_ms(page)
    assert "month to date" in page.inner_text("main").lower()
    assert page.locator(".spark-card").count() == 10
    screenshot(page, "overview-light")
    _set_theme(page, "dark")
    page.reload()
    _first_chart_ms(page)
    screenshot(page, "overview-dark")
    assert page.js_errors == []
