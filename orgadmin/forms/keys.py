"""API keys: the key list's filters, admin keys, and the service accounts of a project."""

from __future__ import annotations

from django import forms

from orgadmin.forms.fields import name_required, one_line
from orgadmin.models import ServiceAccount

# The admin-key body allows 1 s to 365 days.
ADMIN_KEY_MAX_DAYS = 365


class KeyFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    owner = forms.ChoiceField(
        required=False,
        choices=[("", "All owners"), ("user", "People"), ("service_account", "Service accounts")],
        label="Owner",
    )
    project = forms.CharField(required=False, max_length=100)


class AdminKeyCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, help_text="For example “billing-export”.")
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=ADMIN_KEY_MAX_DAYS,
        help_text=f"1 to {ADMIN_KEY_MAX_DAYS}. Leave empty for a key that never expires.",
    )

    def clean_name(self) -> str:
        return name_required(self.cleaned_data["name"], thing="key")

    def expires_in_seconds(self) -> int | None:
        days = self.cleaned_data.get("expires_in_days")
        return days * 86400 if days else None


# --- service accounts ---------------------------------------------------------------------------


class ServiceAccountCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, help_text="For example “ci-deploy”.")
    without_key = forms.BooleanField(
        required=False,
        label="Create without an API key",
        help_text="By default the service account gets a key, shown once.",
    )

    def clean_name(self) -> str:
        return name_required(self.cleaned_data["name"], thing="service account")


class ServiceAccountEditForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    role = forms.ChoiceField(choices=ServiceAccount.Role.choices, label="Project role")

    def clean_name(self) -> str:
        return name_required(self.cleaned_data["name"], thing="service account")


class ServiceAccountKeyForm(forms.Form):
    name = forms.CharField(label="Key name", max_length=200, required=False)

    def clean_name(self) -> str:
        return one_line(self.cleaned_data["name"])
