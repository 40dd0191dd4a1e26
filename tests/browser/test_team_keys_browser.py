"""An Admin manages an xAI team's API keys in Chromium, against the in-process xAI simulator:
creates a key with two ACLs and sees its secret once, rotates it (the new secret once), and
finds both on Activity. The keys page is looked at in both themes and on a 390 px phone, with
axe-core."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from orgadmin.access import Role
from orgadmin.client import install_transport
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.factories import OrganizationFactory, UserFactory
from tests.xai.simulator_support import BASE_URL, KEY, make_app


@pytest.fixture
def xai_sim():
    """The demo team on the real clock (the browser's session cookies live in real time)."""
    app = make_app(now=time.time)
    with install_transport(BASE_URL, httpx.WSGITransport(app=app)):
        yield app


@pytest.fixture
def admin_page(page, login, db, xai_sim):
    OrganizationFactory(
        name="Grok team",
        provider="xai",
        base_url=BASE_URL,
        admin_key=KEY,
        account_id=xai_sim.team_id,
    )
    login(UserFactory(username="admin-xai", role=Role.ADMIN))
    return page


def _confirm(page, expected: str) -> None:
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert expected in dialog.inner_text()
    dialog.get_by_role("button", name="Confirm").click()


def test_an_admin_creates_and_rotates_a_key_and_sees_each_secret_once(admin_page, xai_sim):
    page, store = admin_page, xai_sim.store
    page.goto("/team-keys/")
    page.get_by_role("button", name="New key").click()
    page.wait_for_url(re.compile(r"/team-keys/new/$"))
    page.fill("#id_name", "support-bot")
    page.get_by_label(re.compile(r"\bchat — ")).check()
    model = sorted(m["name"] for m in store.models)[0]
    page.locator(f"input[value='api-key:model:{model}']").check()
    page.fill("#id_qpm", "120")
    page.get_by_role("button", name="Create key").click()
    panel = page.locator(".secret-once-panel")
    panel.wait_for()
    secret = page.input_value("#secret-value")
    key = next(k for k in store.keys.values() if k.name == "support-bot")
    assert secret == key.secret
    assert key.acls == ["api-key:endpoint:chat", f"api-key:model:{model}"]
    assert key.qpm == 120
    settle(page)
    screenshot(page, "team-key-created")
    panel.get_by_role("button", name=re.compile("stored it safely")).click()
    assert page.locator(".secret-once-panel").count() == 0
    assert secret not in page.content()
    page.reload()
    assert secret not in page.content()

    page.goto("/team-keys/")
    row = page.locator(f"#team-key-{key.api_key_id}")
    assert "endpoint: chat" in row.inner_text()
    row.get_by_role("button", name=re.compile("^Rotate")).click()
    page.wait_for_url(re.compile(r"/rotate/$"))
    page.get_by_label("1 hour").check()
    settle(page)
    screenshot(page, "team-key-rotate")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Rotate the secret").click()
    _confirm(page, "Give the API key “support-bot”")
    page.locator(".secret-once-panel").wait_for()
    rotated = page.input_value("#secret-value")
    assert rotated == key.secret != secret
    assert store.secret_valid(secret)  # for an hour yet
    settle(page)
    screenshot(page, "team-key-rotated")
    assert axe_violations(page) == []
    assert f"xai-...{rotated[-4:]}" in page.locator("main").inner_text()
    page.reload()  # the browser would post again: the page is gone instead
    page.goto(f"/team-keys/{key.api_key_id}/rotate/")
    assert rotated not in page.content()

    page.goto("/activity/")
    activity = page.locator("main").inner_text()
    assert "team_key.create" in activity
    assert "team_key.rotate" in activity
    assert "Created the API key “support-bot”" in activity
    assert secret not in page.content()
    assert rotated not in page.content()
    assert page.js_errors == []


def test_the_keys_page_reads_well_in_both_themes_and_on_a_phone(admin_page, xai_sim):
    page = admin_page
    problems = []
    for theme in ("light", "dark"):
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            page.evaluate(f"localStorage.setItem('theme', '{theme}')")
            page.goto("/team-keys/")
            if size == "desktop":  # on a phone the column loads once scrolled into view
                page.locator(".key-live", has_text="of 3").first.wait_for()
            settle(page)
            screenshot(page, f"team-keys-{theme}-{size}")
            where = f"{theme}, {size}"
            if not fits(page, size):
                problems.append(f"{where}: wider than the screen")
            problems += [f"{where}: {v}" for v in axe_violations(page)]
    key = next(k for k in xai_sim.store.keys.values() if k.acls and not k.disabled)
    page.set_viewport_size(SIZES["desktop"])
    page.goto(f"/team-keys/{key.api_key_id}/edit/")
    page.locator(".propagation").wait_for()
    settle(page)
    screenshot(page, "team-key-edit")
    problems += [f"edit page: {v}" for v in axe_violations(page)]
    page.goto("/team-keys/new/")
    settle(page)
    screenshot(page, "team-key-new")
    problems += [f"create page: {v}" for v in axe_violations(page)]
    assert problems == [], "\n".join(problems)
    assert page.js_errors == []
