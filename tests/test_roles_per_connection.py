"""Roles per connection (issue 17, item 2): a role is given for all connections or for one, and
a connection someone holds no role on doesn't exist for them.

The walk of every URL as someone with a role on one connection only is in test_access_matrix.py;
here: what such people see and may do, the permission backend, and the migration from groups.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from orgadmin.access import ANY_CONNECTION, Perm, Role, may_use
from orgadmin.backends import RoleBackend, connections_visible
from orgadmin.middleware import SESSION_KEY
from orgadmin.models import ActionLog, Organization, RoleGrant
from tests.factories import OrganizationFactory, UserFactory

OPTION = re.compile(r'<option value="(\d+)"')


@pytest.fixture
def acme(db):
    return OrganizationFactory(name="Acme Prod")


@pytest.fixture
def research(db):
    return OrganizationFactory(name="Acme Research")


@pytest.fixture
def hidden(db):
    return OrganizationFactory(name="Zeta Hidden")


def _look_at(client, org) -> None:
    session = client.session
    session[SESSION_KEY] = org.pk
    session.save()


def _switcher(response) -> set[int]:
    html = response.content.decode()
    select = html[html.index('id="org-switcher"') :]
    return {int(pk) for pk in OPTION.findall(select[: select.index("</select>")])}


def _top_bar_roles(response) -> str:
    html = response.content.decode()
    summary = html[html.index('class="dropdown user-menu"') :]
    return summary[: summary.index("</summary>")]


# --- what people see and may do ---------------------------------------------------------------


def test_it_gives_each_person_their_role_on_each_connection(client, acme, research):
    """Finance on one connection and Admin on another: each role on its own connection."""
    user = UserFactory(username="fran", roles_on={acme: Role.FINANCE, research: Role.ADMIN})
    client.force_login(user)

    _look_at(client, acme)
    assert client.get(reverse("costs")).status_code == 200
    assert client.get(reverse("orgadmin:members")).status_code == 403
    assert client.post(reverse("orgadmin:invite_create"), {}).status_code == 403
    home = client.get(reverse("home"))
    assert "Finance" in _top_bar_roles(home)
    assert "Admin" not in _top_bar_roles(home)
    assert "Members" not in [item["label"] for item in home.context["nav_items"]]

    response = client.post(reverse("orgadmin:switch_org"), {"org": research.pk})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == research.pk
    assert client.get(reverse("orgadmin:members")).status_code == 200
    assert client.get(reverse("costs")).status_code == 200  # an Admin reads costs too
    home = client.get(reverse("home"))
    assert "Admin" in _top_bar_roles(home)
    assert "Finance" not in _top_bar_roles(home)
    assert "Members" in [item["label"] for item in home.context["nav_items"]]


def test_the_switcher_and_the_connections_list_show_only_connections_with_a_role(
    client, acme, research, hidden
):
    user = UserFactory(username="ada", roles_on={acme: Role.ADMIN, research: Role.FINANCE})
    client.force_login(user)
    home = client.get(reverse("home"))
    assert _switcher(home) == {acme.pk, research.pk}
    assert hidden.name not in home.content.decode()

    page = client.get(reverse("orgadmin:connections"))
    assert page.status_code == 200
    rows = [org.pk for org in page.context["orgs"]]
    assert rows == [acme.pk]  # the one they manage; Research they only read
    assert hidden.name not in page.content.decode()
    assert research.name in page.content.decode()  # in the switcher, which is theirs to use


def test_someone_with_a_role_for_all_connections_sees_them_all(client, acme, research, hidden):
    client.force_login(UserFactory(username="olga", role=Role.AUDITOR))
    assert _switcher(client.get(reverse("home"))) == {acme.pk, research.pk, hidden.pk}
    later = OrganizationFactory(name="Added later")
    assert later.pk in _switcher(client.get(reverse("home")))


@pytest.mark.parametrize("value", ["hidden", "gone", "junk", "empty"])
def test_switching_to_a_connection_without_a_role_is_refused(client, acme, hidden, value):
    client.force_login(UserFactory(username="ana", roles_on={acme: Role.ADMIN}))
    org = {"hidden": hidden.pk, "gone": 987654, "junk": "../1", "empty": ""}[value]
    response = client.post(reverse("orgadmin:switch_org"), {"org": org}, follow=True)
    assert response.status_code == 200
    assert response.wsgi_request.org == acme
    assert client.session.get(SESSION_KEY) != hidden.pk
    text = response.content.decode()
    assert "doesn&#x27;t exist any more, or you have no role on it" in text
    assert hidden.name not in text


def test_an_admin_of_one_connection_manages_it_but_adds_and_removes_none(client, acme, research):
    client.force_login(UserFactory(username="cora", roles_on={acme: Role.ADMIN}))
    page = client.get(reverse("orgadmin:connections"))
    html = page.content.decode()
    assert reverse("orgadmin:connection_rename", args=[acme.pk]) in html
    assert reverse("orgadmin:connection_delete", args=[acme.pk]) not in html  # no Remove
    assert 'id="add-connection"' not in html
    assert "An Admin of all connections adds and removes connections" in html

    renamed = client.post(
        reverse("orgadmin:connection_rename", args=[acme.pk]), {"name": "Acme Production"}
    )
    assert renamed.status_code == 302
    acme.refresh_from_db()
    assert acme.name == "Acme Production"

    add = {"name": "Mine", "base_url": "https://api.openai.com/v1", "admin_key": "sk-admin-x" * 3}
    assert client.post(reverse("orgadmin:connections"), add).status_code == 403
    assert client.post(reverse("orgadmin:connection_delete", args=[acme.pk])).status_code == 403
    assert Organization.objects.filter(name="Mine").count() == 0
    assert Organization.objects.filter(pk=acme.pk).exists()
    # Another connection: not theirs, so not there.
    for name in ("orgadmin:connection_rename", "orgadmin:connection_key"):
        assert client.get(reverse(name, args=[research.pk])).status_code == 404
    assert client.post(reverse("orgadmin:connection_verify", args=[research.pk])).status_code == 404


def test_an_admin_of_all_connections_adds_and_removes_them(client, acme, research):
    client.force_login(UserFactory(username="root-ish", role=Role.ADMIN))
    html = client.get(reverse("orgadmin:connections")).content.decode()
    assert 'id="add-connection"' in html
    for org in (acme, research):
        assert reverse("orgadmin:connection_delete", args=[org.pk]) in html
    assert client.post(reverse("orgadmin:connection_delete", args=[research.pk])).status_code == 302
    assert not Organization.objects.filter(pk=research.pk).exists()


def test_someone_with_no_role_is_told_to_ask_an_admin(client, acme):
    client.force_login(UserFactory(username="newcomer"))
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "You have no role on any connection yet" in home.content.decode()
    assert acme.name not in home.content.decode()
    assert home.wsgi_request.org is None
    assert client.get(reverse("costs")).status_code == 403


def test_actions_tied_to_no_connection_are_only_for_people_with_a_role_on_all(client, acme):
    """Such an action (a removed connection, named in it) may be about a connection someone
    never held a role on: the Activity page and its export leave it out for them."""
    ActionLog.objects.create(org=acme, action="project.update", summary="On Acme", outcome="ok")
    ActionLog.objects.create(
        org=None,
        org_name="Gone",
        action="connection.delete",
        summary="Removed “Gone”",
        outcome="ok",
    )
    only_acme = UserFactory(username="aud-one", roles_on={acme: Role.AUDITOR})
    everywhere = UserFactory(username="aud-all", role=Role.AUDITOR)
    for user, sees_gone in ((only_acme, False), (everywhere, True)):
        client.force_login(user)
        page = client.get(reverse("orgadmin:activity")).content.decode()
        export = client.get(reverse("orgadmin:activity_export"))
        csv = b"".join(export.streaming_content).decode()
        assert "On Acme" in page
        assert "On Acme" in csv
        assert ("Removed “Gone”" in page) is sees_gone, user
        assert ("Removed “Gone”" in csv) is sees_gone, user


def test_links_are_offered_per_connection(acme, research):
    user = UserFactory(username="lin", roles_on={acme: Role.FINANCE, research: Role.AUDITOR})
    assert may_use(user, "costs", acme)
    assert not may_use(user, "costs", research)
    assert may_use(user, "orgadmin:audit_log", research)
    assert not may_use(user, "orgadmin:audit_log", acme)
    assert not may_use(user, "costs")  # on every connection at once: no role for all
    assert not may_use(user, "orgadmin:connections", acme)  # an Admin of none


# --- the permission backend ---------------------------------------------------------------------


def test_the_backend_answers_per_connection(acme, research, hidden):
    user = UserFactory(username="bea", roles_on={acme: Role.ADMIN}, role=Role.FINANCE)
    assert user.has_perm(Perm.MANAGE, acme)
    assert not user.has_perm(Perm.MANAGE, research)
    assert user.has_perm(Perm.VIEW_SPEND, research)  # Finance for all connections
    assert user.has_perm(Perm.VIEW_SPEND)  # None: every connection, from the role for all
    assert not user.has_perm(Perm.MANAGE)
    assert user.has_perm(Perm.MANAGE, ANY_CONNECTION)  # the Connections page
    assert user.has_module_perms("orgadmin")
    assert [o.pk for o in connections_visible(user)] == [acme.pk, research.pk, hidden.pk]


def test_a_role_on_one_connection_shows_only_that_one(acme, research):
    user = UserFactory(username="cy", roles_on={research: Role.AUDITOR})
    assert connections_visible(user) == [research]
    assert user.has_perm(Perm.VIEW_AUDIT_LOG, research)
    assert not user.has_perm(Perm.VIEW_AUDIT_LOG, acme)
    assert not user.has_perm(Perm.VIEW_AUDIT_LOG)  # on every connection at once
    assert not user.has_perm(Perm.MANAGE, ANY_CONNECTION)


def test_superusers_hold_every_permission_everywhere_and_inactive_people_none(acme):
    root = UserFactory(username="root", is_superuser=True)
    assert all(root.has_perm(p, acme) and root.has_perm(p) for p in Perm)
    asleep = UserFactory(username="zed", role=Role.ADMIN, is_active=False)
    assert not asleep.has_perm(Perm.MANAGE, acme)
    assert connections_visible(asleep) == []


def test_groups_and_user_permissions_give_no_role(acme):
    """Only grants count: a Django permission given the old way opens nothing."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username="old-way")
    user.user_permissions.add(Permission.objects.get(codename="manage_organization"))
    user = get_user_model().objects.get(pk=user.pk)
    assert not user.has_perm(Perm.MANAGE, acme)
    assert not user.has_perm(Perm.MANAGE)


def test_with_perm_finds_the_holders_on_a_connection(acme, research):
    on_acme = UserFactory(username="w1", roles_on={acme: Role.ADMIN})
    everywhere = UserFactory(username="w2", role=Role.ADMIN)
    UserFactory(username="w3", roles_on={acme: Role.FINANCE})
    holders = RoleBackend().with_perm(Perm.MANAGE, obj=acme, include_superusers=False)
    assert set(holders) == {on_acme, everywhere}
    holders = RoleBackend().with_perm(Perm.MANAGE, obj=research, include_superusers=False)
    assert set(holders) == {everywhere}


def test_a_grant_goes_with_its_connection(acme):
    user = UserFactory(username="dee", roles_on={acme: Role.ADMIN})
    acme.delete()
    assert not RoleGrant.objects.filter(user=user).exists()


# --- the migration from role groups --------------------------------------------------------------

BEFORE = ("orgadmin", "0005_api_capability_and_partial_runs")
AFTER = ("orgadmin", "0006_role_grants")


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_each_group_member_their_role_for_all_connections():
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        old = executor.loader.project_state([BEFORE]).apps
        Group, User = old.get_model("auth", "Group"), old.get_model("auth", "User")
        # (Going back to BEFORE made the role groups again, as the old code had them.)
        roles = ("Admin", "Finance", "Auditor")
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in roles}
        other = Group.objects.create(name="Cooks")
        people = {name: User.objects.create(username=name) for name in ("ann", "ben", "cid")}
        people["ann"].groups.add(groups["Admin"])
        people["ben"].groups.add(groups["Finance"], groups["Auditor"])
        people["cid"].groups.add(other)

        executor = MigrationExecutor(connection)
        executor.migrate([AFTER])
        new = executor.loader.project_state([AFTER]).apps
        grants = new.get_model("orgadmin", "RoleGrant").objects.values_list(
            "user__username", "org", "role"
        )
        assert sorted(grants) == [
            ("ann", None, "Admin"),
            ("ben", None, "Auditor"),
            ("ben", None, "Finance"),
        ]
        names = set(new.get_model("auth", "Group").objects.values_list("name", flat=True))
        assert names == {"Cooks"}  # the role groups are gone; others stay
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
