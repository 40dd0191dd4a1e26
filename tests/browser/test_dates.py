"""Issue 16, item 8: a date typed on the keyboard is the date applied.

Chromium fires change at each keystroke that makes a whole date ("10/01/2" is the year 0002); the
filter forms must apply the date once, when the person leaves the field, and keep the focus while
they type. Ranges read as people say them, the last day included ("Oct 1 – Dec 6")."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.sync.usage import usage_sync
from orgadmin.access import Role
from orgadmin.sync.audit import audit_log_sync
from orgadmin.templatetags.ui import range_label
from tests.browser.conftest import screenshot, settle
from tests.conftest import SIM_NOW
from tests.factories import UserFactory

NOW = dt.datetime.fromtimestamp(SIM_NOW, dt.UTC)


@pytest.fixture
def synced(org, simulator):
    usage_sync(org=org, start=NOW - dt.timedelta(days=31))
    audit_log_sync(org=org)
    return org


def _type_date(page, selector: str, day: dt.date) -> list[str]:
    """Click the date input's month, type `day` as Chromium shows it (mm/dd/yyyy), key by key;
    the id of the focused element after each key."""
    box = page.locator(selector).bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + box["height"] / 2)  # the month segment
    focus = []
    for key in day.strftime("%m/%d/%Y"):
        page.keyboard.type(key)
        page.wait_for_timeout(40)  # time for a reload, had a keystroke started one
        focus.append(page.evaluate("document.activeElement && document.activeElement.id"))
    return focus


def _tab_out(page, field: str, requests: list[str]) -> None:
    """Tab out of the date input. Chromium's date input takes one Tab itself (from the year to
    its calendar button, focus still on the input): nothing is applied there; the next leaves."""
    page.keyboard.press("Tab")
    page.wait_for_timeout(300)
    assert page.evaluate("document.activeElement.id") == field
    assert requests == []
    page.keyboard.press("Tab")


def test_a_keyboard_typed_date_is_the_date_applied_on_costs(page, login, synced):
    login(UserFactory(username="fin-dates", role=Role.FINANCE))
    page.goto("/costs/?preset=30d")
    page.wait_for_selector("#chart-costs[data-rendered=true]")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/costs/" in r.url else None)
    today = NOW.date()
    typed = today - dt.timedelta(days=20)

    focus = _type_date(page, "#filter-start", typed)

    assert set(focus) == {"filter-start"}  # the focus stayed while typing
    assert requests == []  # no keystroke reloaded the page
    assert "start=" not in page.url
    _tab_out(page, "filter-start", requests)
    page.wait_for_url(lambda url: f"start={typed.isoformat()}" in url)
    settle(page)
    assert len(requests) == 1
    assert "preset" not in page.url
    assert page.input_value("#filter-start") == typed.isoformat()
    assert page.input_value("#filter-last") == today.isoformat()  # the last day, included
    label = range_label(typed, today + dt.timedelta(days=1), this_year=today.year)
    assert page.inner_text("#filter-range") == label
    assert "exclusive" not in page.inner_text("main")
    # After the swap, the focus is where Tab put it: on "To".
    assert page.evaluate("document.activeElement.id") == "filter-last"
    screenshot(page, "dates-costs-typed")
    assert page.js_errors == []


def test_a_keyboard_typed_date_is_the_date_applied_on_the_audit_log(page, login, synced):
    login(UserFactory(username="aud-dates", role=Role.AUDITOR))
    page.goto("/audit-log/")
    page.wait_for_selector("#audit-filters")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/audit-log/" in r.url else None)
    today = NOW.date()
    typed = today - dt.timedelta(days=12)

    focus = _type_date(page, "#id_start", typed)

    assert set(focus) == {"id_start"}
    assert requests == []
    _tab_out(page, "id_start", requests)
    page.wait_for_url(lambda url: f"start={typed.isoformat()}" in url)
    settle(page)
    assert len(requests) == 1
    assert page.input_value("#id_start") == typed.isoformat()
    label = range_label(typed, today + dt.timedelta(days=1), this_year=today.year)
    assert page.inner_text("#results-range") == label
    screenshot(page, "dates-audit-typed")
    assert page.js_errors == []
