"""The budget form: validation only. The model's own checks (dashboard/budgets/models.py) run
here too, so what a page refuses and what the service refuses are the same rules."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from dashboard.budgets.models import DEFAULT_THRESHOLDS, FIELDS, Budget

DATE_ERROR = "Enter a date as YYYY-MM-DD, e.g. 2025-03-01."
ANY = ("", "Any")


class AmountField(forms.DecimalField):
    """An amount as people type it: “1,000”, “$ 1000.50”."""

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str):
            value = re.sub(r"[\s,$]", "", value)
        try:
            return super().to_python(value)
        except ValidationError:
            raise ValidationError("Enter an amount such as 1,000 or 250.50.") from None


class ThresholdsField(forms.CharField):
    """“50, 80, 100” as [50, 80, 100]; the model checks the range and repeats."""

    def to_python(self, value: Any) -> list[int]:
        if isinstance(value, list):
            return value
        text = (super().to_python(value) or "").replace("%", " ")
        parts = [p for p in re.split(r"[\s,;]+", text) if p]
        out = []
        for part in parts:
            try:
                number = Decimal(part)
            except InvalidOperation:
                raise ValidationError(f"“{part}” is not a percent: enter whole numbers.") from None
            if number != number.to_integral_value():
                raise ValidationError(f"{part} is not a whole percent.")
            out.append(int(number))
        return out

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return super().prepare_value(value)


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        required=False,
        label=label,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_ERROR},
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class BudgetForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="How pages and alerts name it, e.g. “Production” or “Batch jobs”."
    )
    amount = AmountField(
        label="Amount (USD)",
        max_digits=14,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    period = forms.ChoiceField(choices=Budget.Period.choices, initial=Budget.Period.MONTH)
    start = _date_field("First day (custom range)")
    end = _date_field("Last day (custom range)")
    project_id = forms.ChoiceField(label="Project", required=False)
    api_key_id = forms.ChoiceField(label="API key", required=False)
    model = forms.ChoiceField(label="Model", required=False)
    thresholds = ThresholdsField(
        required=False,
        label="Alert at (% of the amount spent)",
        initial=list(DEFAULT_THRESHOLDS),
        help_text="Whole percents, 1 to 1000, e.g. 50, 80, 100. Each alerts once per period.",
    )
    forecast_alert = forms.BooleanField(
        required=False,
        initial=True,
        label="Also alert when the forecast for the period's end exceeds the amount",
    )

    def __init__(
        self, *args: Any, choices: dict[str, list[tuple[str, str]]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        current = {**self.initial, **(self.data.dict() if hasattr(self.data, "dict") else {})}
        for field in ("project_id", "api_key_id", "model"):
            options = list(choices.get(field, []))
            value = current.get(field) or ""
            if value and value not in {v for v, _ in options}:  # kept, though not seen lately
                options.append((value, value))
            self.fields[field].choices = [ANY, *options]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        budget = Budget(**{f: data.get(f) for f in FIELDS})
        budget.thresholds = data.get("thresholds") or []
        try:
            budget.full_clean(exclude=["org", "created_by"], validate_unique=False)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
            return data
        data["start"], data["end"] = budget.start, budget.end  # cleared unless custom
        data["thresholds"] = sorted(budget.thresholds)
        return data

    def values(self) -> dict[str, Any]:
        """The cleaned fields, as the services take them."""
        return {f: self.cleaned_data[f] for f in FIELDS}

    @staticmethod
    def initial_of(budget: Budget) -> dict[str, Any]:
        return {f: getattr(budget, f) for f in FIELDS}
