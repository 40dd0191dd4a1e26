"""A read-only admin key in Chromium: right after Check again, before anyone has tried a change,
no management page offers one, and each says why. In both themes, on a desktop and a 390 px
phone, with axe-core, and nothing spilling sideways."""

from __future__ import annotations

from orgadmin.access import Role
from orgadmin.areas import AREAS
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.factories import UserFactory
from tests.restricted_keys import changes_offered, management_pages, restricted_org


def test_a_read_only_key_offers_no_change_from_the_first_visit_and_says_why(page, login, simulator):
    org = restricted_org(simulator, "read_only")  # nothing known of it yet
    directory_sync(org=org)
    audit_log_sync(org=org)
    pages = management_pages(org)
    login(UserFactory(username="admin-readonly", role=Role.ADMIN))

    page.goto("/connections/")
    page.get_by_role("button", name="Check again").click()
    page.wait_for_selector("#messages:has-text('It may only read members and invites')")
    settle(page)
    assert "Restricted key" in page.locator(f"#connection-{org.pk}").inner_text()

    problems = []
    for number, (path, areas) in enumerate(pages.items()):
        for theme in ("light", "dark"):
            for size in SIZES:
                page.set_viewport_size(SIZES[size])
                page.evaluate(f"localStorage.setItem('theme', '{theme}')")
                page.goto(path)
                settle(page)
                where = f"{path} ({theme}, {size})"
                main = page.locator("main")
                if offered := changes_offered(main.inner_html()):
                    problems.append(f"{where}: offers {offered}")
                notes = " ".join(page.locator(".key-note").all_inner_texts())
                for area in areas:
                    if f"admin key can only read {AREAS[area].label}" not in notes:
                        problems.append(f"{where}: no note saying why for {area}")
                if not fits(page, size):
                    problems.append(f"{where}: wider than the screen")
                problems += [f"{where}: {v}" for v in axe_violations(page)]
                if number < 2:
                    screenshot(page, f"restricted-key-{number}-{theme}-{size}")
    assert problems == [], "\n".join(problems)
    assert page.js_errors == []
