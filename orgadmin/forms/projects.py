"""Projects: listing, creating and renaming them, their members and groups, the models they
may use and their hosted tools."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from orgadmin.forms.fields import SEPARATORS, UserPickField, name_required, user_by_email
from orgadmin.models import Organization, OrgGroup, OrgRole, OrgUser, Project, ProjectUser

_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-/]*$")
_ROLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{2,99}$")


class ProjectFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.ChoiceField(
        required=False, choices=[*Project.Status.choices, ("all", "All")], label="Status"
    )


class ProjectRenameForm(forms.Form):
    name = forms.CharField(label="Project name", max_length=200)

    def clean_name(self) -> str:
        return name_required(self.cleaned_data["name"], thing="project")


class ProjectCreateForm(ProjectRenameForm):
    residency = forms.ChoiceField(
        label="Data residency",
        choices=Project.Residency.choices,
        required=False,
        help_text="Where the project's data is stored; your organization must have access to it.",
    )


# --- members and groups -------------------------------------------------------------------------


class ProjectUserAddForm(forms.Form):
    user = UserPickField(help_text="Type an email; members of the organization are suggested.")
    role = forms.ChoiceField(
        choices=ProjectUser.Role.choices, label="Project role", initial=ProjectUser.Role.MEMBER
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_user(self) -> OrgUser:
        return user_by_email(self.org, self.cleaned_data["user"])


class ProjectRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ProjectUser.Role.choices, label="Project role")


class ProjectGroupAddForm(forms.Form):
    group = forms.ChoiceField(label="Group", widget=forms.Select(attrs={"class": "compact"}))
    role = forms.CharField(
        label="Project role id",
        max_length=100,
        help_text="The id of a project role, like role_01J1F8PROJ.",
        widget=forms.TextInput(
            attrs={"list": "project-role-ids", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args: Any, org: Organization, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        linked = set(project.groups.values_list("group_openai_id", flat=True))
        self.fields["group"].choices = [("", "Choose a group…")] + [
            (g.openai_id, g.name)
            for g in OrgGroup.objects.filter(org=org).only("openai_id", "name")
            if g.openai_id not in linked
        ]
        # Project roles the cache knows, offered as suggestions (any role id may be typed).
        self.known_roles = list(
            OrgRole.objects.filter(org=org, resource_type="api.project").only("openai_id", "name")
        )

    def clean_group(self) -> OrgGroup:
        group = OrgGroup.objects.filter(org=self.org, openai_id=self.cleaned_data["group"]).first()
        if group is None:
            raise ValidationError("Choose a group.")
        return group

    def clean_role(self) -> str:
        role = self.cleaned_data["role"].strip()
        if not _ROLE_ID.match(role):
            raise ValidationError("Enter a project role id, like role_01J1F8PROJ.")
        return role


# --- models and tools ---------------------------------------------------------------------------


class _ModelList(forms.Field):
    """The ticked boxes of the model picker (`models`, repeated), as a list of ids."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        return [str(v).strip() for v in value or [] if str(v).strip()]


class ModelPermissionsForm(forms.Form):
    """The rule and its models: ticked in the picker of the models the organization uses
    (`models`), plus any other model id typed (`model_ids`: the API takes any id, like a
    fine-tuned model's). `cleaned_data["model_ids"]` is them all, each once."""

    mode = forms.ChoiceField(
        choices=Project.ModelPermissionsMode.choices, label="Rule", widget=forms.RadioSelect
    )
    models = _ModelList(required=False, label="Models")
    model_ids = forms.CharField(
        label="Other models",
        required=False,
        widget=forms.TextInput({"spellcheck": "false", "autocomplete": "off"}),
        help_text="Model ids not in the list, separated by commas, like ft:gpt-4o-mini:acme::abc.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        typed = [t for t in SEPARATORS.split(data.get("model_ids") or "") if t]
        ids = list(dict.fromkeys([*data.get("models", []), *typed]))
        bad = [i for i in ids if not _MODEL_ID.match(i) or len(i) > 200]
        if bad:
            names = ", ".join(f"“{b}”" for b in bad[:10])
            self.add_error("model_ids", f"Not model ids: {names}.")
        elif not ids:
            self.add_error("model_ids", "List at least one model.")
        else:
            data["model_ids"] = ids
        return data

    def chosen(self) -> list[str]:
        """The models ticked now, sorted: as posted, or as the project has them."""
        if self.is_bound:
            return sorted(set(self.data.getlist("models")))
        return sorted(set(self.initial.get("models") or []))


class HostedToolsForm(forms.Form):
    """One checkbox per hosted tool, named by the tool (`file_search`, …)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for tool in Project.HostedTool:
            self.fields[tool.value] = forms.BooleanField(required=False, label=tool.label)
