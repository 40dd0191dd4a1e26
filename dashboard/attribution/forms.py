"""Attribution's forms: the range of UTC days a page shows, and an Admin's price override.
Validation only."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from dashboard.attribution.models import PER_UNITS
from dashboard.attribution.selectors import MAX_DAYS

DEFAULT_DAYS = 30
DATE_ERROR = "Enter a date as YYYY-MM-DD, e.g. 2025-03-01."
EARLIEST = dt.date(2020, 1, 1)


def utc_today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


class RangeForm(forms.Form):
    """From `start` to `end`, both included (UTC days); the last 30 days by default."""

    start = forms.DateField(required=False, error_messages={"invalid": DATE_ERROR})
    end = forms.DateField(required=False, error_messages={"invalid": DATE_ERROR})
    person = forms.CharField(required=False, max_length=100)
    key = forms.CharField(required=False, max_length=100)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data if data is not None else {}, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        today = utc_today()
        end = data.get("end") or today
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise ValidationError("The first day comes after the last one.")
        if start < EARLIEST or end > today + dt.timedelta(days=1):
            raise ValidationError(f"Pick days between {EARLIEST} and today.")
        if (end - start).days + 1 > MAX_DAYS:
            raise ValidationError(f"Pick at most {MAX_DAYS} days.")
        data["start"], data["end"] = start, end
        return data

    def span(self) -> tuple[dt.date, dt.date]:
        """[start, end) of the valid form: the end exclusive, as the selectors take it."""
        return self.cleaned_data["start"], self.cleaned_data["end"] + dt.timedelta(days=1)

    def query(self, **more: str) -> str:
        """The range (and `more`) as a query string, for links that keep it."""
        from urllib.parse import urlencode

        values = {"start": self.cleaned_data["start"], "end": self.cleaned_data["end"], **more}
        return urlencode({k: v for k, v in values.items() if v is not None})


class PriceOverrideForm(forms.Form):
    line_item = forms.CharField(
        max_length=200, help_text="Exactly as the bill names it, e.g. “gpt-4o, input (batch)”."
    )
    usd = forms.CharField(label="US dollars", max_length=40)
    per = forms.ChoiceField(choices=[(p, p) for p in PER_UNITS], initial="1M tokens")
    effective_from = forms.DateField(label="From (UTC day)", error_messages={"invalid": DATE_ERROR})
    note = forms.CharField(max_length=200, required=False)

    def clean_line_item(self) -> str:
        text = " ".join(self.cleaned_data["line_item"].split())
        if not text:
            raise ValidationError("Name the line item.")
        return text

    def clean_usd(self) -> Decimal:
        text = re.sub(r"[\s,$]", "", self.cleaned_data["usd"])
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValidationError("Enter a price such as 2.50 or 0.0004.") from None
        if not value.is_finite() or value < 0 or value >= 10**6:
            raise ValidationError("Enter a price from 0 to 999,999.")
        if value != value.quantize(Decimal("1e-12")):
            raise ValidationError("At most 12 digits after the point.")
        return value

    def clean_effective_from(self) -> dt.date:
        day = self.cleaned_data["effective_from"]
        if day < EARLIEST or day > utc_today() + dt.timedelta(days=366):
            raise ValidationError(f"Pick a day from {EARLIEST} to a year from now.")
        return day


class OverrideRemoveForm(forms.Form):
    override = forms.IntegerField(min_value=1, label="Override to remove")
