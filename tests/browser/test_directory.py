"""An Admin manages the organization in Chromium: invites, projects, service accounts, rate
limits, keys and certificates, against the in-process simulator."""

from __future__ import annotations

import re

import pytest

from orgadmin.access import Role
from orgadmin.models import Certificate, Invite, Project, ProjectApiKey, RateLimit, ServiceAccount
from orgadmin.sync.directory import directory_sync
from tests.browser.conftest import screenshot, settle
from tests.factories import UserFactory
from tests.orgadmin.pem import make_pem


@pytest.fixture
def admin_page(page, login, org, simulator):
    """Signed in as an Admin, with the demo organization synced."""
    directory_sync(org=org)
    login(UserFactory(username="admin-browser", role=Role.ADMIN))
    return page


def _project(store):
    return next(
        p
        for p in sorted(store.projects.values(), key=lambda p: p.name)
        if p.archived_at is None and not p.is_default and p.members
    )


def _confirm(page, expected: str, typed: str | None = None) -> None:
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert expected in dialog.inner_text()
    if typed is not None:
        dialog.locator("input[data-confirm-typed]").fill(typed)
    dialog.get_by_role("button", name="Confirm").click()


def test_it_invites_a_user_into_a_project(admin_page, simulator):
    page, store = admin_page, simulator.store
    project = _project(store)
    page.goto("/members/")
    settle(page)
    screenshot(page, "members-list")
    page.get_by_role("button", name="Invite people").click()
    page.wait_for_url(re.compile(r"/members/invites/"))

    page.fill("#id_email", "not-an-email")
    page.click("#invite button[type=submit]")
    page.wait_for_selector("#invite .form-error")
    assert "Enter a valid email address" in page.inner_text("#invite")
    settle(page)
    screenshot(page, "invite-bad-email")

    page.fill("#id_email", "grace.hopper@example.com")
    page.select_option("#id_role", "reader")
    page.get_by_label(project.name, exact=True).check()
    page.select_option("#id_project_role", "owner")
    page.click("#invite button[type=submit]")
    page.wait_for_selector("#messages:has-text('Invited grace.hopper@example.com')")
    row = page.locator("#invite-live tr", has_text="grace.hopper@example.com")
    row.wait_for()
    assert project.name in row.inner_text()
    assert "Pending" in row.inner_text()
    assert page.input_value("#id_email") == ""  # a fresh form for the next one
    settle(page)
    screenshot(page, "invite-sent")
    invite = next(i for i in store.invites.values() if i.email == "grace.hopper@example.com")
    assert invite.projects == [{"id": project.id, "role": "owner"}]
    assert Invite.objects.filter(openai_id=invite.id).exists()
    page.emulate_media(color_scheme="dark")
    settle(page)
    screenshot(page, "invite-sent-dark")
    assert page.js_errors == []


def test_it_creates_a_project_and_a_service_account_and_shows_the_key_once(admin_page, simulator):
    page, store = admin_page, simulator.store
    page.goto("/projects/")
    settle(page)
    screenshot(page, "projects-list")
    page.get_by_role("button", name="New project").click()
    page.fill("#id_name", "Checkout Assistant")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r"/projects/proj_"))
    assert "Created the project “Checkout Assistant”" in page.inner_text("#messages")
    project = Project.objects.get(name="Checkout Assistant")

    page.get_by_role("link", name=re.compile("^Service accounts")).click()
    page.wait_for_url(re.compile(r"/service-accounts/$"))
    page.get_by_label("New service account").fill("checkout-ci")
    page.get_by_role("button", name="Create", exact=True).click()
    panel = page.locator(".secret-once-panel")
    panel.wait_for()
    secret = page.input_value("#secret-value")
    assert secret.startswith("sk-")
    account = next(s for s in store.projects[project.openai_id].service_accounts.values())
    assert any(k.value == secret for k in store.api_keys.values() if k.owner_id == account.id)
    # The list below reloaded with the new account and its (redacted) key.
    page.locator("#project-live td", has_text="checkout-ci").or_(
        page.locator("#project-live input[value=checkout-ci]")
    ).first.wait_for()
    settle(page)
    screenshot(page, "service-account-key-once")
    page.emulate_media(color_scheme="dark")
    settle(page)
    screenshot(page, "service-account-key-once-dark")
    page.emulate_media(color_scheme="light")

    panel.get_by_role("button", name=re.compile("stored it safely")).click()
    assert page.locator(".secret-once-panel").count() == 0
    assert secret not in page.content()
    page.reload()
    assert secret not in page.content()
    assert ServiceAccount.objects.filter(openai_id=account.id).exists()
    assert page.js_errors == []


def test_it_edits_a_rate_limit_inline(admin_page, simulator):
    page, store = admin_page, simulator.store
    project = _project(store)
    limit = sorted(project.rate_limits.values(), key=lambda r: r.model)[0]
    page.goto(f"/projects/{project.id}/rate-limits/")
    row = page.locator("tr", has_text=limit.model).first
    field = row.locator("input[name=max_requests_per_1_minute]")

    field.fill("-3")
    row.get_by_role("button", name="Save").click()
    row.locator(".error-slot", has_text="can't be negative").wait_for()
    settle(page)
    screenshot(page, "rate-limit-error")
    assert store.projects[project.id].rate_limits[limit.id].limits["max_requests_per_1_minute"] > 0

    value = limit.limits["max_requests_per_1_minute"] - 7
    field.fill(f"{value:,}")
    field.press("Enter")  # keyboard: Enter saves the row
    page.wait_for_selector(f"#messages:has-text('Saved the {limit.model} limits')")
    assert (
        store.projects[project.id].rate_limits[limit.id].limits["max_requests_per_1_minute"]
        == value
    )
    page.locator(f"input[name=max_requests_per_1_minute][value='{value:,}']").first.wait_for()
    cached = RateLimit.objects.get(project__openai_id=project.id, openai_id=limit.id)
    assert cached.max_requests_per_1_minute == value
    settle(page)
    screenshot(page, "rate-limit-saved")
    page.emulate_media(color_scheme="dark")
    settle(page)
    screenshot(page, "rate-limit-saved-dark")
    assert page.js_errors == []


def test_it_archives_a_project_after_its_name_is_typed(admin_page, simulator):
    page, store = admin_page, simulator.store
    project = _project(store)
    page.goto(f"/projects/{project.id}/")
    settle(page)
    screenshot(page, "project-members")
    page.get_by_role("button", name="Archive project…").click()
    dialog = page.locator("#confirm-dialog")
    dialog.wait_for(state="visible")
    assert f"Archive the project “{project.name}”?" in dialog.inner_text()
    confirm = dialog.get_by_role("button", name="Confirm")
    assert confirm.is_disabled()
    dialog.locator("input[data-confirm-typed]").fill("wrong name")
    assert confirm.is_disabled()
    settle(page)
    screenshot(page, "project-archive-confirm")
    _confirm(page, "Projects can't be unarchived", typed=project.name)
    page.locator(".notice", has_text="This project is archived").wait_for()
    assert store.projects[project.id].archived_at is not None
    assert Project.objects.get(openai_id=project.id).status == "archived"
    settle(page)
    screenshot(page, "project-archived")
    page.goto("/projects/?status=archived")
    assert project.name in page.inner_text("#project-list-live")
    assert page.js_errors == []


def test_it_deletes_a_key_after_confirming(admin_page, simulator):
    page, store = admin_page, simulator.store
    key = next(
        k
        for k in sorted(store.api_keys.values(), key=lambda k: k.id)
        if k.owner_type == "user" and store.projects[k.project_id].archived_at is None
    )
    page.goto("/keys/")
    settle(page)
    screenshot(page, "keys-list")
    page.fill("#key-q", key.name)
    page.wait_for_url(re.compile(r"[?&]q="))  # the list filtered as we typed
    settle(page)
    row = page.locator("#key-live tr", has_text=key.redacted_value)
    row.wait_for()
    row.get_by_role("button", name="Delete").click()
    _confirm(page, f"Delete the API key “{key.name}”")
    page.wait_for_selector("#messages:has-text('Deleted the API key')")
    row.wait_for(state="detached")
    assert key.id not in store.api_keys
    assert not ProjectApiKey.objects.filter(openai_id=key.id).exists()
    settle(page)
    screenshot(page, "key-deleted")
    assert page.js_errors == []


def test_it_uploads_and_activates_a_certificate(admin_page, simulator, tmp_path):
    page, store = admin_page, simulator.store
    page.goto("/settings/")
    settle(page)
    screenshot(page, "certificates-list")
    page.get_by_role("button", name="Upload a certificate").first.click()

    page.fill(
        "#id_pem", "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----"
    )
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_selector(".form-error")
    assert "doesn't parse as an X.509 certificate" in page.inner_text("main")
    settle(page)
    screenshot(page, "certificate-bad-pem")

    pem_file = tmp_path / "gateway.pem"
    pem_file.write_text(make_pem("gateway.acme.example"))
    page.fill("#id_pem", "")
    page.set_input_files("#id_pem_file", str(pem_file))
    page.get_by_role("button", name="Check and upload").click()
    page.wait_for_url(re.compile(r"/settings/$"))
    assert "It is not active yet" in page.inner_text("#messages")
    row = page.locator("tr", has_text="gateway.acme.example")
    assert "Inactive" in row.inner_text()

    row.locator("input[type=checkbox]").check()
    page.get_by_role("button", name="Activate selected", exact=True).click()
    page.wait_for_selector("#messages:has-text('Activated 1 certificate')")
    page.locator("tr", has_text="gateway.acme.example").locator(".badge-ok").wait_for()
    cert = next(c for c in store.certificates.values() if c.name == "gateway.acme.example")
    assert cert.active is True
    assert Certificate.objects.get(openai_id=cert.id).active is True
    settle(page)
    screenshot(page, "certificate-active")
    page.emulate_media(color_scheme="dark")
    settle(page)
    screenshot(page, "certificate-active-dark")
    assert page.js_errors == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_it_shows_every_directory_page_without_a_script_error(admin_page, simulator, theme):
    page, store = admin_page, simulator.store
    project = _project(store)
    user = next(u for u in store.users.values() if store.user_roles.get(u.id))
    group = sorted(store.groups.values(), key=lambda g: g.id)[0]
    page.emulate_media(color_scheme=theme)
    pages = {
        "member": f"/members/{user.id}/",
        "groups": "/members/groups/",
        "group": f"/members/groups/{group.id}/",
        "roles": "/members/roles/",
        "role-new": "/members/roles/new/",
        "invite-bulk": "/members/invites/bulk/",
        "project-service-accounts": f"/projects/{project.id}/service-accounts/",
        "project-spend": f"/projects/{project.id}/spend/",
        "project-permissions": f"/projects/{project.id}/permissions/",
        "project-groups": f"/projects/{project.id}/groups/",
        "project-certificates": f"/projects/{project.id}/certificates/",
        "settings-spend": "/settings/spend/",
        "settings-retention": "/settings/retention/",
        "admin-keys": "/keys/admin/",
        "activity": "/activity/",
    }
    for name, url in pages.items():
        page.goto(url)
        assert page.locator("main h1").count() >= 1, url
        screenshot(page, f"page-{name}-{theme}")
    assert page.js_errors == []
