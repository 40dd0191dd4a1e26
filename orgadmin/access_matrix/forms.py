"""The access page's filters and the changes view's dates: validation only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from orgadmin.access_matrix.selectors import KIND_API_KEY, KIND_LABELS
from orgadmin.models import ProjectUser

DATE_FLOOR = dt.date(2015, 1, 1)
MAX_CHANGE_DAYS = 366
ROLE_UNKNOWN = "unknown"
PATH_DIRECT = "direct"
PATH_GROUP = "group"
PATH_KEY = "key"
MAX_COLUMN_PAGE = 10_000


class DayField(forms.DateField):
    """A calendar day typed as YYYY-MM-DD, between 2015 and today."""

    def __init__(self, *, today: dt.date, **kwargs: Any) -> None:
        self.today = today
        super().__init__(
            input_formats=["%Y-%m-%d"],
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={
                "invalid": "Enter a date as YYYY-MM-DD, for example 2025-03-01.",
                "required": "Pick a day.",
            },
            **kwargs,
        )

    def clean(self, value: Any) -> dt.date | None:
        day = super().clean(value)
        if day is not None and not DATE_FLOOR <= day <= self.today:
            floor, today = DATE_FLOOR.isoformat(), self.today.isoformat()
            raise forms.ValidationError(f"Pick a day between {floor} and today ({today}).")
        return day


class AccessFilterForm(forms.Form):
    """The matrix's filters, from the query string; each one optional."""

    project = forms.ChoiceField(required=False, label="Project")
    q = forms.CharField(required=False, max_length=200, label="Search")
    role = forms.ChoiceField(
        required=False,
        label="Role",
        choices=[("", "Any role"), *ProjectUser.Role.choices, (ROLE_UNKNOWN, "Not known")],
    )
    kind = forms.ChoiceField(
        required=False, label="Kind", choices=[("", "Everyone"), *KIND_LABELS.items()]
    )
    path = forms.ChoiceField(
        required=False,
        label="Path",
        choices=[
            ("", "Any path"),
            (PATH_DIRECT, "Direct"),
            (PATH_GROUP, "Through a group"),
            (PATH_KEY, "Through a key"),
        ],
    )

    def __init__(
        self, *args: Any, projects: list[tuple[str, str]], today: dt.date, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [("", "All projects"), *projects]
        self.fields["as_of"] = DayField(today=today, required=False, label="As of")

    def value(self, name: str) -> Any:
        return self.cleaned_data.get(name) if self.is_valid() else None

    @property
    def filtered(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(f) for f in self.fields)


class ChangesForm(forms.Form):
    """From and to (both included): what changed in access between two days."""

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["start"] = DayField(today=today, label="From")
        self.fields["end"] = DayField(today=today, label="To")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The last day must be on or after the first day.")
            elif (end - start).days >= MAX_CHANGE_DAYS:
                self.add_error("end", f"Pick at most {MAX_CHANGE_DAYS} days.")
        return data


class AccessGridForm(AccessFilterForm):
    """The grid's filters: the list's, less what has no row there (keys), and its projects page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (value, label) for value, label in self.fields["kind"].choices if value != KIND_API_KEY
        ]
        self.fields["path"].choices = [
            (value, label) for value, label in self.fields["path"].choices if value != PATH_KEY
        ]
        self.fields["columns"] = forms.IntegerField(
            required=False, min_value=1, max_value=MAX_COLUMN_PAGE, label="Projects page"
        )

    @property
    def filtered(self) -> bool:
        return self.is_valid() and any(
            self.cleaned_data.get(f) for f in self.fields if f != "columns"
        )
