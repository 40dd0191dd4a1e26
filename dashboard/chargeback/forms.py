"""Chargeback's forms: validation only (the services refuse what the database would)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from dashboard.chargeback.models import Assignment, CostCentre, SharedRule

MONTH_ERROR = "Enter a month as YYYY-MM, e.g. 2025-10."
# An OpenAI id as the API hands them out (proj_…, key_…, user-…): never a path or a blank.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
ID_ERROR = "Enter an OpenAI id such as proj_abc123, key_abc123 or user-abc123."


def parse_month(text: str) -> dt.date | None:
    """“2025-10” as its first day, else None."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return None
    return dt.date(year, month, 1)


class MonthField(forms.CharField):
    def to_python(self, value: Any) -> dt.date | None:
        text = super().to_python(value)
        if not text:
            return None
        month = parse_month(text)
        if month is None:
            raise ValidationError(MONTH_ERROR)
        return month


class MonthForm(forms.Form):
    """The report's month (YYYY-MM) and, to drill in, one centre's lines."""

    month = MonthField(required=False)
    centre = forms.CharField(required=False, max_length=100)


class CloseForm(forms.Form):
    month = MonthField()


class ReopenForm(forms.Form):
    month = MonthField()
    reason = forms.CharField(
        max_length=300,
        help_text="Kept in the action log, e.g. “the October invoice was credited”.",
    )


class CentreForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="As the report names it, e.g. “Search team”.")
    code = forms.CharField(max_length=40, required=False, help_text="The ledger's code, if any.")
    owner = forms.CharField(max_length=200, required=False, help_text="Who answers for it.")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give it a name.")
        return name


class _CentreChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: CostCentre) -> str:
        return obj.name


def _id_field(label: str, help_text: str, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=100,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs={"list": "known-ids", "autocomplete": "off"}),
    )


NO_CENTRE_YET = "{what}: add a cost centre first, then assign to it or share costs between centres."


class AssignmentForm(forms.Form):
    kind = forms.ChoiceField(label="What", choices=Assignment.Kind.choices)
    value = _id_field("Its id", "Pick from the list or paste an id: key_…, user-…, proj_….")
    centre = _CentreChoice(queryset=CostCentre.objects.none(), label="Cost centre")

    def __init__(self, *args: Any, centres: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres

    def clean_value(self) -> str:
        value = self.cleaned_data["value"].strip()
        if not ID_PATTERN.match(value):
            raise ValidationError(ID_ERROR)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.fields["centre"].queryset.exists():
            self.add_error(None, NO_CENTRE_YET.format(what="Nothing assigned"))
        return data


class RuleForm(forms.Form):
    """A shared-cost rule; one percent field per centre (share_<centre id>)."""

    name = forms.CharField(max_length=100, help_text="e.g. “Default project, by team”.")
    target = forms.ChoiceField(label="What is shared", choices=SharedRule.Target.choices)
    project_id = _id_field(
        "The project (when a project is shared)", "Its id, e.g. the Default project's.",
        required=False,
    )  # fmt: skip
    method = forms.ChoiceField(label="How", choices=SharedRule.Method.choices)

    def __init__(self, *args: Any, centres: list[CostCentre], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.centres = centres
        for centre in centres:
            self.fields[f"share_{centre.pk}"] = forms.CharField(
                label=f"{centre.name} %",
                required=False,
                max_length=10,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}),
            )

    def share_fields(self) -> list[forms.BoundField]:
        return [self[f"share_{c.pk}"] for c in self.centres]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.centres:
            self.add_error(None, NO_CENTRE_YET.format(what="No rule added"))
        if self.errors:
            return data
        if data["target"] == SharedRule.Target.PROJECT:
            project_id = (data.get("project_id") or "").strip()
            if not ID_PATTERN.match(project_id):
                self.add_error("project_id", "Enter the id of the project whose cost is shared.")
            data["project_id"] = project_id
        else:
            data["project_id"] = ""
        data["shares"] = self._shares(data["method"])
        return data

    def _shares(self, method: str) -> list[tuple[CostCentre, Decimal | None]]:
        shares = []
        for centre in self.centres:
            name = f"share_{centre.pk}"
            text = (self.cleaned_data.get(name) or "").replace("%", "").strip()
            if not text:
                continue
            try:
                percent = Decimal(text)
            except InvalidOperation:
                self.add_error(name, "Enter a percent such as 40 or 12.5.")
                continue
            if not (0 < percent <= 100) or percent != percent.quantize(Decimal("0.01")):
                self.add_error(name, "A percent above 0 and at most 100, two decimals at most.")
                continue
            shares.append((centre, percent if method == SharedRule.Method.FIXED else None))
        if method == SharedRule.Method.FIXED and not self.errors:
            if not shares:
                self.add_error(None, "Give each centre that shares the cost its percent.")
            elif sum(p or 0 for _, p in shares) != 100:
                total = sum(p or 0 for _, p in shares)
                self.add_error(None, f"The percentages add up to {total}, not 100.")
        return shares
