"""Lists sort and find (issue 16, item 10, and the pickers of item 14), as a person uses them:
clicking a column header sorts the list (and clicking it again reverses it) without losing the
focus or the search; a 40-member list is crossed with the Tab key in about two stops a row; the
model permissions are picked from a searchable list; the timezone is a search box."""

from __future__ import annotations

import re

import pytest

from orgadmin.access import Role
from tests.browser.conftest import SERIOUS, SIZES, axe_violations, fits, screenshot, settle
from tests.factories import OrganizationFactory, UserFactory
from tests.orgadmin.cache import fill_cache

MEMBERS = 40


@pytest.fixture
def acme(db):
    org = OrganizationFactory(name="Acme")
    fill_cache(org, users=MEMBERS, projects=3)
    return org


def _admin(login, name: str):
    return login(UserFactory(username=name, role=Role.ADMIN))


def _emails(page) -> list[str]:
    return page.locator("#member-live tbody tr td:nth-child(2)").all_inner_texts()


def test_clicking_a_header_sorts_the_list_and_keeps_the_search_and_the_focus(page, login, acme):
    _admin(login, "adm-sort")
    page.goto("/members/")
    page.fill("#member-q", "person1")  # person1, person10…person19
    page.wait_for_url(re.compile(r"q=person1"))
    settle(page)
    shown = _emails(page)
    assert shown == sorted(shown)
    assert len(shown) == 11

    page.click("#sort-email")
    page.wait_for_url(re.compile(r"sort=-email"))
    settle(page)
    assert _emails(page) == sorted(shown, reverse=True)
    assert page.get_attribute("th:has(#sort-email)", "aria-sort") == "descending"
    assert "q=person1" in page.url  # the search stayed
    assert page.input_value("#member-q") == "person1"

    # Keyboard: the focus is still on the header after the swap; Enter reverses the order.
    assert page.evaluate("document.activeElement.id") == "sort-email"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"sort=email"))
    settle(page)
    assert _emails(page) == shown
    assert page.get_attribute("th:has(#sort-email)", "aria-sort") == "ascending"

    # Searching again keeps the chosen order (the hidden `sort` input of the filter form).
    page.click("#sort-added")
    page.wait_for_url(re.compile(r"sort=-added"))
    settle(page)
    page.fill("#member-q", "person")
    page.wait_for_url(re.compile(r"q=person(&|$)"))
    settle(page)
    assert "sort=-added" in page.url
    assert _emails(page)[0] == "person39@example.com"  # the newest member first
    assert page.js_errors == []


def test_the_tab_key_crosses_a_40_member_list_in_two_stops_a_row(page, login, acme):
    _admin(login, "adm-tabs")
    page.goto("/members/")
    settle(page)
    rows = page.locator("#member-live tbody tr")
    assert rows.count() == MEMBERS
    last = rows.nth(MEMBERS - 1).locator("summary")

    page.focus("#member-q")
    presses = 0
    while not last.evaluate("el => el === document.activeElement"):
        page.keyboard.press("Tab")
        presses += 1
        assert presses < 2 * MEMBERS + 15, "the last row is still out of reach"
    assert presses <= 2 * MEMBERS + 12

    # The row's menu opens from the keyboard and its controls come next in the tab order.
    page.keyboard.press("Enter")
    assert rows.nth(MEMBERS - 1).locator("details").evaluate("el => el.open")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "role"
    page.keyboard.press("Tab")
    assert "Save role" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Tab")
    assert "Remove from organization" in page.evaluate("document.activeElement.textContent")


def test_the_model_picker_filters_as_one_types(page, login, acme):
    _admin(login, "adm-models")
    page.goto("/projects/proj_0000/permissions/")
    settle(page)
    picks = page.locator("#model-picks label")
    assert picks.count() == 2  # dall-e-3 and gpt-4o-mini, the organization's models
    assert page.is_checked("#model-picks input[value='gpt-4o-mini']")
    page.fill("#model-search", "dall")
    page.keyboard.press("Enter")  # filters; doesn't send the form
    visible = page.locator("#model-picks label:visible").all_inner_texts()
    assert [t.strip() for t in visible] == ["dall-e-3"]
    assert page.url.endswith("/permissions/")


# (page, path, what to do before looking, where axe looks)
LOOKS = {
    "members": ("/members/?sort=-projects", "#member-live tbody tr:first-child summary", "main"),
    "keys": ("/keys/?sort=-last_used", None, "main"),
    "projects": ("/projects/?status=all&sort=-members", None, "main"),
    "permissions": ("/projects/proj_0000/permissions/", None, "#models-form"),
    "costs-timezone": ("/costs/?tz=Europe/Paris", None, ".filter-bar"),
}


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(LOOKS))
def test_sorted_lists_and_pickers_read_well(page, login, acme, name, theme, size):
    path, click, within = LOOKS[name]
    page.set_viewport_size(SIZES[size])
    _admin(login, f"adm-{name}-{theme}-{size}")
    page.evaluate(f"localStorage.setItem('theme', '{theme}')")
    page.goto(path)
    settle(page)
    if click:
        page.click(click)
    screenshot(page, f"lists-{name}-{theme}-{size}")

    assert fits(page, size)
    assert axe_violations(page, within=within, impacts=SERIOUS) == []
    if name != "permissions" and name != "costs-timezone":
        assert page.locator("th[aria-sort]").count() == 1


def test_a_timezone_typed_loosely_applies_when_leaving_the_field(page, login, acme):
    _admin(login, "adm-tz")
    page.goto("/costs/")
    settle(page)
    assert page.locator("#tz-names option").count() > 500
    page.fill("input[name=tz]", "paris")
    assert "tz=" not in page.url  # nothing applies while typing
    page.keyboard.press("Tab")
    page.wait_for_url(re.compile(r"tz=Europe%2FParis"))
    settle(page)
    assert page.input_value("input[name=tz]") == "Europe/Paris"

    page.fill("input[name=tz]", "Atlantis")
    page.keyboard.press("Enter")
    page.wait_for_selector("#tz-error")
    assert "Unknown timezone “Atlantis”" in page.inner_text("#tz-error")
    screenshot(page, "lists-costs-timezone-error")
