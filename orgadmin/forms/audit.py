"""Filters of the audit log explorer (from OpenAI) and of the action log (ours, "Activity")."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms

from orgadmin.audit import category_of
from orgadmin.models import ActionLog

AUDIT_DATE_FLOOR = dt.date(2015, 1, 1)
AUDIT_DATE_CEILING = dt.date(2100, 12, 31)
AUDIT_DEFAULT_DAYS = 30
_TYPE_VALUE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$")


class _AuditDateField(forms.DateField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            input_formats=["%Y-%m-%d"],
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": "Enter a date as YYYY-MM-DD, for example 2025-03-01."},
            **kwargs,
        )

    def clean(self, value: Any) -> dt.date | None:
        day = super().clean(value)
        if day is not None and not AUDIT_DATE_FLOOR <= day <= AUDIT_DATE_CEILING:
            floor, ceiling = AUDIT_DATE_FLOOR.isoformat(), AUDIT_DATE_CEILING.isoformat()
            raise forms.ValidationError(f"Pick a date between {floor} and {ceiling}.")
        return day


class _TypesField(forms.Field):
    """Any number of `type` values (the explorer draws its own checkboxes for them)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(v).strip() for v in values if str(v).strip()]


def _day_before(value: str) -> str:
    """The day before an ISO date, as typed; the value itself when it isn't one (its own field
    reports it)."""
    try:
        return (dt.date.fromisoformat(value) - dt.timedelta(days=1)).isoformat()
    except (TypeError, ValueError, OverflowError):
        return ""


class AuditFilterForm(forms.Form):
    """The explorer's filters, from the query string. Every field is optional, and a bad value
    is reported beside its field and then ignored, so the page always answers."""

    start = _AuditDateField(label="From")
    # The exclusive end, as URLs and links carry it; a person sees and types `last`, the last
    # day shown (included).
    end = _AuditDateField(label="End")
    last = _AuditDateField(label="Until")
    type = _TypesField(required=False, label="Event types")
    actor = forms.CharField(required=False, max_length=254, label="Actor")
    project = forms.CharField(required=False, max_length=200, label="Project")
    resource = forms.CharField(
        required=False, max_length=200, label="Resource id", help_text="A key, user, project…"
    )
    q = forms.CharField(required=False, max_length=200, label="Search")
    page = forms.IntegerField(required=False, min_value=1, label="Page")

    def __init__(self, *args: Any, known_types: set[str], today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound and self.data.get("end") and not self.data.get("last"):
            self.data = self.data.copy()  # show a URL's exclusive end as the last day shown
            self.data["last"] = _day_before(self.data["end"])
        self.known_types = known_types
        self.today = today
        self.fields["page"].error_messages["min_value"] = "Page numbers start at 1."
        self.fields["page"].error_messages["invalid"] = "The page must be a whole number."

    def clean_type(self) -> list[str]:
        values = self.cleaned_data["type"]
        if len(values) > 200:
            raise forms.ValidationError("Choose at most 200 event types.")
        known_categories = {category_of(t) for t in self.known_types}
        bad = []
        for value in dict.fromkeys(values):
            if not _TYPE_VALUE.match(value):
                bad.append(value)
            elif value.endswith(".*"):
                if value[:-2] not in known_categories:
                    bad.append(value)
            elif value not in self.known_types:
                bad.append(value)
        if bad:
            shown = ", ".join(f"“{v[:60]}”" for v in bad[:3])
            raise forms.ValidationError(
                f"Unknown event type {shown}. Pick types from the list; a group like api_key.* "
                "selects all of its types."
            )
        return list(dict.fromkeys(values))

    def _clean_id(self, name: str) -> str:
        value = self.cleaned_data.get(name, "").strip()
        if any(ch.isspace() for ch in value):
            raise forms.ValidationError("An id has no spaces.")
        return value

    def clean_actor(self) -> str:
        value = self.cleaned_data["actor"].strip()
        return value.lower() if "@" in value else value

    def clean_project(self) -> str:
        return self._clean_id("project")

    def clean_resource(self) -> str:
        return self._clean_id("resource")

    def clean_q(self) -> str:
        value = " ".join(self.cleaned_data["q"].split())
        if len(value) == 1:
            raise forms.ValidationError("Type at least 2 characters to search.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("last"):
            data["end"] = data["last"] + dt.timedelta(days=1)
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            message = "The end must be after the start: pick a last day on or after it."
            # Shown beside "Until"; neither is used, so the range falls back to its default.
            for field in ("last", "end") if self.data.get("last") else ("end",):
                self.add_error(field, message)
        return data

    def date_range(self) -> tuple[dt.date, dt.date]:
        """[start, end) from the valid dates; by default the last 30 days, today included."""
        start, end = self.valid("start"), self.valid("end")
        if end is None:
            end = self.today + dt.timedelta(days=1)
            if start is not None and start >= end:
                end = start + dt.timedelta(days=1)
        if start is None:
            start = end - dt.timedelta(days=AUDIT_DEFAULT_DAYS)
        return start, end

    def valid(self, name: str, default: Any = None) -> Any:
        """A field's cleaned value, or `default` when it was invalid or missing."""
        if name in self.errors or not hasattr(self, "cleaned_data"):
            return default
        return self.cleaned_data.get(name) or default


class ActivityFilterForm(forms.Form):
    """The action log's filters."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "All outcomes"), *ActionLog.Outcome.choices],
        label="Outcome",
    )
