"""Writes of the dashboard app that aren't a sync: the reporting settings."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from dashboard.models import ReportingSettings
from dashboard.sync.rollups import rollups_timezone_set
from orgadmin.models import Organization
from orgadmin.services.action_log import action_record


def reporting_timezone_set(*, org: Organization, timezone: str, actor: Any) -> ReportingSettings:
    """Make `timezone` the organization's default reporting timezone, cut its local rollups in
    it, and log who did it."""
    with transaction.atomic():
        # First: it waits for a sync page of this organization that is being written (and
        # makes the next wait for this), so the local rollups follow one timezone only.
        rollups_timezone_set(org=org, timezone=timezone)
        settings, _ = ReportingSettings.objects.update_or_create(
            org=org, defaults={"timezone": timezone}
        )
        action_record(
            actor=actor,
            org=org,
            action="reporting.timezone",
            summary=f"Set the reporting timezone to {timezone}",
            resource_type="reporting_settings",
        )
    return settings
