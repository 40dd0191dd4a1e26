"""Roles: defining a custom role, and assigning roles to members and groups."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from orgadmin.forms.fields import SEPARATORS, name_required
from orgadmin.models import Organization, OrgRole

# Dotted names such as api.groups.read.
_PERMISSION = re.compile(r"^[a-z][a-z0-9_\-]*(\.[a-z0-9_\-]+)+$")


class RoleAssignForm(forms.Form):
    role = forms.ChoiceField(label="Role", widget=forms.Select(attrs={"class": "compact"}))

    def __init__(
        self,
        *args: Any,
        org: Organization,
        exclude: set[str] = frozenset(),
        predefined: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        self.predefined = predefined
        roles = OrgRole.objects.filter(org=org).exclude(resource_type="api.project")
        if not predefined:
            # A member's predefined role is their base role (owner or reader), changed above.
            roles = roles.filter(predefined=False)
        self.fields["role"].choices = [("", "Choose a role…")] + [
            (r.openai_id, r.name) for r in roles if r.openai_id not in exclude
        ]

    def clean_role(self) -> OrgRole:
        roles = OrgRole.objects.filter(org=self.org, openai_id=self.cleaned_data["role"])
        if not self.predefined:
            roles = roles.filter(predefined=False)
        role = roles.first()
        if role is None:
            raise ValidationError("Choose a role.")
        return role


class RoleForm(forms.Form):
    name = forms.CharField(label="Role name", max_length=200)
    description = forms.CharField(
        label="Description", required=False, max_length=1000, widget=forms.Textarea({"rows": 2})
    )
    permissions = forms.MultipleChoiceField(
        label="Permissions", required=False, widget=forms.CheckboxSelectMultiple
    )
    extra_permissions = forms.CharField(
        label="Other permissions",
        required=False,
        widget=forms.Textarea({"rows": 2, "spellcheck": "false"}),
        help_text="One per line, like api.groups.read, for permissions not listed above.",
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = sorted(
            {
                p
                for perms in OrgRole.objects.filter(org=org).values_list("permissions", flat=True)
                for p in (perms or [])
            }
        )
        self.fields["permissions"].choices = [(p, p) for p in known]

    def clean_name(self) -> str:
        return name_required(self.cleaned_data["name"], thing="role")

    def clean_extra_permissions(self) -> list[str]:
        tokens = [t for t in SEPARATORS.split(self.cleaned_data["extra_permissions"]) if t]
        bad = [t for t in tokens if not _PERMISSION.match(t)]
        if bad:
            raise ValidationError(
                "Not permission names: "
                + ", ".join(f"“{b}”" for b in bad)
                + ". Permissions look like api.groups.read."
            )
        return tokens

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        perms = sorted({*data.get("permissions", []), *data.get("extra_permissions", [])})
        if "permissions" in data and "extra_permissions" in data and not perms:
            self.add_error("permissions", "Pick at least one permission.")
        data["all_permissions"] = perms
        return data
