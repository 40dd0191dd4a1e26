"""What a connection's admin key may change, asked without changing anything (issue 17, item 5's
acceptance): adding a connection, replacing its key and "Check again" aim one change per area at
an id no object has. OpenAI checks the key's scopes before it looks the id up, so a key that may
not change the area is refused (401, "Missing scopes") and one that may gets a 404. Management
pages then show no control the key may not use from the first visit, and say why.
"""

from __future__ import annotations

import json

import httpx
import pytest
from django.urls import reverse

from orgadmin.areas import AREAS
from orgadmin.client import install_transport
from orgadmin.models import ActionLog, KeyArea, Organization, OrgUser, SyncRun
from orgadmin.simulator.scopes import parse_permissions
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.orgadmin.test_directory_sync import cached_directory, truth
from tests.orgadmin.test_restricted_keys import text
from tests.restricted_keys import changes_offered, management_pages, restrict, restricted_org

HX = {"HX-Request": "true"}
# The areas the dashboard changes things in (the audit log, usage and costs are only read).
CHANGED_AREAS = {"members", "projects", "keys", "certificates", "rate_limits", "groups_roles"}
CHANGED_AREAS |= {"settings"}


def _key(simulator, permissions: str) -> str:
    """A new admin key at the simulator with these permissions; returns its secret value."""
    value = f"sk-admin-{permissions.replace('=', '-').replace(',', '-')}-0000000000000000000"
    simulator.store.admin_key_add(value, permissions=parse_permissions(permissions))
    return value


def _add(client, admin_key: str, name: str = "Acme") -> Organization:
    response = client.post(
        reverse("orgadmin:connections"),
        {"name": name, "base_url": SIM_BASE_URL, "admin_key": admin_key},
        follow=True,
    )
    assert response.status_code == 200
    assert "The key works." in text(response)
    return Organization.objects.get(name=name)


def _why(area: str) -> str:
    return f"This connection's admin key can only read {AREAS[area].label}"


def test_a_connection_added_with_a_read_only_key_offers_no_change_from_the_first_visit(
    client_as, admin, simulator
):
    """The acceptance: a read-only key syncs everything it may read, and its management pages
    show no write control and say why, before anyone has tried a change."""
    events_before = len(simulator.store.audit_event_ids(include_tenant=True))
    c = client_as(admin)

    org = _add(c, _key(simulator, "read_only"))

    assert org.key_limits == dict.fromkeys(CHANGED_AREAS, "read")
    assert not KeyArea.objects.filter(org=org, can_read=False).exists()
    assert "Missing scopes" in KeyArea.objects.filter(org=org).first().message
    # The probes are nobody's action: only the connection's creation is in our Activity log,
    # and the simulator's audit log (OpenAI's) gained nothing.
    assert list(ActionLog.objects.filter(org=org).values_list("action", flat=True)) == [
        "connection.create"
    ]
    assert len(simulator.store.audit_event_ids(include_tenant=True)) == events_before

    directory, audit = directory_sync(org=org), audit_log_sync(org=org)
    assert (directory.status, audit.status) == (SyncRun.Status.SUCCEEDED, SyncRun.Status.SUCCEEDED)
    assert cached_directory(org) == truth(simulator)

    for url, areas in management_pages(org).items():
        page = c.get(url)
        assert page.status_code == 200, url
        assert changes_offered(page.content.decode()) == [], url
        for area in areas:
            assert _why(area) in text(page), (url, area)
    members = text(c.get(reverse("orgadmin:members")))
    assert "Invite people" not in members
    assert "controls to change them are hidden" in members


def test_the_connections_page_says_what_the_new_key_may_only_read(client_as, admin, simulator):
    c = client_as(admin)
    response = c.post(
        reverse("orgadmin:connections"),
        {
            "name": "Acme",
            "base_url": SIM_BASE_URL,
            "admin_key": _key(simulator, "audit_log=none,members=read"),
        },
        follow=True,
    )

    said = text(response)
    assert "It may not read the audit log." in said
    assert "It may only read members and invites." in said
    assert "Restricted key" in said
    org = Organization.objects.get()
    assert org.key_limits == {"audit_log": "none", "members": "read"}


def test_a_key_restricted_per_area_hides_only_that_areas_controls(client_as, admin, simulator):
    c = client_as(admin)
    org = _add(c, _key(simulator, "members=read"))
    directory_sync(org=org)
    assert org.key_limits == {"members": "read"}

    for url, areas in management_pages(org).items():
        page = c.get(url)
        offered = changes_offered(page.content.decode())
        if areas == ("members",):
            assert offered == [], url
        else:
            assert offered, url  # projects, keys, groups…: their controls stay
        if "members" in areas:
            assert _why("members") in text(page), url
        else:
            assert "can only read" not in text(page), url
    assert "orgadmin:project_create" in changes_offered(
        c.get(reverse("orgadmin:projects")).content.decode()
    )
    user = OrgUser.objects.filter(org=org, role="reader").first()
    member = changes_offered(
        c.get(reverse("orgadmin:member", args=[user.openai_id])).content.decode()
    )
    assert {"orgadmin:member_role", "orgadmin:member_remove"}.isdisjoint(member)
    assert "orgadmin:member_project_add" in member  # adding them to a project is a project's change


def test_a_full_key_shows_every_control(client_as, admin, simulator):
    c = client_as(admin)
    org = _add(c, SIM_ADMIN_KEY)
    directory_sync(org=org)

    assert org.key_limits == {}
    assert not KeyArea.objects.filter(org=org).exists()
    for url in management_pages(org):
        page = c.get(url)
        assert changes_offered(page.content.decode()), url
        assert "key-note" not in page.content.decode(), url


def test_replacing_the_key_with_a_read_only_one_hides_the_controls_at_once(
    client_as, admin, org, simulator
):
    directory_sync(org=org)
    c = client_as(admin)
    assert "Send invite" in text(c.get(reverse("orgadmin:invites")))

    response = c.post(
        reverse("orgadmin:connection_key", args=[org.pk]),
        {"admin_key": _key(simulator, "read_only")},
        follow=True,
    )

    assert "It may only read members and invites" in text(response)
    org.refresh_from_db()
    assert org.key_limits == dict.fromkeys(CHANGED_AREAS, "read")
    invites = c.get(reverse("orgadmin:invites"))
    assert changes_offered(invites.content.decode()) == []
    assert _why("members") in text(invites)


class _ChangesFail:
    """The simulator, except that every change is answered `status` (an outage, a rate limit, a
    request it can't read): such an answer says nothing of what the key may do."""

    def __init__(self, app, status: int) -> None:
        self.app, self.status, self.changes = app, status, 0

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "GET":
            return self.app(environ, start_response)
        self.changes += 1
        body = json.dumps({"error": {"message": "Try again later.", "type": "server_error"}})
        start_response(
            f"{self.status} Error",
            [("content-type", "application/json"), ("retry-after-ms", "1")],
        )
        return [body.encode()]


@pytest.mark.parametrize("status", [500, 503, 429, 400])
def test_probes_that_teach_nothing_leave_the_marks_as_they_were(
    client_as, admin, simulator, status
):
    org = restricted_org(simulator, "members=read")
    c = client_as(admin)
    c.post(reverse("orgadmin:connection_verify", args=[org.pk]))
    org.refresh_from_db()
    assert org.key_limits == {"members": "read"}
    learnt = KeyArea.objects.get(org=org)
    restrict(simulator, org, "all")  # the owner frees the key, but OpenAI can't say so now

    failing = _ChangesFail(simulator, status)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=failing)):
        response = c.post(reverse("orgadmin:connection_verify", args=[org.pk]), headers=HX)

    assert failing.changes >= len(CHANGED_AREAS)
    assert "works: the API accepted the key" in text(response)
    org.refresh_from_db()
    assert org.key_limits == {"members": "read"}  # kept: nothing new was learnt
    kept = KeyArea.objects.get(org=org)
    assert (kept.message, kept.request_id) == (learnt.message, learnt.request_id)

    c.post(reverse("orgadmin:connection_verify", args=[org.pk]))  # OpenAI answers again
    org.refresh_from_db()
    assert org.key_limits == {}
    assert "Send invite" in text(c.get(reverse("orgadmin:invites")))
