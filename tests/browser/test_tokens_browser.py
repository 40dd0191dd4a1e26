"""Access tokens in Chromium: a Finance person makes a token from the user menu, sees it once,
pulls an export with it over real HTTP (as curl or Power BI would), revokes it with the
dialog that names it, and the token gets 401. The page, with active, expired and revoked
tokens, is looked at in both themes on a desktop and a 390 px phone, with axe-core."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from django.utils import timezone

from orgadmin.access import Role
from orgadmin.tokens import services
from orgadmin.tokens.models import AccessToken
from tests.browser.conftest import SIZES, axe_violations, every_look, fits, screenshot, settle
from tests.factories import OrganizationFactory, UserFactory


def _tokens(person) -> None:
    """One active token used an hour ago, one expired, one revoked."""
    now = timezone.now()
    used, _ = services.token_create(user=person, name="Power BI, finance workspace", days=90)
    AccessToken.objects.filter(pk=used.pk).update(last_used_at=now - dt.timedelta(hours=1))
    old, _ = services.token_create(user=person, name="Tableau trial", days=30)
    AccessToken.objects.filter(pk=old.pk).update(
        created_at=now - dt.timedelta(days=40), expires_at=now - dt.timedelta(days=10)
    )
    gone, _ = services.token_create(user=person, name="Old laptop cron", days=365)
    services.token_revoke(token=gone)


def test_the_tokens_page_reads_well_in_both_themes_and_on_a_phone(page, login, db):
    org = OrganizationFactory(name="Acme")
    person = UserFactory(username="fiona-finance", roles_on={org: Role.FINANCE})
    _tokens(person)
    login(person)
    problems = every_look(
        page,
        "/tokens/",
        "i21-tokens",
        ("Active", "Expired", "Revoked", "hour ago", "Costs, daily rows"),
    )
    assert problems == [], "\n".join(problems)
    assert page.js_errors == []


def test_a_token_made_on_the_page_reads_an_export_until_it_is_revoked(page, login, db, live_server):
    org = OrganizationFactory(name="Acme")
    person = UserFactory(username="fiona-finance", roles_on={org: Role.FINANCE})
    login(person)
    page.goto("/")
    page.click(".user-menu summary")
    page.click("text=Access tokens")
    page.wait_for_url("**/tokens/")
    page.fill("#id_name", "Power BI")
    page.select_option("#id_days", "30")
    page.get_by_role("button", name="Create token").click()
    page.locator(".secret-once-panel").wait_for()
    secret = page.input_value("#secret-value")
    settle(page)
    assert re.fullmatch(r"odt_[A-Za-z0-9_-]{43}", secret)
    assert f"odt_…{secret[-4:]}" in page.locator("#token-list").inner_text()  # the list reloaded
    for theme in ("light", "dark"):
        page.evaluate(f"localStorage.setItem('theme', '{theme}')")
        page.reload()  # the answer was a POST's: a reload shows the page without the secret
        settle(page)
        assert secret not in page.content()
    assert page.locator(".secret-once-panel").count() == 0

    export = f"{live_server.url}/costs/export.csv"
    with httpx.Client(headers={"Authorization": f"Bearer {secret}"}) as curl:
        assert curl.get(export).status_code == 200
        assert curl.get(f"{live_server.url}/people/").status_code == 403

        page.get_by_role("button", name="Revoke Power BI").click()
        dialog = page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        assert f"Revoke the token “Power BI” (odt_…{secret[-4:]})?" in dialog.inner_text()
        page.emulate_media(color_scheme="dark")
        page.evaluate("localStorage.setItem('theme', 'dark')")
        screenshot(page, "i21-tokens-revoke-dialog-dark-desktop")
        dialog.get_by_role("button", name="Confirm").click()
        page.locator("#token-list .badge", has_text="Revoked").wait_for()
        settle(page)
        screenshot(page, "i21-tokens-revoked-dark-desktop")
        refused = curl.get(export)
    assert refused.status_code == 401
    assert "was revoked on" in refused.text
    assert axe_violations(page) == []
    assert page.js_errors == []


def test_the_new_token_panel_in_both_themes(page, login, db):
    org = OrganizationFactory(name="Acme")
    person = UserFactory(username="audrey-auditor", roles_on={org: Role.AUDITOR})
    login(person)
    problems = []
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            page.evaluate(f"localStorage.setItem('theme', '{theme}')")
            page.goto("/tokens/")
            page.fill("#id_name", f"Splunk {theme} {size}")
            page.get_by_role("button", name="Create token").click()
            page.locator(".secret-once-panel").wait_for()
            settle(page)
            screenshot(page, f"i21-tokens-created-{theme}-{size}")
            where = f"{theme}, {size}"
            if not fits(page, size):
                problems.append(f"{where}: wider than the screen")
            problems += [f"{where}: {v}" for v in axe_violations(page)]
    assert problems == [], "\n".join(problems)
    assert page.js_errors == []
