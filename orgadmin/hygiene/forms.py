"""The hygiene page's forms: the filter, an outcome, the thresholds, the keys of a bulk revoke."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone

from orgadmin.hygiene.models import SEVERITY_CHOICES, Finding, HygieneSettings
from orgadmin.hygiene.rules import KINDS, Group
from orgadmin.hygiene.selectors import SHOWS

REF = re.compile(r"^(project|admin):key_[A-Za-z0-9_-]{1,96}$")
MOST_REFS = 200
MOST_DAYS = 3650


def _kind_choices() -> list:
    """Every kind under its area, as the page's Kind select lists them."""
    return [("", "Every kind")] + [
        (group.value, [(k.value, label) for k, (label, g) in KINDS.items() if g == group])
        for group in Group
    ]


class ShowForm(forms.Form):
    """The page's filter: which findings (open by default), of which severity and kind, and the
    section listed in full."""

    show = forms.ChoiceField(label="Status", choices=list(SHOWS.items()), required=False)
    severity = forms.ChoiceField(
        label="Severity", choices=[("", "Every severity"), *SEVERITY_CHOICES], required=False
    )
    kind = forms.ChoiceField(label="Kind", choices=_kind_choices, required=False)
    all = forms.ChoiceField(
        label="Show all of", choices=[(g.value, g.value) for g in Group], required=False
    )


class OutcomeForm(forms.Form):
    """Accept (a reason and the day the acceptance ends), ignore, or reopen a finding."""

    outcome = forms.ChoiceField(label="Outcome", choices=Finding.Outcome.choices)
    reason = forms.CharField(label="Reason", max_length=1000, required=False)
    until = forms.DateField(
        label="Accepted until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The finding comes back on this day.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data.get("reason", "")
        if "\x00" in reason:
            raise forms.ValidationError("Remove the control characters.")
        return reason.strip()

    def clean(self) -> dict:
        data = super().clean()
        if data.get("outcome") == Finding.Outcome.ACCEPTED:
            if not data.get("reason"):
                self.add_error("reason", "Say why this is accepted.")
            until = data.get("until")
            if until is None:
                self.add_error("until", "Pick the day the acceptance ends.")
            elif until <= timezone.now().date():
                self.add_error("until", "Pick a day in the future.")
            elif until > timezone.now().date() + dt.timedelta(days=730):
                self.add_error("until", "Pick a day within two years.")
        return data


class ThresholdsForm(forms.ModelForm):
    class Meta:
        model = HygieneSettings
        fields = [
            "key_unused_days",
            "key_grace_days",
            "admin_key_max_age_days",
            "admin_key_unused_days",
            "max_owners",
            "member_dormant_days",
            "invite_pending_days",
            "certificate_warning_days",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.validators.append(MaxValueValidator(MOST_DAYS, f"At most {MOST_DAYS}."))
            field.widget.attrs["max"] = MOST_DAYS


class RevokeForm(forms.Form):
    """The keys of a bulk revoke: `key` repeated, each "project:<key id>" or "admin:<key id>"."""

    key = forms.MultipleChoiceField(label="Keys", required=True)

    def __init__(self, data=None) -> None:
        super().__init__(data)
        refs = data.getlist("key") if data is not None else []
        self.fields["key"].choices = [(r, r) for r in refs if isinstance(r, str) and REF.match(r)]

    def clean_key(self) -> list[str]:
        refs = self.cleaned_data["key"]
        if len(refs) > MOST_REFS:
            raise forms.ValidationError(f"Pick at most {MOST_REFS} keys at a time.")
        return refs
