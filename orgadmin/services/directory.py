"""Members, invites, groups and roles: changes sent to the Admin API, then cached and logged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orgadmin.client import OrgAPIError
from orgadmin.models import (
    GroupMember,
    GroupRoleAssignment,
    Invite,
    Organization,
    OrgGroup,
    OrgRole,
    OrgUser,
    ProjectGroup,
    ProjectUser,
    UserRoleAssignment,
)
from orgadmin.selectors.directory import invite_conflict
from orgadmin.services.changes import ChangeRefused, api_change
from orgadmin.sync.directory import project_section
from orgadmin.sync.directory.groups_roles import group_fields, role_fields
from orgadmin.sync.directory.people import invite_fields, user_fields


@dataclass
class BulkOutcome:
    """What a change made of many API calls did: the ones that worked and the ones that didn't."""

    done: list[Any] = field(default_factory=list)
    failed: list[tuple[str, OrgAPIError]] = field(default_factory=list)


# --- members ------------------------------------------------------------------------------------


def _owners_left(org: Organization, *, without: str) -> int:
    return (
        OrgUser.objects.filter(org=org, role=OrgUser.Role.OWNER).exclude(openai_id=without).count()
    )


def user_role_update(*, org: Organization, user: OrgUser, role: str, actor: Any) -> OrgUser:
    """Change a member's organization role (owner or reader)."""
    demoted = user.role == OrgUser.Role.OWNER and role != OrgUser.Role.OWNER
    if demoted and not _owners_left(org, without=user.openai_id):
        raise ChangeRefused(
            f"{user.label} is the last owner of the organization. Make someone else an owner "
            "first.",
            field="role",
        )

    def apply(result: Any) -> None:
        OrgUser.objects.filter(pk=user.pk).update(**user_fields(result))

    api_change(
        org=org,
        actor=actor,
        action="user.update",
        summary=f"Changed the role of {user.label} from {user.role or '—'} to {role}",
        resource_type="user",
        resource_id=user.openai_id,
        call=lambda api: api.users.update(user.openai_id, role=role),
        apply=apply,
        sections=["users"],
    )
    user.refresh_from_db()
    return user


def user_remove(*, org: Organization, user: OrgUser, actor: Any) -> None:
    """Remove a member from the organization (and so from all its projects and groups)."""
    if user.role == OrgUser.Role.OWNER and not _owners_left(org, without=user.openai_id):
        raise ChangeRefused(
            f"{user.label} is the last owner of the organization and can't be removed. Make "
            "someone else an owner first."
        )
    project_ids = list(
        ProjectUser.objects.filter(project__org=org, user_openai_id=user.openai_id).values_list(
            "project__openai_id", flat=True
        )
    )

    def apply(_: Any) -> None:
        ProjectUser.objects.filter(project__org=org, user_openai_id=user.openai_id).delete()
        GroupMember.objects.filter(group__org=org, user_openai_id=user.openai_id).delete()
        UserRoleAssignment.objects.filter(org=org, user_openai_id=user.openai_id).delete()
        OrgUser.objects.filter(pk=user.pk).delete()

    api_change(
        org=org,
        actor=actor,
        action="user.delete",
        summary=f"Removed {user.label} ({user.email}) from the organization",
        resource_type="user",
        resource_id=user.openai_id,
        call=lambda api: api.users.delete(user.openai_id),
        apply=apply,
        sections=["users", "groups", *(project_section(p) for p in project_ids)],
    )


# --- invites ------------------------------------------------------------------------------------


def invite_create(
    *,
    org: Organization,
    email: str,
    role: str,
    projects: Sequence[tuple[str, str]] = (),
    actor: Any,
) -> Invite:
    """Invite someone by email with an organization role and the projects they will join."""
    conflict = invite_conflict(org=org, email=email)
    if conflict:
        raise ChangeRefused(conflict, field="email")
    grants = [{"id": pid, "role": prole} for pid, prole in projects]

    def apply(result: Any) -> None:
        Invite.objects.update_or_create(
            org=org, openai_id=result.id, defaults=invite_fields(result)
        )

    result = api_change(
        org=org,
        actor=actor,
        action="invite.create",
        summary=f"Invited {email} as {role}"
        + (f" into {len(grants)} project(s)" if grants else ""),
        resource_type="invite",
        resource_id=lambda r: r.id,
        call=lambda api: api.invites.create(email=email, role=role, projects=grants),
        apply=apply,
        sections=["invites"],
    )
    return Invite.objects.get(org=org, openai_id=result.id)


def invites_create_many(
    *,
    org: Organization,
    emails: Sequence[str],
    role: str,
    projects: Sequence[tuple[str, str]] = (),
    actor: Any,
) -> BulkOutcome:
    """Invite several people with the same role and projects; one API call each."""
    outcome = BulkOutcome()
    for email in emails:
        try:
            outcome.done.append(
                invite_create(org=org, email=email, role=role, projects=projects, actor=actor)
            )
        except OrgAPIError as exc:
            outcome.failed.append((email, exc))
    return outcome


def invite_revoke(*, org: Organization, invite: Invite, actor: Any) -> None:
    """Delete an invite that has not been accepted."""
    if invite.status == Invite.Status.ACCEPTED:
        raise ChangeRefused(f"The invite of {invite.email} was accepted; it can't be revoked.")
    api_change(
        org=org,
        actor=actor,
        action="invite.delete",
        summary=f"Revoked the invite of {invite.email}",
        resource_type="invite",
        resource_id=invite.openai_id,
        call=lambda api: api.invites.delete(invite.openai_id),
        apply=lambda _: Invite.objects.filter(pk=invite.pk).delete(),
        sections=["invites"],
    )


# --- groups -------------------------------------------------------------------------------------


def group_create(*, org: Organization, name: str, actor: Any) -> OrgGroup:
    """Create a group."""
    result = api_change(
        org=org,
        actor=actor,
        action="group.create",
        summary=f"Created the group “{name}”",
        resource_type="group",
        resource_id=lambda r: r.id,
        call=lambda api: api.groups.create(name=name),
        apply=lambda r: OrgGroup.objects.update_or_create(
            org=org, openai_id=r.id, defaults=group_fields(r)
        ),
        sections=["groups"],
    )
    return OrgGroup.objects.get(org=org, openai_id=result.id)


def group_rename(*, org: Organization, group: OrgGroup, name: str, actor: Any) -> OrgGroup:
    """Rename a group."""
    old = group.name
    api_change(
        org=org,
        actor=actor,
        action="group.update",
        summary=f"Renamed the group “{old}” to “{name}”",
        resource_type="group",
        resource_id=group.openai_id,
        call=lambda api: api.groups.update(group.openai_id, name=name),
        apply=lambda r: (
            OrgGroup.objects.filter(pk=group.pk).update(name=r.name),
            ProjectGroup.objects.filter(project__org=org, group_openai_id=group.openai_id).update(
                group_name=r.name
            ),
        ),
        sections=["groups"],
    )
    group.refresh_from_db()
    return group


def group_delete(*, org: Organization, group: OrgGroup, actor: Any) -> None:
    """Delete a group (its members stay in the organization)."""
    projects = list(
        ProjectGroup.objects.filter(project__org=org, group_openai_id=group.openai_id).values_list(
            "project__openai_id", flat=True
        )
    )

    def apply(_: Any) -> None:
        ProjectGroup.objects.filter(project__org=org, group_openai_id=group.openai_id).delete()
        group.delete()

    api_change(
        org=org,
        actor=actor,
        action="group.delete",
        summary=f"Deleted the group “{group.name}”",
        resource_type="group",
        resource_id=group.openai_id,
        call=lambda api: api.groups.delete(group.openai_id),
        apply=apply,
        sections=["groups", *(project_section(p) for p in projects)],
    )


def group_user_add(*, org: Organization, group: OrgGroup, user: OrgUser, actor: Any) -> None:
    """Add a member to a group."""
    if GroupMember.objects.filter(group=group, user_openai_id=user.openai_id).exists():
        raise ChangeRefused(f"{user.label} is already in “{group.name}”.", field="user")
    api_change(
        org=org,
        actor=actor,
        action="group.user.add",
        summary=f"Added {user.label} to the group “{group.name}”",
        resource_type="group",
        resource_id=group.openai_id,
        call=lambda api: api.groups.users.create(group.openai_id, user_id=user.openai_id),
        apply=lambda _: GroupMember.objects.update_or_create(
            group=group,
            user_openai_id=user.openai_id,
            defaults={"name": user.name, "email": user.email},
        ),
        sections=["groups"],
    )


def group_user_remove(*, org: Organization, group: OrgGroup, user_id: str, actor: Any) -> None:
    """Remove a member from a group."""
    member = GroupMember.objects.filter(group=group, user_openai_id=user_id).first()
    label = (member.email or member.name) if member else user_id
    api_change(
        org=org,
        actor=actor,
        action="group.user.remove",
        summary=f"Removed {label} from the group “{group.name}”",
        resource_type="group",
        resource_id=group.openai_id,
        call=lambda api: api.groups.users.delete(user_id, group_id=group.openai_id),
        apply=lambda _: GroupMember.objects.filter(group=group, user_openai_id=user_id).delete(),
        sections=["groups"],
    )


def group_role_assign(*, org: Organization, group: OrgGroup, role: OrgRole, actor: Any) -> None:
    """Give a group an organization role."""
    if GroupRoleAssignment.objects.filter(group=group, role_openai_id=role.openai_id).exists():
        raise ChangeRefused(f"“{group.name}” has the role “{role.name}” already.", field="role")
    api_change(
        org=org,
        actor=actor,
        action="group.role.assign",
        summary=f"Gave the group “{group.name}” the role “{role.name}”",
        resource_type="group",
        resource_id=group.openai_id,
        call=lambda api: api.groups.roles.create(group.openai_id, role_id=role.openai_id),
        apply=lambda _: GroupRoleAssignment.objects.get_or_create(
            group=group, role_openai_id=role.openai_id
        ),
        sections=["groups"],
    )


def group_role_unassign(*, org: Organization, group: OrgGroup, role_id: str, actor: Any) -> None:
    """Take an organization role away from a group."""
    role = OrgRole.objects.filter(org=org, openai_id=role_id).first()
    api_change(
        org=org,
        actor=actor,
        action="group.role.unassign",
        summary=f"Took the role “{role.name if role else role_id}” from the group “{group.name}”",
        resource_type="group",
        resource_id=group.openai_id,
        call=lambda api: api.groups.roles.delete(role_id, group_id=group.openai_id),
        apply=lambda _: GroupRoleAssignment.objects.filter(
            group=group, role_openai_id=role_id
        ).delete(),
        sections=["groups"],
    )


# --- roles --------------------------------------------------------------------------------------


def role_create(
    *, org: Organization, name: str, permissions: list[str], description: str, actor: Any
) -> OrgRole:
    """Create a custom organization role."""
    result = api_change(
        org=org,
        actor=actor,
        action="role.create",
        summary=f"Created the role “{name}” with {len(permissions)} permission(s)",
        resource_type="role",
        resource_id=lambda r: r.id,
        call=lambda api: api.roles.create(
            role_name=name, permissions=permissions, description=description or None
        ),
        apply=lambda r: OrgRole.objects.update_or_create(
            org=org, openai_id=r.id, defaults=role_fields(r)
        ),
        sections=["roles"],
    )
    return OrgRole.objects.get(org=org, openai_id=result.id)


def role_update(
    *,
    org: Organization,
    role: OrgRole,
    name: str,
    permissions: list[str],
    description: str,
    actor: Any,
) -> OrgRole:
    """Change a custom role's name, permissions and description."""
    if role.predefined:
        raise ChangeRefused(f"“{role.name}” is a predefined role; it can't be changed.")
    api_change(
        org=org,
        actor=actor,
        action="role.update",
        summary=f"Updated the role “{name}”",
        resource_type="role",
        resource_id=role.openai_id,
        call=lambda api: api.roles.update(
            role.openai_id, role_name=name, permissions=permissions, description=description
        ),
        apply=lambda r: OrgRole.objects.filter(pk=role.pk).update(**role_fields(r)),
        sections=["roles"],
    )
    role.refresh_from_db()
    return role


def role_delete(*, org: Organization, role: OrgRole, actor: Any) -> None:
    """Delete a custom role (and its assignments)."""
    if role.predefined:
        raise ChangeRefused(f"“{role.name}” is a predefined role; it can't be deleted.")

    def apply(_: Any) -> None:
        UserRoleAssignment.objects.filter(org=org, role_openai_id=role.openai_id).delete()
        GroupRoleAssignment.objects.filter(group__org=org, role_openai_id=role.openai_id).delete()
        role.delete()

    api_change(
        org=org,
        actor=actor,
        action="role.delete",
        summary=f"Deleted the role “{role.name}”",
        resource_type="role",
        resource_id=role.openai_id,
        call=lambda api: api.roles.delete(role.openai_id),
        apply=apply,
        sections=["roles", "groups", "user_roles"],
    )


def user_role_assign(*, org: Organization, user: OrgUser, role: OrgRole, actor: Any) -> None:
    """Give a member an organization role."""
    if UserRoleAssignment.objects.filter(
        org=org, user_openai_id=user.openai_id, role_openai_id=role.openai_id
    ).exists():
        raise ChangeRefused(f"{user.label} has the role “{role.name}” already.", field="role")
    api_change(
        org=org,
        actor=actor,
        action="user.role.assign",
        summary=f"Gave {user.label} the role “{role.name}”",
        resource_type="user",
        resource_id=user.openai_id,
        call=lambda api: api.users.roles.create(user.openai_id, role_id=role.openai_id),
        apply=lambda _: UserRoleAssignment.objects.get_or_create(
            org=org, user_openai_id=user.openai_id, role_openai_id=role.openai_id
        ),
        sections=["user_roles"],
    )


def user_role_unassign(*, org: Organization, user: OrgUser, role_id: str, actor: Any) -> None:
    """Take an organization role away from a member."""
    role = OrgRole.objects.filter(org=org, openai_id=role_id).first()
    api_change(
        org=org,
        actor=actor,
        action="user.role.unassign",
        summary=f"Took the role “{role.name if role else role_id}” from {user.label}",
        resource_type="user",
        resource_id=user.openai_id,
        call=lambda api: api.users.roles.delete(role_id, user_id=user.openai_id),
        apply=lambda _: UserRoleAssignment.objects.filter(
            org=org, user_openai_id=user.openai_id, role_openai_id=role_id
        ).delete(),
        sections=["user_roles"],
    )
