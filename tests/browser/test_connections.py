"""An Admin manages connections in a real browser: htmx form, inline rename, confirm dialog."""

from __future__ import annotations

from orgadmin.access import Role
from orgadmin.models import Organization
from tests.browser.conftest import screenshot
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.factories import UserFactory


def test_it_adds_renames_and_removes_a_connection(page, login, simulator):
    login(UserFactory(username="admin-conn", role=Role.ADMIN))
    page.goto("/connections/")
    assert "Connect your first organization" in page.inner_text("#add-connection")

    page.fill("#id_name", "Acme")
    page.fill("#id_base_url", SIM_BASE_URL)
    page.fill("#id_admin_key", "sk-admin-this-key-is-not-valid-000000")
    page.click("#add-connection button[type=submit]")
    error = page.locator("#id_admin_key_error")
    error.wait_for()
    assert "The API refused this connection" in error.inner_text()
    assert "request id" in error.inner_text()
    assert page.input_value("#id_admin_key") == ""  # the key is never sent back
    screenshot(page, "connections-refused")
    assert not Organization.objects.exists()

    page.fill("#id_admin_key", SIM_ADMIN_KEY)
    page.click("#add-connection button[type=submit]")
    page.wait_for_selector("table tbody tr")
    assert "Connected to “Acme”" in page.inner_text("#messages")
    row = page.locator("table tbody tr").first
    assert "sk-admin-…wxyz" in row.inner_text()

    row.get_by_role("button", name="Check again").click()
    page.wait_for_selector("#messages:has-text('the API accepted the key')")

    page.locator("table tbody tr").first.get_by_role("button", name="Rename").click()
    rename = page.locator("table input[name=name]")
    rename.fill("Acme production")
    rename.press("Enter")
    page.wait_for_selector("td:has-text('Acme production')")
    screenshot(page, "connections-list")

    page.locator("table tbody tr").first.get_by_role("button", name="Remove").click()
    dialog = page.locator("#confirm-dialog")
    assert "Remove the connection “Acme production”" in dialog.inner_text()
    screenshot(page, "connections-confirm-remove")
    dialog.get_by_role("button", name="Confirm").click()
    page.wait_for_selector("text=Connect your first organization")
    assert not Organization.objects.exists()
    assert page.js_errors == []
