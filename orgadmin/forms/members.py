"""Members and invites: filtering them, a member's organization role and projects, inviting."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from orgadmin.forms.fields import EmailListField
from orgadmin.models import Invite, Organization, OrgUser, Project, ProjectUser
from orgadmin.selectors import invite_conflict


class MemberFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    role = forms.ChoiceField(
        required=False, choices=[("", "All roles"), *OrgUser.Role.choices], label="Role"
    )


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(choices=OrgUser.Role.choices, label="Organization role")


def _active_projects(org: Organization) -> list[tuple[str, str]]:
    return list(
        Project.objects.filter(org=org, status=Project.Status.ACTIVE)
        .order_by("name")
        .values_list("openai_id", "name")
    )


class MemberProjectAddForm(forms.Form):
    """On a member's page: add them to a project."""

    project = forms.ChoiceField(
        label="Project", widget=forms.Select(attrs={"id": "add-project", "class": "compact"})
    )
    role = forms.ChoiceField(
        choices=ProjectUser.Role.choices, label="Project role", initial=ProjectUser.Role.MEMBER
    )

    def __init__(self, *args: Any, org: Organization, user: OrgUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        joined = set(
            Project.objects.filter(org=org, users__user_openai_id=user.openai_id).values_list(
                "openai_id", flat=True
            )
        )
        self.fields["project"].choices = [("", "Choose a project…")] + [
            (pid, name) for pid, name in _active_projects(org) if pid not in joined
        ]

    def clean_project(self) -> Project:
        project = Project.objects.filter(
            org=self.org, openai_id=self.cleaned_data["project"]
        ).first()
        if project is None:
            raise ValidationError("Choose a project.")
        return project


# --- invites ------------------------------------------------------------------------------------


class _InviteFields(forms.Form):
    role = forms.ChoiceField(
        choices=OrgUser.Role.choices,
        initial=OrgUser.Role.READER,
        label="Organization role",
        help_text="Readers use the API and see their projects; owners manage the organization.",
    )
    projects = forms.MultipleChoiceField(
        required=False,
        label="Projects",
        widget=forms.CheckboxSelectMultiple,
        help_text="They join these projects when they accept. Pick none to add them later.",
    )
    project_role = forms.ChoiceField(
        choices=ProjectUser.Role.choices,
        initial=ProjectUser.Role.MEMBER,
        label="Role in those projects",
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        self.fields["projects"].choices = _active_projects(org)

    def grants(self) -> list[tuple[str, str]]:
        role = self.cleaned_data["project_role"]
        return [(pid, role) for pid in self.cleaned_data.get("projects", [])]


class InviteForm(_InviteFields):
    field_order = ["email", "role", "projects", "project_role"]

    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={"invalid": "Enter a valid email address, like ann@example.com."},
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        conflict = invite_conflict(org=self.org, email=email)
        if conflict:
            raise ValidationError(conflict)
        return email


class BulkInviteForm(_InviteFields):
    field_order = ["emails", "role", "projects", "project_role"]

    emails = EmailListField(
        label="Email addresses",
        help_text="Paste up to 100: one per line, or separated by commas. "
        "“Ann Lee <ann@example.com>” works too.",
    )

    def clean_emails(self) -> list[str]:
        emails = self.cleaned_data["emails"]
        problems = [c for e in emails if (c := invite_conflict(org=self.org, email=e))]
        if problems:
            raise ValidationError([*problems, "Remove them from the list; nothing was sent."])
        return emails


class InviteFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "All"), *Invite.Status.choices], label="Status"
    )
    q = forms.CharField(required=False, max_length=200, label="Search")
