"""Sync usage and costs: incrementally, or backfill from a date or a number of days back."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from dashboard.sync.usage import usage_sync
from orgadmin.client import OrgAPIError
from orgadmin.models import Organization
from orgadmin.sync.runs import SyncBusy


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since takes a date as YYYY-MM-DD, not “{value}”.") from None


class Command(BaseCommand):
    help = (
        "Sync usage and costs from the Admin API (an xAI team: its costs, from the Management "
        "API's usage analytics). Without --since/--days each endpoint resumes from its watermark "
        "(what the hourly job does); with them, backfill from that day (UTC)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="the connection's display name (default: every one)")
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--since", type=_date, help="backfill from this UTC day, YYYY-MM-DD")
        when.add_argument("--days", type=int, help="backfill this many days back from now")
        parser.add_argument(
            "--refetch",
            action="store_true",
            help="fetch the whole window again, even the parts already held",
        )

    def handle(self, *args, org=None, since=None, days=None, refetch=False, **options) -> None:
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        orgs = Organization.objects.all()
        if org:
            orgs = orgs.filter(name=org)
            if not orgs.exists():
                names = ", ".join(Organization.objects.values_list("name", flat=True)) or "none"
                raise CommandError(f"No connection is called “{org}” (connections: {names}).")
        start = None
        if since is not None:
            start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
            if start >= timezone.now():
                raise CommandError("--since must be a day in the past.")
        elif days is not None:
            start = timezone.now() - dt.timedelta(days=days)
        failed = False
        for connection in orgs:
            began = time.monotonic()
            try:
                run = usage_sync(org=connection, start=start, refetch=refetch)
            except SyncBusy as exc:
                self.stderr.write(f"{connection}: {exc}")
                failed = True
                continue
            except OrgAPIError as exc:
                self.stderr.write(f"{connection}: sync failed: {exc}")
                failed = True
                continue
            self.stdout.write(
                f"{connection}: {run.requests_made} pages, {run.rows_written} rows written "
                f"in {time.monotonic() - began:.1f} s"
            )
            if run.failures:
                # Partial: the other streams are stored; say which were not, and fail the command.
                self.stderr.write(f"{connection}: not synced: {run.error}")
                failed = True
        if failed:
            raise CommandError("Some syncs did not finish; see above.")
