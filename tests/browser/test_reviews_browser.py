"""An access review end to end in Chromium, against the simulator: an Admin starts a campaign over
two projects, each project's owner signs in and decides, one revocation is carried out through
the API (the simulator's store loses it), the campaign closes, and the evidence report names
the decisions, who made them and OpenAI's request id. The campaign page, a reviewer's view and
the evidence report are looked at in both themes, on a desktop and a 390 px phone, with axe."""

from __future__ import annotations

import re

import pytest

from orgadmin.access import Role
from orgadmin.reviews.models import Campaign
from orgadmin.sync.directory import directory_sync
from tests.browser.conftest import every_look, settle
from tests.factories import TEST_PASSWORD, UserFactory

PROJECTS = ("Analytics Copilot", "Voice Agent")


def _confirm(page, expected: str) -> None:
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert expected in dialog.inner_text()
    dialog.get_by_role("button", name="Confirm").click()


def _signed_in(browser, live_server, user):
    context = browser.new_context(viewport={"width": 1366, "height": 860}, base_url=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors
    page.goto("/accounts/login/")
    page.fill("#id_login", user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


@pytest.fixture
def people(org, simulator):
    directory_sync(org=org)
    store = simulator.store
    owners = {}
    for name in PROJECTS:
        project = next(p for p in store.projects.values() if p.name == name)
        email = min(store.users[u].email for u, m in project.members.items() if m.role == "owner")
        owners[name] = UserFactory(
            username=email.split("@")[0], email=email, roles_on={org: Role.FINANCE}
        )
    admin = UserFactory(username="admin-reviews", role=Role.ADMIN)
    return admin, owners


def _start(page) -> Campaign:
    page.goto("/reviews/")
    page.get_by_role("button", name="Start a review").click()
    page.wait_for_url("**/reviews/start/")
    page.fill("#id_name", "Q4 2026 access review")
    page.get_by_label("Only the projects chosen below").check()
    for name in PROJECTS:
        page.get_by_label(name, exact=True).check()
    page.fill("#id_due_on", "2999-12-31")
    page.get_by_role("button", name="Start the review").click()
    page.wait_for_url(re.compile(r"/reviews/\d+/$"))
    page.locator("#messages", has_text="Started “Q4 2026 access review”").wait_for()
    return Campaign.objects.get()


def _decide(page, item_id: int, decision: str, comment: str = "") -> None:
    row = page.locator(f"#item-{item_id}")
    if comment:
        row.locator("input[name=comment]").fill(comment)
    row.get_by_role("button", name=re.compile(f"^{decision}", re.I)).click()
    settle(page)


def test_a_review_campaign_runs_end_to_end(browser, live_server, people, simulator):
    admin, owners = people
    store = simulator.store
    admin_page = _signed_in(browser, live_server, admin)
    campaign = _start(admin_page)
    items = campaign.items

    # The first reviewer revokes a member of their project, then keeps the rest.
    first = _signed_in(browser, live_server, owners["Analytics Copilot"])
    first.goto(f"/reviews/{campaign.pk}/review/")
    assert "Voice Agent" not in first.locator("main").inner_text()
    leaver = (
        items.filter(project_name="Analytics Copilot", kind="user", via="")
        .exclude(role="owner")
        .first()
    )
    _decide(first, leaver.pk, "Revoke", "Left the team in May")
    first.locator(f"#item-{leaver.pk} .badge", has_text="Revoke").wait_for()
    first.get_by_role("button", name="Keep all remaining").click()
    _confirm(first, "Keep every item")
    first.locator("#review-summary", has_text="All decided").wait_for()

    # The second reviewer is told a revocation needs a reason, and keeps everything.
    second = _signed_in(browser, live_server, owners["Voice Agent"])
    second.goto(f"/reviews/{campaign.pk}/review/")
    key = items.filter(project_name="Voice Agent").first()
    _decide(second, key.pk, "Revoke")
    second.locator(f"#item-{key.pk} .form-error", has_text="Say why").wait_for()
    _decide(second, key.pk, "Keep", "Production key, still used")
    second.locator(f"#item-{key.pk} .badge", has_text="Keep").wait_for()
    second.get_by_role("button", name="Keep all remaining").click()
    _confirm(second, "Keep every item")
    second.locator("#review-summary", has_text="All decided").wait_for()
    problems = every_look(
        second, f"/reviews/{campaign.pk}/review/", "i22-reviews-review", ("Voice Agent", "Keep")
    )

    # The Admin carries out the revocation: the simulator's store loses the member.
    assert leaver.subject_id in store.projects[leaver.project_id].members
    admin_page.goto(f"/reviews/{campaign.pk}/")
    admin_page.get_by_role("button", name="Carry out revocations").click()
    _confirm(admin_page, "Carry out the revocations")
    admin_page.locator("#messages", has_text="Revoked 1").wait_for()
    assert leaver.subject_id not in store.projects[leaver.project_id].members
    leaver.refresh_from_db()
    assert leaver.revocation == "done"
    assert leaver.request_id
    admin_page.get_by_role("button", name="Close the campaign").click()
    _confirm(admin_page, "Close “Q4 2026 access review”")
    admin_page.locator("#messages", has_text="its evidence report is ready").wait_for()
    problems += every_look(
        admin_page, f"/reviews/{campaign.pk}/", "i22-reviews-campaign", ("Closed", "Revoked")
    )

    # The evidence report: every decision, who made it, the request id, no exception.
    admin_page.goto(f"/reviews/{campaign.pk}/evidence/")
    text = admin_page.locator("main").inner_text()
    for expected in (
        leaver.label,
        "Left the team in May",
        "Production key, still used",
        owners["Analytics Copilot"].username,
        owners["Voice Agent"].username,
        leaver.request_id,
        "None: every item was decided",
    ):
        assert expected in text, expected
    problems += every_look(
        admin_page,
        f"/reviews/{campaign.pk}/evidence/",
        "i22-reviews-evidence",
        ("Decisions", leaver.request_id),
    )
    assert problems == [], "\n".join(problems)
    for page in (admin_page, first, second):
        assert page.js_errors == []
