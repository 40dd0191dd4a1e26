"""The alert inbox's forms: its filters, and a person's change of an alert's state."""

from __future__ import annotations

from django import forms

from dashboard.alerts.models import Alert


class InboxFilterForm(forms.Form):
    state = forms.ChoiceField(choices=[("", "Every state"), *Alert.State.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Every kind"), *Alert.Kind.choices], required=False)


class AlertStateForm(forms.Form):
    """What a person does to an alert: acknowledge, resolve, mark expected, or reopen."""

    state = forms.ChoiceField(
        choices=Alert.State.choices,
        error_messages={"invalid_choice": "That is not a state an alert can have."},
    )
