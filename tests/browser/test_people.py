"""The acceptance of issue 17's People page, in Chromium: an Admin invites a Finance colleague
for one organization only (of two); in a browser of their own they accept, set a password and
enrol TOTP; then they see that organization's costs and nothing of the other, not even by typing
its URLs. The People page and the accept page, in both themes, on a desktop and a 390 px phone,
with axe-core."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.contrib.auth import get_user_model
from django.utils import timezone

from dashboard.models import CostBucket
from orgadmin.access import Role
from orgadmin.models import Project, RoleGrant
from tests.browser.conftest import SIZES, axe_violations, fits, screenshot, settle
from tests.factories import OrganizationFactory, UserFactory
from tests.orgadmin.test_sign_in_mfa import code_for

PASSWORD = "lantern quietly folds 9 maps"
THEMES = ("light", "dark")


def _org_with_costs(name: str):
    org = OrganizationFactory(name=name)
    today = timezone.now().astimezone(dt.UTC).date()
    Project.objects.create(org=org, openai_id="proj_0", name=f"{name} chatbot")
    for days in range(1, 8):
        CostBucket.objects.create(
            org=org, day=today - dt.timedelta(days=days), line_item="gpt-5, input",
            project_id="proj_0", api_key_id="", currency="usd",
            amount=Decimal(3) + Decimal(days) / 10, quantity=1000 * days, quantity_unit="tokens",
        )  # fmt: skip
    return org


def _look(page, name: str, problems: list[str]) -> None:
    """Screenshot the page as it is in every theme and size, with axe and the width check."""
    for theme in THEMES:
        page.evaluate(f"localStorage.setItem('theme', '{theme}')")
        for size in SIZES:
            page.set_viewport_size(SIZES[size])
            page.reload()
            settle(page)
            screenshot(page, f"{name}-{theme}-{size}")
            where = f"{name}, {theme}, {size}"
            if not fits(page, size):
                problems.append(f"{where}: wider than the screen")
            problems += [f"{where}: {v}" for v in axe_violations(page)]
    page.set_viewport_size(SIZES["desktop"])


def test_an_admin_invites_a_finance_colleague_for_one_organization(
    page, login, browser, live_server
):
    prod, research = _org_with_costs("Acme Prod"), _org_with_costs("Acme Research")
    admin = UserFactory(username="ada", first_name="Ada", role=Role.ADMIN)
    UserFactory(username="rex", roles_on={research: Role.AUDITOR, prod: Role.FINANCE})
    problems: list[str] = []

    login(admin)
    page.click("nav.sidebar >> text=People")
    page.wait_for_url("**/people/")
    _look(page, "people", problems)

    # Invite: Finance on Acme Prod only.
    page.fill("#id_email", "Finn.Colleague@Example.com")
    page.select_option("#id_role", "Finance")
    page.select_option("#id_connection", label="Acme Prod")
    page.click("#invite-card button[type=submit]")
    page.wait_for_selector("#invite-link")
    settle(page)
    link = page.input_value("#invite-link")
    assert link.startswith(f"{live_server.url}/people/accept/")
    assert "finn.colleague@example.com" in page.locator("#people-live").inner_text()
    screenshot(page, "people-invited")

    # The colleague, in a browser of their own.
    theirs = browser.new_context(viewport=SIZES["desktop"], base_url=live_server.url)
    them = theirs.new_page()
    errors: list[str] = []
    them.on("pageerror", lambda e: errors.append(str(e)))
    them.goto(link)
    assert "/people/accept/invitation/" in them.url  # the token left the address bar
    assert "Finance" in them.locator("main").inner_text()
    assert "Acme Prod" in them.locator("main").inner_text()
    _look(them, "people-accept", problems)
    assert them.input_value("#id_username") == "finn.colleague"
    them.fill("#id_name", "Finn Colleague")
    them.fill("#id_password1", PASSWORD)
    them.fill("#id_password2", PASSWORD)
    them.click("button[type=submit]")
    them.wait_for_url(lambda url: "/people/accept/" not in url)
    assert them.locator(".user-menu summary").inner_text().startswith("finn.colleague")

    # TOTP: the code from the secret allauth keeps, as an authenticator app computes it.
    them.click(".user-menu summary")
    them.click("text=Two-factor authentication")
    them.click("text=Set up an authenticator app")
    them.click("text=Can't scan? Enter this key instead")
    secret = them.locator(".totp-secret").inner_text().strip()
    them.fill("#id_code", code_for(secret))
    them.click("button[type=submit]:has-text('Turn on')")
    assert them.locator(".recovery-codes li").count() == 10
    finn = get_user_model().objects.get(username="finn.colleague")
    stored = Authenticator.objects.get(user=finn, type=Authenticator.Type.TOTP)
    assert decrypt(stored.data["secret"]) == secret
    assert [(g.role, g.org) for g in RoleGrant.objects.filter(user=finn)] == [("Finance", prod)]

    # Acme Prod's costs, and nothing of Acme Research.
    them.goto("/costs/?preset=7d&group_by=project_id")
    assert them.locator("h1").first.inner_text().startswith("Costs")
    assert them.locator(".org-name").inner_text() == "Acme Prod"
    assert them.locator("#org-switcher").count() == 0
    assert "Acme Prod chatbot" in them.locator("main").inner_text()
    assert "Acme Research" not in them.content()
    for path in (
        f"/connections/{research.pk}/rename/",
        f"/connections/{research.pk}/key/",
        "/connections/",
        "/all/",
        "/all/costs/",
        "/people/",
    ):
        response = them.goto(path)
        assert response.status in (403, 404), path
        assert "Acme Research" not in them.content(), path
    token = next(c["value"] for c in theirs.cookies() if c["name"] == "csrftoken")
    switched = them.request.post(
        "/switch-org/",
        form={"org": str(research.pk), "csrfmiddlewaretoken": token},
        headers={"Referer": f"{live_server.url}/costs/"},
    )
    assert switched.status < 500
    them.goto("/costs/?preset=7d&group_by=project_id")
    assert them.locator(".org-name").inner_text() == "Acme Prod"
    assert "Acme Research" not in them.content()
    assert "Acme Prod chatbot" in them.locator("main").inner_text()
    theirs.close()

    # The Admin sees them on People: Finance on Acme Prod, password, two-factor on.
    page.goto("/people/")
    row = page.locator("#people-live tr", has_text="finn.colleague").inner_text()
    assert "Finance · Acme Prod" in row
    assert "Password" in row
    assert "On" in row
    assert "Open invitations" not in page.locator("#people-live").inner_text()  # accepted
    assert problems == []
    assert page.js_errors == []
    assert errors == []
