"""Groups: naming one and adding members to it."""

from __future__ import annotations

from typing import Any

from django import forms

from orgadmin.forms.fields import UserPickField, name_required, user_by_email
from orgadmin.models import Organization, OrgUser


class GroupForm(forms.Form):
    name = forms.CharField(label="Group name", max_length=255)

    def clean_name(self) -> str:
        return name_required(self.cleaned_data["name"], thing="group")


class GroupUserAddForm(forms.Form):
    user = UserPickField(help_text="Type an email; members of the organization are suggested.")

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_user(self) -> OrgUser:
        return user_by_email(self.org, self.cleaned_data["user"])
