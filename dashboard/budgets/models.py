"""Budgets: an amount per period (a month, a quarter or a custom range of days in the reporting
timezone) for the organization or a part of it (a project, an API key, a model, or any
combination), with thresholds on actual spend and a "forecast to exceed" switch.

The alerts they raise are `dashboard.alerts.models.Alert`s (kind "budget"), keyed by the budget,
its period, its terms' revision and the threshold (dashboard/budgets/services.py), so a check
that runs after every sync alerts once per threshold and period.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dashboard.models import StoredForecastFields
from dashboard.periods import add_months
from orgadmin.models import Organization

DEFAULT_THRESHOLDS = (50, 80, 100)
THRESHOLD_MIN, THRESHOLD_MAX = 1, 1000
MAX_THRESHOLDS = 10
# A custom range is at most what the Costs page shows at once, so that its link works.
MAX_RANGE_DAYS = 731
# What a person sets (the form's fields, the services' keywords).
FIELDS = (
    "name",
    "amount",
    "period",
    "start",
    "end",
    "project_id",
    "api_key_id",
    "model",
    "thresholds",
    "forecast_alert",
)
# What changes a budget's terms: its alerts in the current period then start over (revision).
TERMS = ("amount", "currency", "period", "start", "end", "project_id", "api_key_id", "model")


def default_thresholds() -> list[int]:
    return list(DEFAULT_THRESHOLDS)


def thresholds_check(value: Any) -> None:
    """A list of whole percents, each 1 to 1000, no repeats, at most MAX_THRESHOLDS."""
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ValidationError("Thresholds are whole percents, e.g. 50, 80, 100.")
    outside = [v for v in value if not THRESHOLD_MIN <= v <= THRESHOLD_MAX]
    if outside:
        raise ValidationError(
            f"Each threshold is between {THRESHOLD_MIN} and {THRESHOLD_MAX} %: "
            f"{', '.join(map(str, outside))} is not."
        )
    repeated = sorted({v for v in value if value.count(v) > 1})
    if repeated:
        raise ValidationError(f"Each threshold once: {', '.join(map(str, repeated))} is repeated.")
    if len(value) > MAX_THRESHOLDS:
        raise ValidationError(f"At most {MAX_THRESHOLDS} thresholds.")


class Budget(models.Model):
    """An amount the organization (or a project, key or model of it) means to spend at most in
    each period. Days are the reporting timezone's, as on the Costs page."""

    class Period(models.TextChoices):
        MONTH = "month", "Each month"
        QUARTER = "quarter", "Each quarter"
        CUSTOM = "custom", "A custom range"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="budgets")
    name = models.CharField(max_length=100)
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    # The organization's cost currency: costs in another currency don't count towards it.
    currency = models.CharField(max_length=10, default="usd")
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTH)
    # A custom range's first and last day (both included); blank for a month or a quarter.
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    # The scope: blank is any; set ones combine (a key of a project, a model of a key...).
    project_id = models.CharField(max_length=100, blank=True)
    api_key_id = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200, blank=True)
    # Percents of the amount whose crossing by actual spend alerts, ascending.
    thresholds = models.JSONField(default=default_thresholds, validators=[thresholds_check])
    forecast_alert = models.BooleanField(
        default=True, help_text="Alert when the period's forecast exceeds the amount."
    )
    # Bumped when the terms (TERMS) change: the current period's alerts then start over.
    revision = models.PositiveIntegerField(default=0, editable=False)
    # When the terms were last set (added, or TERMS changed): a period that ended before it is
    # not judged by these terms (the check's look back at the period just ended).
    terms_set_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["org", "name"], name="budget_name_per_org"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="budget_amount_positive"),
            models.CheckConstraint(
                condition=~Q(period="custom")
                | Q(start__isnull=False, end__isnull=False, end__gte=models.F("start")),
                name="budget_custom_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.period != self.Period.CUSTOM:
            self.start = self.end = None
            return
        if self.start is None or self.end is None:
            raise ValidationError(
                {"start" if self.start is None else "end": "A custom range needs both days."}
            )
        if self.end < self.start:
            raise ValidationError({"end": "The last day must be on or after the first."})
        if (self.end - self.start).days + 1 > MAX_RANGE_DAYS:
            raise ValidationError({"end": f"A range of at most {MAX_RANGE_DAYS} days."})

    @property
    def scoped(self) -> bool:
        return bool(self.project_id or self.api_key_id or self.model)

    def period_of(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The period `today` falls in: its first and last day (both included). A custom
        budget's is its range, whether `today` is in it or not."""
        if self.period == self.Period.CUSTOM and self.start and self.end:
            return self.start, self.end
        if self.period == self.Period.QUARTER:
            first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
            return first, add_months(first, 3) - dt.timedelta(days=1)
        last = calendar.monthrange(today.year, today.month)[1]
        return today.replace(day=1), today.replace(day=last)

    def previous_period(self, today: dt.date) -> tuple[dt.date, dt.date] | None:
        """The last period that ended before `today`: the month or quarter before the current
        one, a custom budget's range once it is over; None for a range not over yet."""
        start, end = self.period_of(today)
        if self.period == self.Period.CUSTOM:
            return (start, end) if end < today else None
        return self.period_of(start - dt.timedelta(days=1))

    def threshold_amount(self, percent: int) -> Decimal:
        """The spend at which `percent` is crossed, to the cent."""
        return (self.amount * percent / 100).quantize(Decimal("0.01"))


class StoredForecast(StoredForecastFields):
    """A budget's forecast for its current period's end, as last computed (a fit takes up to a
    second): written by the check after each usage sync, read by the page. Used only while its
    `inputs` digest (dashboard/budgets/forecasts.py: the forecasting code, the scope's daily
    history, today, the period, the amount) is today's; otherwise computed again and replaced."""

    budget = models.OneToOneField(
        Budget, on_delete=models.CASCADE, primary_key=True, related_name="stored_forecast"
    )
    crosses_on = models.DateField(null=True, blank=True)  # on the expected path, if it does

    def __str__(self) -> str:
        return f"{self.budget_id}: {self.expected} ({self.computed_at:%Y-%m-%d %H:%M})"
