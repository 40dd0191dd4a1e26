"""Forms: every piece of user input is parsed and validated here before anything is sent."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import URLValidator

from orgadmin.models import Organization


class AdminKeyField(forms.CharField):
    """A write-only field for an admin key: never rendered back into the page."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", "Admin API key")
        kwargs.setdefault(
            "help_text",
            "Create one at platform.openai.com → Settings → Admin keys. Stored encrypted.",
        )
        kwargs.setdefault("max_length", 400)
        super().__init__(
            widget=forms.PasswordInput(
                render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
            ),
            **kwargs,
        )

    def clean(self, value):
        value = super().clean(value).strip()
        if any(ch.isspace() for ch in value) or len(value) < 8:
            raise forms.ValidationError("This doesn't look like an API key (sk-admin-…).")
        return value


def _clean_name(name: str, *, exclude_pk: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise forms.ValidationError("Give the connection a name.")
    clash = Organization.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise forms.ValidationError("Another connection already has this name.")
    return name


class ConnectionForm(forms.Form):
    name = forms.CharField(
        label="Display name",
        max_length=100,
        help_text="How this organization is called in the dashboard, e.g. “Acme production”.",
    )
    base_url = forms.CharField(
        label="Base URL",
        max_length=300,
        initial=settings.DEFAULT_OPENAI_BASE_URL,
        help_text="Leave as is for OpenAI. Change it for a gateway or a simulator.",
    )
    admin_key = AdminKeyField()

    def clean_name(self) -> str:
        return _clean_name(self.cleaned_data["name"])

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"].strip()
        try:
            URLValidator(schemes=["http", "https"])(url)
        except forms.ValidationError:
            raise forms.ValidationError(
                "Enter a full http(s) URL, such as https://api.openai.com/v1."
            ) from None
        return url.rstrip("/")


class RenameConnectionForm(forms.Form):
    name = forms.CharField(label="Display name", max_length=100)

    def __init__(self, *args, org: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_name(self) -> str:
        return _clean_name(self.cleaned_data["name"], exclude_pk=self.org.pk)


class ConnectionKeyForm(forms.Form):
    admin_key = AdminKeyField(label="New admin API key")


class SwitchOrganizationForm(forms.Form):
    org = forms.ModelChoiceField(queryset=Organization.objects.all())
