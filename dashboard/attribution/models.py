"""An Admin's own unit price for a line item, from a day on: it wins over the vendored table
(data/prices.toml) wherever the bill gives no quantity to derive the price from."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dashboard.models import ScaledDecimalField
from orgadmin.models import Organization

# What a price is per, and how many of the usage metric's units that is (tokens, images,
# characters, seconds, calls, sessions).
PER_UNITS: dict[str, int] = {
    "1M tokens": 1_000_000,
    "1k tokens": 1_000,
    "token": 1,
    "image": 1,
    "1M characters": 1_000_000,
    "minute": 60,
    "second": 1,
    "1k calls": 1_000,
    "call": 1,
    "session": 1,
}


class PriceOverride(models.Model):
    """US dollars per `per` of one line item (as billed, e.g. "gpt-4o, input (batch)"), from
    `effective_from` (a UTC day) until the next override of the same line item."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    line_item = models.CharField(max_length=200)
    usd = ScaledDecimalField(places=12)
    per = models.CharField(max_length=20, choices=[(p, p) for p in PER_UNITS])
    effective_from = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "line_item", "effective_from"], name="price_override_key"
            )
        ]
        ordering = ["line_item", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.line_item}: ${self.usd} per {self.per} from {self.effective_from}"
