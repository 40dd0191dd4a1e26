"""The hygiene page and the bulk revoke's preview in Chromium, on the demo organization synced:
looked at in both themes on a desktop and a 390 px phone, with axe-core; then an Admin ticks
two keys, reads the preview, and revokes them."""

from __future__ import annotations

from orgadmin.access import Role
from orgadmin.hygiene.models import Finding
from orgadmin.hygiene.refresh import hygiene_refresh
from orgadmin.hygiene.rules import Kind
from tests.browser.conftest import SIZES, every_look, screenshot, settle
from tests.factories import UserFactory
from tests.hygiene.conftest import sync_all


def _checked(org) -> None:
    sync_all(org)
    hygiene_refresh(org=org)


def test_the_hygiene_page_and_the_preview_read_well(page, login, org, simulator):
    _checked(org)
    login(UserFactory(username="admin-hygiene", role=Role.ADMIN))
    lapsed = Finding.objects.get(org=org, kind=Kind.CERT_EXPIRED_ACTIVE)
    problems = every_look(
        page,
        "/hygiene/",
        "i22-hygiene",
        ("Keys", "Members", "Certificates", "Projects", "Where to fix it"),
    )
    assert problems == [], "\n".join(problems)
    assert lapsed.title in page.locator("main").inner_text()
    _rows_are_short_and_fold_their_evidence(page, lapsed)
    _the_kind_filter_narrows_the_list(page, org)

    spending = Finding.objects.filter(org=org, kind=Kind.KEY_SPENDING).first()
    unused = Finding.objects.filter(org=org, kind=Kind.KEY_UNUSED).first()
    path = f"/hygiene/revoke/?key=project:{spending.subject}&key=project:{unused.subject}"
    problems = every_look(
        page, path, "i22-hygiene-preview", ("in use", spending.evidence["project"])
    )
    assert problems == [], "\n".join(problems)
    assert page.js_errors == []


def _rows_are_short_and_fold_their_evidence(page, finding) -> None:
    """On a desktop a finding's row is at most a few lines of text high, its evidence and fix
    hidden until its disclosure opens."""
    page.set_viewport_size(SIZES["desktop"])
    page.goto("/hygiene/")
    settle(page)
    # A title's line, the disclosure's, and one more for a long title or an "in use" chip.
    most = page.evaluate(
        """() => { const cell = getComputedStyle(document.querySelector('td.finding-what'));
        return 3 * parseFloat(cell.lineHeight) + parseFloat(cell.paddingTop)
          + parseFloat(cell.paddingBottom) + 2; }"""
    )
    heights = page.locator("tr.finding").evaluate_all("rows => rows.map(r => r.offsetHeight)")
    assert max(heights) <= most, (most, heights)
    row = page.locator(f"#finding-{finding.pk}")
    assert not row.get_by_text("Fix:").is_visible()
    row.locator("summary", has_text="evidence and fix").click()
    assert row.get_by_text("Fix:").is_visible()
    assert row.locator(".hygiene-evidence").is_visible()
    row.get_by_text("Accept…").click()
    screenshot(page, "i22-hygiene-open-desktop")


def _the_kind_filter_narrows_the_list(page, org) -> None:
    gone = Finding.objects.filter(org=org, kind=Kind.KEY_OWNER_GONE, resolved_at=None)
    page.goto("/hygiene/")
    page.get_by_label("Kind").select_option(label="Key owner no longer a member")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/hygiene/?*kind=key_owner_gone*")
    shown = page.locator("tr.finding").evaluate_all("rows => rows.map(r => r.id)")
    assert sorted(shown) == sorted(f"finding-{f.pk}" for f in gone)
    assert page.get_by_role("button", name="Show").count() == 0


def test_an_admin_revokes_ticked_keys_after_the_preview(page, login, org, simulator):
    _checked(org)
    login(UserFactory(username="admin-hygiene", role=Role.ADMIN))
    page.goto("/hygiene/")
    boxes = page.locator("input[name=key][form=bulk-revoke]")
    chosen = [boxes.nth(0).get_attribute("value"), boxes.nth(1).get_attribute("value")]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Revoke the ticked keys…").click()
    page.wait_for_url("**/hygiene/revoke/?*")
    assert page.locator("table.revoke-preview tbody tr").count() == 2
    page.get_by_role("button", name="Revoke the ticked keys").click()
    page.locator("#confirm-dialog").wait_for(state="visible")
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/hygiene/revoke/confirm/")
    settle(page)
    assert "Revoked 2 of 2 keys" in page.locator("h1").inner_text()
    ids = {ref.partition(":")[2] for ref in chosen}
    assert not ids & set(simulator.store.api_keys)
