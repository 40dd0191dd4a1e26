"""An xAI team's Billing page in Chromium, against the in-process xAI simulator: looked at in both
themes, on a desktop and a 390 px phone, with an invoice's lines open, and checked with axe-core;
an Admin sets the soft limit through the confirmation dialog and sees it change."""

from __future__ import annotations

import time

import httpx
import pytest

from orgadmin.access import Role
from orgadmin.client import install_transport
from orgadmin.xai.simulator import create_app
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.factories import OrganizationFactory, UserFactory
from tests.xai.simulator_support import BASE_URL, KEY


@pytest.fixture
def xai_sim():
    """The demo team on the real clock (the page's "last 12 months" is the real clock's)."""
    app = create_app(scenario="demo", seed=0, management_keys=[KEY], now=time.time)
    with install_transport(BASE_URL, httpx.WSGITransport(app=app)):
        yield app


@pytest.fixture
def team(db, xai_sim):
    return OrganizationFactory(
        name="Grok team",
        provider="xai",
        base_url=BASE_URL,
        admin_key=KEY,
        account_id=xai_sim.team_id,
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_billing_page_reads_well_everywhere(page, login, team, theme, size):
    page.set_viewport_size(SIZES[size])
    login(UserFactory(username=f"admin-billing-{theme}-{size}", role=Role.ADMIN))
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    page.goto("/billing/")
    settle(page)
    first = page.locator("tr.invoice-lines details").first
    first.locator("summary").click()
    assert first.locator("table.billing-lines tbody tr").count() > 0
    screenshot(page, f"billing-{theme}-{size}")

    assert page.get_by_role("heading", name="This month so far").is_visible()
    assert page.locator("#soft-limit-form").is_visible()
    assert "never buys" in page.locator("body").inner_text()
    assert fits(page, size)
    assert axe_violations(page) == []
    assert page.js_errors == []


def test_an_admin_sets_the_soft_limit_through_the_dialog(page, login, team, xai_sim):
    login(UserFactory(username="admin-billing-limit", role=Role.ADMIN))
    page.goto("/billing/")
    page.fill("#id_amount", "1,200")
    page.get_by_role("button", name="Set the soft limit").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert "0 means prepaid credits only" in dialog.inner_text()
    screenshot(page, "billing-soft-limit-confirm")
    dialog.get_by_role("button", name="Confirm").click()
    page.get_by_text("Set the soft spending limit to $1,200.00.").wait_for()
    settle(page)
    assert xai_sim.store.soft_limit == 120_000
    assert "$1,200.00" in page.locator("#billing-limits").inner_text()
    assert axe_violations(page) == []
    assert page.js_errors == []


def test_a_bad_amount_is_explained_beside_the_field(page, login, team, xai_sim):
    login(UserFactory(username="admin-billing-bad", role=Role.ADMIN))
    page.goto("/billing/")
    page.fill("#id_amount", "9,999,999")
    page.get_by_role("button", name="Set the soft limit").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Confirm").click()
    page.locator("#id_amount_error").wait_for()
    assert "effective hard limit" in page.locator("#id_amount_error").inner_text()
    assert xai_sim.store.soft_limit == 250_000
    settle(page)
    screenshot(page, "billing-soft-limit-refused")
    assert axe_violations(page) == []
