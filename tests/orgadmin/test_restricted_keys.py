"""Restricted and read-only admin keys (issue 17, item 5): the syncs skip what the key may not
read and say so calmly, a refused change makes its area read-only, and Check again asks again
(what it asks without making a change: tests/orgadmin/test_key_write_probes.py)."""

from __future__ import annotations

import html
import re

from django.urls import reverse

from orgadmin.models import (
    ActionLog,
    AuditEvent,
    Invite,
    KeyArea,
    Organization,
    OrgUser,
    Project,
    ProjectApiKey,
    RateLimit,
    SyncRun,
)
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.orgadmin.test_directory_sync import cached_directory, truth
from tests.restricted_keys import changes_offered, restrict, restricted_org

HX = {"HX-Request": "true"}
NOT_PERMITTED = "Not permitted by this key"


def text(response) -> str:
    """The page as a person reads it: no tags, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_a_read_only_key_syncs_the_whole_directory_and_the_audit_log(simulator, db):
    org = restricted_org(simulator, "read_only")

    directory = directory_sync(org=org)
    audit = audit_log_sync(org=org)

    assert (directory.status, audit.status) == (SyncRun.Status.SUCCEEDED, SyncRun.Status.SUCCEEDED)
    assert cached_directory(org) == truth(simulator)
    assert AuditEvent.objects.filter(org=org).count() == len(
        simulator.store.audit_event_ids(include_tenant=True)
    )
    assert not KeyArea.objects.filter(org=org).exists()  # reading was never refused


def test_a_key_without_the_audit_log_skips_it_calmly_and_syncs_the_rest(
    client_as, admin, simulator, db
):
    org = restricted_org(simulator, "audit_log=none")

    audit = audit_log_sync(org=org)  # no exception: it is how the key is, not a failure
    directory = directory_sync(org=org)

    assert audit.status == SyncRun.Status.NOT_PERMITTED
    assert audit.params["not_permitted"] == ["audit_log"]
    assert audit.requests_made == 0
    assert not AuditEvent.objects.filter(org=org).exists()
    assert directory.status == SyncRun.Status.SUCCEEDED
    assert cached_directory(org) == truth(simulator)
    org.refresh_from_db()
    assert org.key_limits == {"audit_log": "none"}
    area = KeyArea.objects.get(org=org)
    assert (area.area, area.can_read) == ("audit_log", False)
    assert "Missing scopes: api.audit_logs.read" in area.message
    assert area.request_id

    page = client_as(admin).get(reverse("orgadmin:audit_log"))
    assert page.status_code == 200
    assert NOT_PERMITTED in text(page)
    assert "may not read the audit log" in text(page)
    assert "badge-error" not in page.content.decode()  # a note, not an error banner
    members = client_as(admin).get(reverse("orgadmin:members"))
    assert NOT_PERMITTED not in text(members)


def test_it_skips_one_area_of_the_directory_and_keeps_what_was_synced_before(simulator, db):
    org = restricted_org(simulator, "all")
    directory_sync(org=org)
    keys_before = set(ProjectApiKey.objects.filter(org=org).values_list("openai_id", flat=True))
    assert keys_before
    restrict(simulator, org, "keys=none,rate_limits=none")
    store = simulator.store
    # A member leaves meanwhile: the areas still readable follow the API.
    gone = next(u.id for u in store.users.values() if u.role == "reader")
    del store.users[gone]

    run = directory_sync(org=org)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.params["not_permitted"] == ["keys", "rate_limits"]
    assert not OrgUser.objects.filter(org=org, openai_id=gone).exists()
    # Never lost: the keys and limits it may no longer read stay as they were last synced.
    assert set(ProjectApiKey.objects.filter(org=org).values_list("openai_id", flat=True)) == (
        keys_before
    )
    assert RateLimit.objects.filter(project__org=org).exists()
    org.refresh_from_db()
    assert org.key_limits == {"keys": "none", "rate_limits": "none"}


def test_it_asks_an_area_it_may_not_read_once_per_run(simulator, db):
    org = restricted_org(simulator, "projects=none")
    paths: list[str] = []
    app_call = type(simulator).__call__

    def counting(self, environ, start_response):
        paths.append(environ["PATH_INFO"])
        return app_call(self, environ, start_response)

    type(simulator).__call__ = counting
    try:
        directory_sync(org=org)
    finally:
        type(simulator).__call__ = app_call

    assert paths.count("/v1/organization/projects") == 1
    assert not any("/users" in p and "/projects/" in p for p in paths)


def test_a_key_that_may_read_no_part_of_the_directory_ends_the_run_not_permitted(simulator, db):
    finance = next(k for k in simulator.store.admin_keys.values() if k.name == "Finance export")
    org = restricted_org(simulator, "all")
    org.set_admin_key(finance.value)  # the scenario's key that reads usage and costs only
    org.save()

    run = directory_sync(org=org)

    assert run.status == SyncRun.Status.NOT_PERMITTED
    assert not OrgUser.objects.filter(org=org).exists()
    org.refresh_from_db()
    assert set(org.key_limits) >= {"members", "projects", "keys", "groups_roles", "settings"}
    assert set(org.key_limits.values()) == {"none"}


def test_a_refused_change_marks_its_area_read_only_and_hides_its_controls(
    client_as, admin, simulator, db
):
    org = restricted_org(simulator, "read_only")
    directory_sync(org=org)
    c = client_as(admin)
    assert "Send invite" in text(c.get(reverse("orgadmin:invites")))  # nothing known yet

    response = c.post(
        reverse("orgadmin:invite_create"),
        {"email": "new@example.com", "role": "reader", "project_role": "member"},
        headers=HX,
    )

    said = text(response)
    assert "You have insufficient permissions for this operation" in said
    assert "request id req_" in said  # the provider's words and request id, as ever
    assert "can only read members and invites" in said
    assert not Invite.objects.filter(org=org, email="new@example.com").exists()
    failed = ActionLog.objects.get(action="invite.create")
    assert failed.outcome == ActionLog.Outcome.ERROR
    assert failed.request_id
    area = KeyArea.objects.get(org=org)
    assert (area.area, area.can_read, area.can_write) == ("members", True, False)

    invites, members = c.get(reverse("orgadmin:invites")), c.get(reverse("orgadmin:members"))
    for page in (invites, members):
        assert "This connection's admin key can only read members and invites" in text(page)
        assert "Check again" in text(page)
    assert "Send invite" not in text(invites)
    assert reverse("orgadmin:invite_create") not in invites.content.decode()
    assert "Invite people" not in text(members)
    assert "Save role" not in text(members)  # no role change in the rows
    user = OrgUser.objects.filter(org=org).first()
    member = c.get(reverse("orgadmin:member", args=[user.openai_id]))
    assert reverse("orgadmin:member_remove", args=[user.openai_id]) not in member.content.decode()
    # Other areas keep their controls until OpenAI refuses one of their changes.
    assert "New project" in text(c.get(reverse("orgadmin:projects")))


def test_a_read_only_keys_management_pages_show_no_control_once_refused(
    client_as, admin, simulator, db
):
    """Learnt from refusals alone (a connection made before the probes, never checked again):
    after OpenAI refused a change in each area, no page of it offers one, and each says why."""
    org = restricted_org(simulator, "read_only")
    directory_sync(org=org)
    c = client_as(admin)
    project = Project.objects.filter(org=org, status="active").first()
    tries = [
        (
            reverse("orgadmin:invite_create"),
            {"email": "a@example.com", "role": "reader", "project_role": "member"},
        ),
        (reverse("orgadmin:project_create"), {"name": "Not allowed"}),
        (reverse("orgadmin:project_rename", args=[project.openai_id]), {"name": "Nope"}),
        (reverse("orgadmin:group_create"), {"name": "Not allowed"}),
    ]
    for url, data in tries:
        c.post(url, data, headers=HX)

    org.refresh_from_db()
    assert org.key_limits == {"members": "read", "projects": "read", "groups_roles": "read"}
    pages = {
        "members and invites": [reverse("orgadmin:members"), reverse("orgadmin:invites")],
        "projects and their members": [
            reverse("orgadmin:projects"),
            reverse("orgadmin:project", args=[project.openai_id]),
        ],
        "groups and roles": [reverse("orgadmin:groups"), reverse("orgadmin:roles")],
    }
    for label, urls in pages.items():
        for url in urls:
            page = c.get(url)
            assert f"admin key can only read {label}" in text(page), url
            assert changes_offered(page.content.decode()) == [], url  # not one offered
    assert org.status == Organization.Status.OK


def test_check_again_asks_again_what_the_key_may_read_and_change(client_as, admin, simulator, db):
    org = restricted_org(simulator, "audit_log=none,members=read")
    directory_sync(org=org)
    c = client_as(admin)
    c.post(
        reverse("orgadmin:invite_create"),
        {"email": "b@example.com", "role": "reader", "project_role": "member"},
    )
    org.refresh_from_db()
    assert org.key_limits == {"members": "read"}  # the audit log was never asked yet

    response = c.post(reverse("orgadmin:connection_verify", args=[org.pk]), headers=HX)

    assert response.status_code == 200
    said = text(response)
    assert "works: the API accepted the key" in said
    assert "It may not read the audit log" in said
    assert "It may only read members and invites" in said
    assert "Audit log not permitted" in said  # the row lists it
    org.refresh_from_db()
    # The read it may not make is learnt, and the change it may not make is asked again.
    assert org.key_limits == {"audit_log": "none", "members": "read"}
    assert "Send invite" not in text(c.get(reverse("orgadmin:invites")))
    connections = text(c.get(reverse("orgadmin:connections")))
    assert "Restricted key" in connections
    assert "Check again" in connections

    # The owner gives the key the audit log: Check again sees it, and the note goes.
    restrict(simulator, org, "members=read")
    c.post(reverse("orgadmin:connection_verify", args=[org.pk]))
    org.refresh_from_db()
    assert org.key_limits == {"members": "read"}
    assert NOT_PERMITTED not in text(c.get(reverse("orgadmin:audit_log")))

    # Then write access to members: Check again shows the controls again.
    restrict(simulator, org, "all")
    c.post(reverse("orgadmin:connection_verify", args=[org.pk]))
    org.refresh_from_db()
    assert org.key_limits == {}
    assert not KeyArea.objects.filter(org=org).exists()
    assert "Send invite" in text(c.get(reverse("orgadmin:invites")))


def test_a_sync_that_reads_an_area_again_clears_its_mark(simulator, db):
    org = restricted_org(simulator, "audit_log=none")
    audit_log_sync(org=org)
    restrict(simulator, org, "all")

    run = audit_log_sync(org=org)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert AuditEvent.objects.filter(org=org).exists()
    org.refresh_from_db()
    assert org.key_limits == {}
    assert not KeyArea.objects.filter(org=org).exists()


def test_replacing_the_key_forgets_what_the_old_one_was_refused(client_as, admin, simulator, db):
    org = restricted_org(simulator, "audit_log=none")
    audit_log_sync(org=org)
    full = "sk-admin-full-access-000000000000000000000"
    simulator.store.admin_key_add(full)

    response = client_as(admin).post(
        reverse("orgadmin:connection_key", args=[org.pk]), {"admin_key": full}
    )

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.key_limits == {}
    assert not KeyArea.objects.filter(org=org).exists()


def test_a_key_that_may_not_list_projects_still_connects(client_as, admin, simulator, db):
    """The key check lists projects; a key refused that for permissions is still a valid key."""
    value = "sk-admin-no-projects-00000000000000000000"
    simulator.store.admin_key_add(value, permissions={"*": "write", "projects": "none"})

    response = client_as(admin).post(
        reverse("orgadmin:connections"),
        {"name": "Acme (no projects)", "base_url": "http://simulator.test/v1", "admin_key": value},
    )

    assert response.status_code == 302
    org = Organization.objects.get(name="Acme (no projects)")
    assert org.status == Organization.Status.OK


def test_the_sync_banner_says_not_permitted_without_alarm(client_as, admin, simulator, db):
    org = restricted_org(simulator, "audit_log=none")
    audit_log_sync(org=org)
    banner = client_as(admin).get(reverse("orgadmin:audit_sync_status"))
    assert NOT_PERMITTED in text(banner)
    assert "badge-error" not in banner.content.decode()
    assert SyncRun.objects.get(org=org).status == SyncRun.Status.NOT_PERMITTED
