"""A read-only admin key in Chromium: the change OpenAI refuses is explained with its request id,
then the area's controls are gone and a calm note says why; Check again brings them back."""

from __future__ import annotations

from orgadmin.access import Role
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.browser.conftest import screenshot, settle
from tests.factories import UserFactory
from tests.restricted_keys import restricted_org


def test_a_read_only_key_hides_what_openai_refused_and_says_why(page, login, simulator):
    org = restricted_org(simulator, "audit_log=none,members=read")
    directory_sync(org=org)
    audit_log_sync(org=org)
    login(UserFactory(username="admin-readonly", role=Role.ADMIN))

    page.goto("/members/invites/")
    page.fill("#id_email", "newcomer@example.com")
    page.click("#invite button[type=submit]")
    error = page.locator("#invite [role=alert]").first
    error.wait_for()
    assert "insufficient permissions" in error.inner_text()
    assert "request id req_" in error.inner_text()
    screenshot(page, "restricted-key-refused")

    page.reload()
    note = page.locator(".key-note")
    assert "can only read members and invites" in note.inner_text()
    assert page.locator("#invite").count() == 0  # the form is gone
    screenshot(page, "restricted-key-note")

    page.goto("/audit-log/")
    assert "Not permitted by this key" in page.locator(".key-note").inner_text()
    assert page.locator(".badge-error").count() == 0

    page.goto("/connections/")
    page.get_by_role("button", name="Check again").click()
    page.wait_for_selector("#messages:has-text('It may not read the audit log')")
    settle(page)
    page.goto("/members/invites/")
    assert page.locator("#invite").count() == 1  # Check again cleared the refused change
    assert page.js_errors == []
