"""An xAI team's API keys: the create/edit form (name, ACLs, limits, expiry) and the rotate form.

The ACL picker's choices are the team's own (its endpoints and models, read live by
`orgadmin.selectors.team_keys.team_key_acl_choices`), each group with its `*` wildcard; a key's
current ACLs stay choosable on its edit form even when the team no longer lists them, so saving
an unrelated change never drops one silently. Times are typed and shown in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from orgadmin.forms.fields import WholeNumberField, name_required
from orgadmin.selectors.team_keys import ENDPOINT, MODEL, AclChoices, acl_chip
from orgadmin.xai.types import ApiKey

NAME_MAX = 200
DATETIME_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends
# How long the old secret keeps working after a rotation: the API allows 0 to 7 days.
OLD_SECRET_LIFETIMES = [
    ("0", "Stop it now"),
    ("3600", "1 hour"),
    ("86400", "24 hours"),
    ("604800", "7 days (the longest xAI allows)"),
]
LIMITS = ("qps", "qpm", "tpm")


class PositiveLimitField(WholeNumberField):
    """A rate limit: a whole number of at least 1, or empty for none."""

    def clean(self, value: Any) -> int | None:
        number = super().clean(value)
        if number == 0:
            raise ValidationError("Enter 1 or more, or leave it empty for no limit.")
        return number


class UtcDateTimeField(forms.DateTimeField):
    """A date and time typed in UTC (whatever the server's time zone), returned aware."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", [DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d"])
        invalid = "Enter a date and time, like 2030-01-31 18:00."
        kwargs.setdefault("error_messages", {"invalid": invalid})
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        naive = timezone.make_naive(parsed) if timezone.is_aware(parsed) else parsed
        return naive.replace(tzinfo=UTC, second=0, microsecond=0)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and timezone.is_aware(value):
            return value.astimezone(UTC).replace(tzinfo=None)  # shown in UTC, as typed
        return value


def _minute(value: datetime | None) -> datetime | None:
    return value.replace(second=0, microsecond=0) if value else None


class TeamKeyForm(forms.Form):
    """Create a key (`key=None`) or edit one: `changes()` is then the field mask's fields only."""

    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX,
        help_text="For example “support-bot”.",
        error_messages={"required": "Give the key a name."},
    )
    endpoints = forms.MultipleChoiceField(
        label="Endpoints", required=False, widget=forms.CheckboxSelectMultiple
    )
    models = forms.MultipleChoiceField(
        label="Models", required=False, widget=forms.CheckboxSelectMultiple
    )
    qps = PositiveLimitField(label="Requests per second (qps)", required=False)
    qpm = PositiveLimitField(label="Requests per minute (qpm)", required=False)
    tpm = PositiveLimitField(label="Tokens per minute (tpm)", required=False)
    expires_at = UtcDateTimeField(
        label="Expires at (UTC)",
        required=False,
        help_text="Leave empty for a key that never expires.",
    )

    def __init__(
        self, *args: Any, choices: AclChoices, key: ApiKey | None = None, **kwargs: Any
    ) -> None:
        self.key = key
        super().__init__(*args, **kwargs)
        if key is not None and not self.is_bound:
            self.initial = {**_initial(key), **self.initial}
        current = key.acl_strings if key is not None else []
        self.fields["endpoints"].choices = _with_current(choices.endpoints, current, ENDPOINT)
        self.fields["models"].choices = _with_current(choices.models, current, MODEL)
        for name in ("endpoints", "models"):
            self.fields[name].error_messages["invalid_choice"] = (
                "“%(value)s” is not an ACL this team can grant; pick from the list."
            )

    def clean_name(self) -> str:
        return name_required(self.cleaned_data["name"], thing="key")

    def clean_expires_at(self) -> datetime | None:
        value = self.cleaned_data.get("expires_at")
        unchanged = self.key is not None and value == _minute(self.key.expire_time)
        if value is not None and not unchanged and value <= timezone.now():
            raise ValidationError("Pick a time in the future (UTC), or leave it empty.")
        return value

    def acls(self) -> list[str]:
        """The ACLs picked, endpoints then models, in the choices' order."""
        return [*self.cleaned_data.get("endpoints", []), *self.cleaned_data.get("models", [])]

    def values(self) -> dict[str, Any]:
        """Everything the form sets, by the client's names (`expire_time`)."""
        data = self.cleaned_data
        values = {"name": data["name"], "acls": self.acls()}
        values.update({name: data.get(name) for name in LIMITS})
        values["expire_time"] = data.get("expires_at")
        return values

    def changes(self) -> dict[str, Any]:
        """What differs from the key being edited: the update's field mask, nothing else."""
        assert self.key is not None
        key, out = self.key, {}
        for name, value in self.values().items():
            if name == "acls":
                if sorted(value) != sorted(key.acl_strings):
                    out[name] = value
            elif name == "expire_time":
                if value != _minute(key.expire_time):
                    out[name] = value
            elif value != getattr(key, name):
                out[name] = value
        return out


def _initial(key: ApiKey) -> dict[str, Any]:
    return {
        "name": key.name,
        "endpoints": [a for a in key.acl_strings if a.startswith(ENDPOINT)],
        "models": [a for a in key.acl_strings if a.startswith(MODEL)],
        **{name: getattr(key, name) for name in LIMITS},
        "expires_at": _minute(key.expire_time),
    }


def _with_current(
    choices: list[tuple[str, str]], current: list[str], prefix: str
) -> list[tuple[str, str]]:
    """The team's choices, plus the key's own ACLs of this group that the team doesn't list."""
    known = {acl for acl, _ in choices}
    extra = [
        (acl, f"{acl_chip(acl).label} (not offered by the team any more)")
        for acl in current
        if acl.startswith(prefix) and acl not in known
    ]
    return list(choices) + extra


class TeamKeyRotateForm(forms.Form):
    old_secret_lifetime = forms.ChoiceField(
        label="The old secret keeps working for",
        choices=OLD_SECRET_LIFETIMES,
        initial="86400",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Pick how long the old secret keeps working."},
    )

    def old_secret_expire_time(self, now: datetime | None = None) -> datetime:
        """When the old secret stops working, from `now` (the current time)."""
        seconds = int(self.cleaned_data["old_secret_lifetime"])
        return (now or timezone.now()) + timedelta(seconds=seconds)
