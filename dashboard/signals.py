"""Rows saved one by one (the admin, a shell, a test's fixture) get their aggregates as a sync's
pages do. The sync itself writes in bulk, and rolls each page up in its own transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models.signals import post_save

from dashboard.models import USAGE_MODELS, CostBucket, UsageBucket
from dashboard.sync.writer import HOUR, cost_rollup, floor_to, usage_rollup


def usage_row_saved(sender: type[UsageBucket], instance: UsageBucket, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # loaddata: the fixture holds its aggregates too
    hour = floor_to(instance.bucket_start, HOUR)
    usage_rollup(org=instance.org, family=sender.family, start=hour, end=hour + HOUR)


def cost_row_saved(sender: type[CostBucket], instance: CostBucket, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    day = instance.day
    if not isinstance(day, dt.date):
        day = dt.date.fromisoformat(str(day))
    cost_rollup(org=instance.org, start=day, end=day + dt.timedelta(days=1))


def connect() -> None:
    """Listen for rows saved one by one (called once, when the app is ready)."""
    for slug, model in USAGE_MODELS.items():
        post_save.connect(usage_row_saved, sender=model, dispatch_uid=f"rollup.usage.{slug}")
    post_save.connect(cost_row_saved, sender=CostBucket, dispatch_uid="rollup.costs")
