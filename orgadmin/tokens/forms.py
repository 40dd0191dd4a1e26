"""The tokens page's forms: validation only (a name, how long the token lives; which to revoke)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

LIFETIMES = (7, 30, 90, 365)  # days; the longest allowed is ACCESS_TOKEN_MAX_DAYS


def lifetime_choices() -> list[tuple[str, str]]:
    longest = settings.ACCESS_TOKEN_MAX_DAYS
    days = sorted({d for d in LIFETIMES if d <= longest} | {longest})
    return [(str(d), f"{d} days" if d != 365 else "1 year (365 days)") for d in days]


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What uses it, e.g. “Power BI, finance workspace”.",
    )
    days = forms.TypedChoiceField(label="Expires after", coerce=int, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = lifetime_choices()
        self.fields["days"].choices = choices
        self.fields["days"].initial = "90" if ("90", "90 days") in choices else choices[-1][0]
        longest = settings.ACCESS_TOKEN_MAX_DAYS
        self.fields["days"].help_text = f"Required: at most {longest} days."

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the token a name.")
        return name
