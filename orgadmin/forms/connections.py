"""Connections: adding one, renaming it, replacing its key, and switching between them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from orgadmin.client import BaseURLRefused, admin_key_well_formed, base_url_check
from orgadmin.forms.fields import name_required
from orgadmin.models import Organization
from orgadmin.providers import PROVIDERS, provider_named

# Said of a key with a character no key has; the key itself is never shown back.
KEY_CHARACTER_ERROR = (
    "This key has a character that can't be part of an API key (an accent, a curly quote, an "
    "invisible or control character, often picked up when copying from a document). Copy it "
    "again straight from the OpenAI page."
)


class AdminKeyField(forms.CharField):
    """A write-only field for an admin key (or an xAI management key): never rendered back
    into the page."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Admin API key")
        kwargs.setdefault(
            "help_text",
            "OpenAI: an admin key from platform.openai.com → Settings → Admin keys. xAI: a "
            "management key from console.x.ai → Settings → Management Keys. Stored encrypted.",
        )
        kwargs.setdefault("max_length", 400)
        super().__init__(
            widget=forms.PasswordInput(
                render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
            ),
            **kwargs,
        )

    def clean(self, value: Any) -> str:
        value = super().clean(value).strip()
        if any(ch in " \t\r\n" for ch in value) or len(value) < 8:
            raise forms.ValidationError(
                "This doesn't look like an admin key (sk-admin-…) or a management key (xai-…)."
            )
        if not admin_key_well_formed(value):
            raise forms.ValidationError(KEY_CHARACTER_ERROR)
        return value


def _clean_name(name: str, *, exclude_pk: int | None = None) -> str:
    name = name_required(name, thing="connection")
    clash = Organization.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise forms.ValidationError("Another connection already has this name.")
    return name


class ConnectionForm(forms.Form):
    provider = forms.ChoiceField(
        label="Provider",
        choices=Organization.Provider.choices,
        initial=Organization.Provider.OPENAI,
        widget=forms.RadioSelect,
        required=False,  # a form without it (an older page, a script) means OpenAI
        help_text="An OpenAI organization (admin key) or an xAI team (management key).",
    )
    name = forms.CharField(
        label="Display name",
        max_length=100,
        help_text="How this organization is called in the dashboard, e.g. “Acme production”.",
    )
    base_url = forms.CharField(
        label="Base URL",
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": settings.DEFAULT_OPENAI_BASE_URL}),
        help_text=(
            "Leave empty for the provider's own API ("
            + ", ".join(f"{p.label}: {p.default_base_url}" for p in PROVIDERS.values())
            + "). A gateway or a simulator works once an operator has added its host to "
            "ALLOWED_API_HOSTS."
        ),
    )
    admin_key = AdminKeyField(label="Admin or management key")

    def clean_name(self) -> str:
        return _clean_name(self.cleaned_data["name"])

    def clean_provider(self) -> str:
        return self.cleaned_data.get("provider") or Organization.Provider.OPENAI

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "provider" not in cleaned or "base_url" in self.errors:
            return cleaned
        base_url = cleaned.get("base_url", "").strip()
        base_url = base_url or provider_named(cleaned["provider"]).default_base_url
        try:
            cleaned["base_url"] = base_url_check(base_url)
        except BaseURLRefused as exc:
            self.add_error("base_url", exc.message)
        return cleaned


class RenameConnectionForm(forms.Form):
    name = forms.CharField(label="Display name", max_length=100)

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_name(self) -> str:
        return _clean_name(self.cleaned_data["name"], exclude_pk=self.org.pk)


class ConnectionKeyForm(forms.Form):
    admin_key = AdminKeyField(label="New admin API key")

    def __init__(self, *args: Any, org: Organization | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if org is not None:  # "New management key" for an xAI team
            self.fields["admin_key"].label = f"New {org.provider_info.key_noun}"
            self.fields["admin_key"].help_text = f"{org.provider_info.key_help} Stored encrypted."


class SwitchOrganizationForm(forms.Form):
    """Choose among `orgs`, the connections the person holds a role on: another one is refused
    with the same words as one that doesn't exist, so the switcher tells nobody it exists."""

    _GONE = "That organization doesn't exist any more, or you have no role on it."
    org = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        label="Organization",
        error_messages={"required": _GONE, "invalid_choice": _GONE, "invalid_pk_value": _GONE},
    )

    def __init__(self, *args: Any, orgs: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = Organization.objects.filter(pk__in=[o.pk for o in orgs])
