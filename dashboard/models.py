"""Snapshots of the API's usage and cost buckets. Pages read only these; the sync writes them.

Each usage family has its own table with exactly the spec's dimensions and metrics, one row per
hourly bucket and combination of dimensions. Costs are one row per UTC day, line item, project and
API key. A dimension the API leaves null is stored as "" so that the natural key is unique (SQL
treats NULLs as distinct).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from dashboard.families import FAMILIES, Family, line_item_parts
from orgadmin.models import Organization


class ScaledDecimalField(models.BigIntegerField):
    """A Decimal stored as an integer count of 10^-places units.

    Sums are then exact on every database (SQLite would add DecimalFields as floats), and Python
    always sees a Decimal: in rows, in `values()`, and in `Sum()`.
    """

    def __init__(self, *args: Any, places: int = 9, **kwargs: Any) -> None:
        self.places = places
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["places"] = self.places
        return name, path, args, kwargs

    def to_units(self, value: Any) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        return int(value.scaleb(self.places).to_integral_value(rounding=ROUND_HALF_EVEN))

    def get_prep_value(self, value: Any) -> int | None:
        return self.to_units(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.places)

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(str(value))


class ReportingSettings(models.Model):
    """How an organization's usage and costs are reported: the timezone days are cut in."""

    org = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="reporting")
    timezone = models.CharField(max_length=64, default="UTC")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.org}: {self.timezone}"


class CostBucket(models.Model):
    """One day's cost of one line item, project and API key (the finest grouping the API has)."""

    # No index of its own (the natural key starts with the org), and no foreign-key constraint
    # in the database: see UsageBucket.org.
    org = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    day = models.DateField(help_text="The UTC day of the API's 1d bucket.")
    line_item = models.CharField(max_length=200, blank=True)
    # The model the line item bills (dashboard.families.line_item_parts), so that costs group by
    # model in the database as cheaply as by line item.
    model = models.CharField(max_length=200, blank=True, default="")
    project_id = models.CharField(max_length=100, blank=True)
    api_key_id = models.CharField(max_length=100, blank=True)
    # The simulator and the API give amounts to the pico-dollar; 10^-12 keeps every digit.
    amount = ScaledDecimalField(places=12)
    currency = models.CharField(max_length=10, default="usd")
    quantity = ScaledDecimalField(places=6, null=True, blank=True)
    quantity_unit = models.CharField(max_length=40, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "day", "line_item", "project_id", "api_key_id"],
                name="cost_bucket_natural_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.line_item or '—'}: {self.amount} {self.currency}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The sync fills `model` as it inserts; a row saved one by one gets it here.
        self.model = line_item_parts(self.line_item).model
        super().save(*args, **kwargs)


class UsageBucket(models.Model):
    """The common part of every family's table: the organization and the hourly bucket."""

    # No index of its own: the natural key starts with the org (one index less to write).
    # No foreign-key constraint in the database either: PostgreSQL checks one with a trigger per
    # inserted row, about a third of a backfill's write time, for rows that only the sync writes,
    # under a lease held on an existing organization. Deleting an organization still deletes its
    # rows (Django's CASCADE, one DELETE per table).
    org = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    bucket_start = models.DateTimeField()
    fetched_at = models.DateTimeField(default=timezone.now)

    family: Family
    daily: bool

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.family.label} {self.bucket_start:%Y-%m-%d %H:%M}"


def _dimension_field(name: str) -> models.Field:
    if name == "batch":
        # "true" / "false" as the API's boolean, "" when the API gave null.
        return models.CharField(max_length=5, blank=True)
    return models.CharField(max_length=200 if name == "model" else 100, blank=True)


def _usage_model(family: Family, class_name: str, *, daily: bool = False) -> type[UsageBucket]:
    attrs: dict[str, Any] = {"__module__": __name__, "family": family, "daily": daily}
    for dim in family.dimensions:
        attrs[dim] = _dimension_field(dim)
    for metric in family.metrics:
        attrs[metric.name] = models.BigIntegerField(
            null=not metric.required,
            blank=not metric.required,
            **({"default": 0} if metric.required else {}),
        )
    attrs["Meta"] = type(
        "Meta",
        (),
        {
            "verbose_name": f"{family.label.lower()} {'daily ' if daily else ''}usage bucket",
            "constraints": [
                models.UniqueConstraint(
                    fields=["org", "bucket_start", *family.dimensions],
                    name=f"{family.slug}{'_daily' if daily else ''}_natural_key",
                )
            ],
        },
    )
    return type(class_name, (UsageBucket,), attrs)


CompletionsUsage = _usage_model(FAMILIES["completions"], "CompletionsUsage")
EmbeddingsUsage = _usage_model(FAMILIES["embeddings"], "EmbeddingsUsage")
ModerationsUsage = _usage_model(FAMILIES["moderations"], "ModerationsUsage")
ImagesUsage = _usage_model(FAMILIES["images"], "ImagesUsage")
AudioSpeechesUsage = _usage_model(FAMILIES["audio_speeches"], "AudioSpeechesUsage")
AudioTranscriptionsUsage = _usage_model(
    FAMILIES["audio_transcriptions"], "AudioTranscriptionsUsage"
)
VectorStoresUsage = _usage_model(FAMILIES["vector_stores"], "VectorStoresUsage")
CodeInterpreterSessionsUsage = _usage_model(
    FAMILIES["code_interpreter_sessions"], "CodeInterpreterSessionsUsage"
)
FileSearchCallsUsage = _usage_model(FAMILIES["file_search_calls"], "FileSearchCallsUsage")
WebSearchCallsUsage = _usage_model(FAMILIES["web_search_calls"], "WebSearchCallsUsage")

# The same buckets summed per UTC day, rebuilt by the sync from the hourly rows of every day a
# page touched (in the page's transaction). Pages that cut days at UTC midnight read these: a
# twenty-fourth of the rows. Gauges (bytes stored) hold the day's mean.
DAILY_MODELS: dict[str, type[UsageBucket]] = {
    slug: _usage_model(
        family, f"{''.join(w.title() for w in slug.split('_'))}DailyUsage", daily=True
    )
    for slug, family in FAMILIES.items()
}
globals().update({m.__name__: m for m in DAILY_MODELS.values()})

USAGE_MODELS: dict[str, type[UsageBucket]] = {
    m.family.slug: m
    for m in (
        CompletionsUsage,
        EmbeddingsUsage,
        ModerationsUsage,
        ImagesUsage,
        AudioSpeechesUsage,
        AudioTranscriptionsUsage,
        VectorStoresUsage,
        CodeInterpreterSessionsUsage,
        FileSearchCallsUsage,
        WebSearchCallsUsage,
    )
}


# --- rollups: the aggregates the pages read -------------------------------------------------------


class UsageRollup(models.Model):
    """A family's usage summed per bucket along one dimension (or none): what a page that groups
    by one dimension, or by none, reads instead of the raw rows.

    `grain` is "1h" (a UTC hour), "1d" (a UTC day) or "local" (a day of the timezone in
    RollupTimezone, `bucket_start` being its local midnight); `dimension` is "" for the total, or
    the dimension whose `value` the row is of; `hours` counts the hours with rows in the bucket,
    so that a level (bytes stored) is its sum divided by its hours, as from the raw rows.
    Maintained by dashboard.sync.rollups in the transaction that writes the raw rows.
    """

    # As UsageBucket.org: no index of its own, no constraint in the database, Django's CASCADE.
    org = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    grain = models.CharField(max_length=5)
    dimension = models.CharField(max_length=20, blank=True)
    value = models.CharField(max_length=200, blank=True)
    bucket_start = models.DateTimeField()
    hours = models.IntegerField()

    family: Family

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.family.label} {self.grain} {self.dimension}={self.value} {self.bucket_start}"


def _rollup_model(family: Family) -> type[UsageRollup]:
    attrs: dict[str, Any] = {"__module__": __name__, "family": family}
    for metric in family.metrics:
        attrs[metric.name] = models.BigIntegerField(null=not metric.required, blank=True)
    attrs["Meta"] = type(
        "Meta",
        (),
        {
            "verbose_name": f"{family.label.lower()} usage rollup",
            # The order a page reads: one grain, one dimension, a range of buckets.
            "constraints": [
                models.UniqueConstraint(
                    fields=["org", "grain", "dimension", "bucket_start", "value"],
                    name=f"{family.slug}_rollup_key",
                )
            ],
        },
    )
    name = f"{''.join(w.title() for w in family.slug.split('_'))}Rollup"
    return type(name, (UsageRollup,), attrs)


ROLLUP_MODELS: dict[str, type[UsageRollup]] = {
    slug: _rollup_model(family) for slug, family in FAMILIES.items()
}
globals().update({m.__name__: m for m in ROLLUP_MODELS.values()})


class CostRollup(models.Model):
    """Costs summed per UTC day along one dimension ("" for the total; line_item, model,
    project_id or api_key_id), per currency and quantity unit (so a model's tokens stay apart
    from its images). Maintained with the cost rows, like UsageRollup."""

    org = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    dimension = models.CharField(max_length=20, blank=True)
    day = models.DateField()
    value = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=10)
    quantity_unit = models.CharField(max_length=40, blank=True)
    amount = ScaledDecimalField(places=12)
    quantity = ScaledDecimalField(places=6, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "dimension", "day", "value", "currency", "quantity_unit"],
                name="cost_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.value}: {self.amount} {self.currency}"


class RollupTimezone(models.Model):
    """The timezone an organization's "local" rollups are cut in: its reporting timezone when
    they were built. A page in another timezone folds the hourly rollups instead."""

    org = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    timezone = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.org_id}: {self.timezone}"


class DataGeneration(models.Model):
    """A counter per organization that moves, in the same transaction, with every write to its
    usage or cost rows (and their aggregates). Page results cached under it are never stale:
    once a write commits, the key they were stored under is never read again."""

    org = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.org_id}: {self.value}"


# --- forecasts kept between syncs (dashboard/forecast_store.py) -----------------------------------


class StoredForecastFields(models.Model):
    """The columns of a month-end forecast as last computed (a fit takes up to a second), used
    only while `inputs`, the digest of what it was made from, is today's
    (dashboard/forecast_store.py): a budget's (budgets.StoredForecast), a project's or a
    model's (GroupForecast)."""

    inputs = models.CharField(max_length=64)  # sha256 hex of what the forecast was made from
    expected = models.DecimalField(max_digits=16, decimal_places=2)
    low = models.DecimalField(max_digits=16, decimal_places=2)
    high = models.DecimalField(max_digits=16, decimal_places=2)
    level = models.FloatField()  # of the band: 0.8 is 80 % likely between low and high
    note = models.CharField(max_length=300)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class GroupForecast(StoredForecastFields):
    """This month's end forecast of one project or model of an organization (or of the rest of
    them, `value` "*"), in its main currency: stored by the check after each usage sync, shown
    on the Overview (dashboard/group_forecasts.py)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(max_length=20)  # project_id or model
    value = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "dimension", "value"], name="group_forecast_key")
        ]

    def __str__(self) -> str:
        return f"{self.dimension}={self.value}: {self.expected} ({self.computed_at:%Y-%m-%d %H:%M})"
