"""An auditor explores the audit log in a real browser: filters, the chart, the drawer."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from orgadmin.access import Role
from orgadmin.sync.audit import audit_log_sync
from tests.browser.conftest import screenshot, settle
from tests.factories import UserFactory


def _swapping(page, action) -> None:
    """Do something that makes htmx replace the explorer, and wait until the new one is in."""
    page.evaluate("document.getElementById('explorer').dataset.old = 'yes'")
    action()
    page.wait_for_function(
        "() => { const e = document.getElementById('explorer'); return e && !e.dataset.old; }"
    )
    settle(page)


@pytest.fixture
def synced(org, simulator):
    audit_log_sync(org=org)
    return org


def _busiest_project_with_deleted_keys(simulator, days: int = 30) -> tuple[str, str, int]:
    """The project with the most api_key.deleted events in the last `days` days, from the
    simulator's own log."""
    today = dt.datetime.now(tz=dt.UTC).date()
    since = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), tzinfo=dt.UTC)
    deleted = [
        e
        for e in simulator.store.audit.events()
        if e["type"] == "api_key.deleted" and e["effective_at"] >= since.timestamp()
    ]
    counts = Counter(
        (e["project"]["id"], e["project"]["name"]) for e in deleted if e.get("project")
    )
    (project_id, name), n = counts.most_common(1)[0]
    return project_id, name, n


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_it_finds_a_deleted_key_of_one_project_and_shows_what_changed(
    page, login, synced, simulator, theme
):
    project_id, project_name, expected = _busiest_project_with_deleted_keys(simulator)
    page.emulate_media(color_scheme=theme)
    login(UserFactory(username=f"auditor-{theme}", role=Role.AUDITOR))

    page.goto("/audit-log/")
    _swapping(page, lambda: page.get_by_role("link", name="30 days").click())
    assert "start=" in page.url
    page.locator("#audit-chart[data-rendered]").wait_for()

    # Event types: open the API keys group and tick api_key.deleted.
    page.locator(".type-facet summary", has_text="API keys").locator("span.count").click()
    _swapping(page, lambda: page.get_by_label("api_key.deleted", exact=True).check())
    _swapping(page, lambda: page.locator("#id_project").select_option(project_id))
    assert f"project={project_id}" in page.url
    assert "type=api_key.deleted" in page.url

    title = page.locator("#results-title")
    assert title.inner_text().startswith(f"{expected} event")
    rows = page.locator(".audit-table tbody tr")
    assert rows.count() == expected
    for text in rows.all_inner_texts():
        assert "api_key.deleted" in text
        assert project_name in text
    chips = page.locator(".chips").inner_text()
    assert "Type: api_key.deleted" in chips
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"audit-log-filtered-{theme}")

    rows.first.locator("a.event-link").click()
    drawer = page.locator("#drawer")
    drawer.locator("#event-sentence").wait_for()
    sentence = drawer.locator("#event-sentence").inner_text()
    assert " deleted API key " in sentence
    assert sentence.endswith(f"in {project_name}")
    diff = drawer.locator("#event-diff")
    assert "state" in diff.inner_text()
    assert "deleted" in diff.locator("td.after").last.inner_text()
    assert "event=" in page.url  # the open event is part of the address
    page.evaluate("window.scrollTo(0, 0)")
    # What the person sees: the drawer over the viewport (a full-page shot stretches it).
    page.screenshot(path=str(screenshot(page, f"audit-log-drawer-{theme}")), full_page=False)

    page.keyboard.press("Escape")
    assert drawer.inner_html() == ""
    assert "event=" not in page.url
    assert page.js_errors == []


def test_it_opens_a_day_from_the_chart(page, login, synced):
    login(UserFactory(username="auditor-chart", role=Role.AUDITOR))
    page.goto("/audit-log/")
    chart = page.locator("#audit-chart[data-rendered]")
    chart.wait_for()
    box = page.locator("#audit-chart .barlayer .point path").last.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url("**start=*&end=*")
    start = page.locator("#id_start").input_value()
    last = page.locator("#id_last").input_value()  # "Until" is the last day shown, included
    assert last == start  # one day
    assert f"end={dt.date.fromisoformat(start) + dt.timedelta(days=1)}" in page.url
    assert page.locator(".audit-table tbody tr").count() > 0
    assert page.js_errors == []


def test_it_explains_a_bad_filter_beside_it(page, login, synced):
    login(UserFactory(username="auditor-bad", role=Role.AUDITOR))
    page.goto("/audit-log/?start=2025-03-10&end=2025-03-01&type=api_key.exploded&page=999999")
    assert "The end must be after the start" in page.locator("#id_last_error").inner_text()
    assert "Unknown event type" in page.locator("#id_type_error").inner_text()
    assert "There is no page 999,999" in page.locator(".pagination").inner_text()
    screenshot(page, "audit-log-bad-filters")
    assert page.js_errors == []
