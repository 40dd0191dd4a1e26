"""Two-factor authentication in Chromium: set up an authenticator app from the user menu, then
sign in with a code from it."""

from __future__ import annotations

from orgadmin.access import Role
from tests.browser.conftest import SERIOUS, axe_violations, screenshot
from tests.factories import TEST_PASSWORD, UserFactory
from tests.orgadmin.test_sign_in_mfa import code_for


def test_it_sets_up_an_authenticator_app_and_signs_in_with_its_code(page, login, org):
    user = UserFactory(username="tess", role=Role.ADMIN)
    login(user)
    page.click(".user-menu summary")
    page.click("text=Two-factor authentication")
    page.click("text=Set up an authenticator app")
    assert page.locator("img.totp-qr").is_visible()
    page.click("text=Can't scan? Enter this key instead")
    secret = page.locator(".totp-secret").inner_text().strip()
    assert axe_violations(page, impacts=SERIOUS) == []
    screenshot(page, "two-factor-setup")
    page.fill("#id_code", code_for(secret))
    page.click("button[type=submit]:has-text('Turn on')")
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10

    page.click(".user-menu summary")
    page.click("text=Sign out")
    page.goto("/accounts/login/")
    page.fill("#id_login", user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/")
    assert axe_violations(page, impacts=SERIOUS) == []
    page.fill("#id_code", codes[0])  # a recovery code: the app's code of this period is spent
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url(lambda url: "/accounts/" not in url)
    assert page.locator(".user-menu summary").inner_text().startswith(user.username)
    assert page.js_errors == []
