"""Cost by person (and a person's drill-down) and Reconciliation in Chromium, on the demo
scenario synced for 30 days: both themes, a desktop and a 390 px phone, axe-core clean."""

from __future__ import annotations

from orgadmin.access import Role
from orgadmin.sync.directory import directory_sync
from tests.attribution.conftest import synced_days
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.factories import UserFactory

PAGES = {
    "cost-by-person": ("/attribution/", ("Cost by person", "attributed")),
    "reconciliation": ("/attribution/reconciliation/", ("Billed", "Unexplained", "By day")),
}


def test_cost_by_person_and_reconciliation_read_well_in_both_themes_and_on_a_phone(
    page, login, org
):
    directory_sync(org=org)
    synced_days(org, 30)
    login(UserFactory(username="fred-finance", role=Role.FINANCE))
    problems = []
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            page.evaluate(f"localStorage.setItem('theme', '{theme}')")
            for name, (url, expected) in PAGES.items():
                page.goto(url)
                settle(page)
                screenshot(page, f"i21-{name}-{theme}-{size}")
                problems += _check(page, f"{name}, {theme}, {size}", expected, size)
            page.goto("/attribution/")
            page.locator(".attribution-table tbody a").first.click()
            settle(page)
            screenshot(page, f"i21-person-{theme}-{size}")
            problems += _check(page, f"person, {theme}, {size}", ("By model", "By key"), size)
    assert problems == []
    assert page.js_errors == []


def _check(page, where: str, expected: tuple[str, ...], size: str) -> list[str]:
    text = page.locator("main").inner_text()
    found = [f"{where}: {e!r} missing" for e in expected if e not in text]
    if not fits(page, size):
        found.append(f"{where}: wider than the screen")
    return found + [f"{where}: {v}" for v in axe_violations(page)]
