"""An xAI team's billing page: which invoices to list, and the soft spending limit."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from orgadmin.forms.fields import DollarField

_CYCLE = re.compile(r"(\d{4})-(\d{1,2})")


class InvoiceFilterForm(forms.Form):
    """`?cycle=YYYY-MM`: only that billing cycle's invoices; empty: the last twelve months."""

    cycle = forms.CharField(label="Billing cycle", required=False, max_length=7)

    def clean_cycle(self) -> date | None:
        text = (self.cleaned_data.get("cycle") or "").strip()
        if not text:
            return None
        match = _CYCLE.fullmatch(text)
        if match is None or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2999:
            raise ValidationError("Pick a month as YYYY-MM, like 2025-06.")
        return date(int(match[1]), int(match[2]), 1)

    def cycle_or_none(self) -> date | None:
        """The cycle asked for, or None (the last year) when none or a wrong one was given."""
        return self.cleaned_data.get("cycle") if self.is_valid() else None


class SoftLimitForm(forms.Form):
    amount = DollarField(
        label="Soft limit per month (USD)",
        help_text="xAI stops serving the team's requests once the month's spend reaches it. "
        "0 means prepaid credits only: nothing is spent beyond the credits bought.",
    )

    def __init__(self, *args: Any, hard_cents: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hard_cents = hard_cents

    def clean_amount(self) -> int:
        cents = self.cleaned_data["amount"]
        if self.hard_cents is not None and cents > self.hard_cents:
            whole, rest = divmod(self.hard_cents, 100)
            raise ValidationError(
                f"At most ${whole:,}.{rest:02d}, the team's effective hard limit: xAI stops "
                "spend there anyway."
            )
        return cents
