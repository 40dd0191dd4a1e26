"""Forms of the digests page: validation only (which digest, on or off, and where)."""

from __future__ import annotations

from typing import Any

from django import forms

from dashboard.alerts.models import Channel
from dashboard.digests.models import Kind

EMAIL = "email"


class KindForm(forms.Form):
    """Which digest a button is about (the preview button)."""

    kind = forms.ChoiceField(label="Digest", choices=Kind.choices, widget=forms.HiddenInput)


class DigestForm(KindForm):
    """One digest's choice: on or off, and where it goes (the person's email, or an alert
    channel that carries the connection, named with its masked URL only)."""

    enabled = forms.BooleanField(label="Send me this digest", required=False)
    where = forms.ChoiceField(label="Where")

    def __init__(
        self, *args: Any, channels: list[Channel], email: str, kind: str = "", **kwargs: Any
    ) -> None:
        # Each digest's form has its own ids: three forms share the page.
        kwargs.setdefault("auto_id", f"id_{kind or 'digest'}_%s")
        super().__init__(*args, **kwargs)
        self.channels = {str(c.pk): c for c in channels}
        mine = f"My email ({email})" if email else "My email (my account has none)"
        self.fields["where"].choices = [
            (EMAIL, mine),
            *((f"channel-{c.pk}", f"{c.name} · {c.url_masked}") for c in channels),
        ]

    def clean_where(self) -> Channel | None:
        """The channel picked, or None for the person's email."""
        value = self.cleaned_data["where"]
        if value == EMAIL:
            return None
        return self.channels[value.removeprefix("channel-")]
