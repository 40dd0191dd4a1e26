"""Each role signs in through the real login page and sees a home page fit for its role."""

from __future__ import annotations

import pytest

from orgadmin.access import Role
from tests.browser.conftest import screenshot
from tests.factories import UserFactory

NAV_BY_ROLE = {
    Role.ADMIN: {"Overview", "Connections"},
    Role.FINANCE: {"Overview"},
    Role.AUDITOR: {"Overview"},
}
HIDDEN_BY_ROLE = {
    Role.ADMIN: set(),
    Role.FINANCE: {"Connections", "Audit log", "Members"},
    Role.AUDITOR: {"Connections", "Costs", "Usage"},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_it_signs_in_each_role_and_shows_its_home_page(page, login, org, role, theme):
    user = UserFactory(username=f"{role.value.lower()}-browser", role=role)
    page.emulate_media(color_scheme=theme)
    login(user)

    # The simulator's organization wears its badge beside its name.
    assert page.locator("h1").first.inner_text() == f"{org.name} Simulator"
    nav = set(page.locator("nav.sidebar a").all_inner_texts())
    assert NAV_BY_ROLE[role] <= nav
    assert not (HIDDEN_BY_ROLE[role] & nav)
    assert page.locator(".user-menu summary").inner_text().startswith(user.username)
    path = screenshot(page, f"home-{role.value.lower()}-{theme}")
    assert path.stat().st_size > 10_000
    assert page.js_errors == []


def test_it_rejects_a_wrong_password_with_a_message(page, db):
    user = UserFactory(username="someone")
    page.goto("/accounts/login/")
    page.fill("#id_login", user.username)
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    assert "correct username and password" in page.locator(".form-error").inner_text()
    assert "/accounts/login/" in page.url


def test_it_toggles_the_theme_and_remembers_it(page, login, org):
    login(UserFactory(username="themer", role=Role.ADMIN))
    page.emulate_media(color_scheme="light")
    page.click("[data-theme-toggle]")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.js_errors == []
