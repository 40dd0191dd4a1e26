"""The demo organization synced as a worker would (directory, audit log, the last 30 days of
usage and costs), on the simulator's clock, and its findings computed."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.sync.usage import usage_sync
from orgadmin.hygiene.refresh import hygiene_refresh
from orgadmin.sync.audit_sources import audit_sync
from orgadmin.sync.directory import directory_sync


def sync_all(org) -> None:
    directory_sync(org=org)
    audit_sync(org=org)
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # Costs are what findings read (spend per key and project); one usage family keeps it quick.
    usage_sync(org=org, start=today - dt.timedelta(days=31), families=["completions"])


@pytest.fixture
def hygienic(org, simulator, clock):
    """The demo synced and checked; `clock` is the dashboard's time (the simulator's hour)."""
    from django.utils import timezone

    sync_all(org)
    hygiene_refresh(org=org, now=timezone.now())
    return org
