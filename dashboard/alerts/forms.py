"""The form to add an alert channel: validation only (the URL is read as Apprise reads it)."""

from __future__ import annotations

from typing import Any

from django import forms

from dashboard.alerts.targets import TargetRefused, target_of


class ChannelForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="How pages and alerts name it, e.g. “#finance-alerts” or “On-call webhook”.",
    )
    # Never shown again, not even on an invalid form: it holds the channel's tokens.
    url = forms.CharField(
        label="Apprise URL",
        max_length=2000,
        strip=True,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=(
            "A Slack, Discord or Teams Workflows webhook URL, mailto://user:password@smtp-host"
            "?to=…, or an https:// webhook (signed JSON). Stored encrypted; shown masked."
        ),
    )
    for_all = forms.BooleanField(
        label="For every connection (those added later too)",
        required=False,
    )

    def __init__(self, *args: Any, may_add_for_all: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_add_for_all:  # only an Admin of all connections adds one for all
            del self.fields["for_all"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the channel a name.")
        return name

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            target_of(url)
        except TargetRefused as exc:
            raise forms.ValidationError(exc.message) from None
        return url
