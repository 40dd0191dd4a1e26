"""Groups and organization roles: create, rename or edit, delete, and who holds them."""

from __future__ import annotations

import html

from django.urls import reverse

from orgadmin.models import ActionLog, GroupMember, GroupRoleAssignment, OrgGroup, OrgRole
from tests.orgadmin.conftest import HX, changed, logged


def text(response) -> str:
    return html.unescape(response.content.decode())


def _group(store):
    return sorted(store.groups.values(), key=lambda g: g.id)[0]


def test_it_lists_groups_with_their_member_counts(as_admin, synced, store):
    page = text(as_admin.get(reverse("orgadmin:groups")))
    for group in store.groups.values():
        assert group.name in page


def test_it_creates_a_group_and_opens_it(as_admin, synced, store):
    response = as_admin.post(
        reverse("orgadmin:group_create"), {"name": "  Platform   team "}, headers=HX
    )
    group = next(g for g in store.groups.values() if g.name == "Platform team")
    assert response["HX-Redirect"] == reverse("orgadmin:group", args=[group.id])
    assert OrgGroup.objects.get(openai_id=group.id).name == "Platform team"
    logged("group.create")


def test_it_shows_the_apis_refusal_of_a_duplicate_group_name_beside_the_field(
    as_admin, synced, store
):
    existing = _group(store)
    response = as_admin.post(
        reverse("orgadmin:group_create"), {"name": existing.name.upper()}, headers=HX
    )
    body = text(response)
    assert "OpenAI refused to create the group" in body
    assert "HTTP 400" in body
    assert 'aria-invalid="true"' in body
    assert ActionLog.objects.get().outcome == "error"


def test_it_renames_a_group(as_admin, synced, store):
    group = _group(store)
    response = as_admin.post(
        reverse("orgadmin:group_rename", args=[group.id]), {"name": "Renamed"}, headers=HX
    )
    assert changed(response)
    assert store.groups[group.id].name == "Renamed"
    assert OrgGroup.objects.get(openai_id=group.id).name == "Renamed"
    logged("group.update")


def test_it_deletes_a_group(as_admin, synced, store):
    group = _group(store)
    page = text(as_admin.get(reverse("orgadmin:groups")))
    assert f"Delete the group “{group.name}”?" in page
    as_admin.post(reverse("orgadmin:group_delete", args=[group.id]), headers=HX)
    assert group.id not in store.groups
    assert not OrgGroup.objects.filter(openai_id=group.id).exists()
    logged("group.delete")


def test_it_adds_and_removes_a_group_member_by_email(as_admin, synced, store):
    group = _group(store)
    user = next(u for u in store.users.values() if u.id not in group.users)
    response = as_admin.post(
        reverse("orgadmin:group_user_add", args=[group.id]),
        {"user": user.email.upper()},
        headers=HX,
    )
    assert changed(response)
    assert user.id in store.groups[group.id].users
    assert GroupMember.objects.filter(group__openai_id=group.id, user_openai_id=user.id).exists()
    logged("group.user.add")
    assert user.email in text(as_admin.get(reverse("orgadmin:group", args=[group.id])))

    as_admin.post(reverse("orgadmin:group_user_remove", args=[group.id, user.id]), headers=HX)
    assert user.id not in store.groups[group.id].users
    assert not GroupMember.objects.filter(
        group__openai_id=group.id, user_openai_id=user.id
    ).exists()
    logged("group.user.remove")


def test_it_refuses_an_email_that_is_no_member(as_admin, synced, store):
    group = _group(store)
    response = as_admin.post(
        reverse("orgadmin:group_user_add", args=[group.id]),
        {"user": "stranger@example.com"},
        headers=HX,
    )
    assert (
        "No member of the organization has the email “stranger@example.com”. Invite them first."
        in text(response)
    )
    assert not ActionLog.objects.exists()


def test_it_gives_and_takes_a_group_role(as_admin, synced, store):
    group = _group(store)
    role = next(r for r in store.roles.values() if r.id not in group.roles)
    as_admin.post(
        reverse("orgadmin:group_role_assign", args=[group.id]), {"role": role.id}, headers=HX
    )
    assert role.id in store.groups[group.id].roles
    assert GroupRoleAssignment.objects.filter(
        group__openai_id=group.id, role_openai_id=role.id
    ).exists()
    logged("group.role.assign")

    as_admin.post(reverse("orgadmin:group_role_unassign", args=[group.id, role.id]), headers=HX)
    assert role.id not in store.groups[group.id].roles
    logged("group.role.unassign")


def test_it_lists_predefined_and_custom_roles(as_admin, synced, store):
    page = text(as_admin.get(reverse("orgadmin:roles")))
    for role in store.roles.values():
        assert role.name in page
    custom = next(r for r in store.roles.values() if not r.predefined)
    assert reverse("orgadmin:role_edit", args=[custom.id]) in page
    predefined = next(r for r in store.roles.values() if r.predefined)
    assert reverse("orgadmin:role_edit", args=[predefined.id]) not in page


def test_it_creates_edits_and_deletes_a_custom_role(as_admin, synced, store):
    known = sorted({p for r in store.roles.values() for p in r.permissions})
    response = as_admin.post(
        reverse("orgadmin:role_create"),
        {
            "name": "Usage reader",
            "description": "Reads usage",
            "permissions": known[:1],
            "extra_permissions": "api.usage.read",
        },
    )
    assert response.status_code == 302
    role = next(r for r in store.roles.values() if r.name == "Usage reader")
    assert sorted(role.permissions) == sorted({known[0], "api.usage.read"})
    assert OrgRole.objects.get(openai_id=role.id).description == "Reads usage"
    logged("role.create")

    as_admin.post(
        reverse("orgadmin:role_edit", args=[role.id]),
        {"name": "Usage reader", "description": "", "extra_permissions": "api.usage.read"},
    )
    assert store.roles[role.id].permissions == ["api.usage.read"]
    assert OrgRole.objects.get(openai_id=role.id).permissions == ["api.usage.read"]
    logged("role.update")

    as_admin.post(reverse("orgadmin:role_delete", args=[role.id]), headers=HX)
    assert role.id not in store.roles
    assert not OrgRole.objects.filter(openai_id=role.id).exists()
    logged("role.delete")


def test_it_checks_permission_names_before_sending(as_admin, synced, store):
    count = len(store.roles)
    response = as_admin.post(
        reverse("orgadmin:role_create"), {"name": "Bad", "extra_permissions": "read everything"}
    )
    assert "Not permission names: “read”, “everything”." in text(response)
    response = as_admin.post(reverse("orgadmin:role_create"), {"name": "Empty"})
    assert "Pick at least one permission." in text(response)
    assert len(store.roles) == count


def test_it_refuses_to_change_a_predefined_role(as_admin, synced, store):
    predefined = next(r for r in store.roles.values() if r.predefined)
    response = as_admin.post(reverse("orgadmin:role_delete", args=[predefined.id]), headers=HX)
    assert "is a predefined role; it can't be deleted" in text(response)
    assert predefined.id in store.roles
