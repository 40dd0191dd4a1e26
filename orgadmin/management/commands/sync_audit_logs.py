"""Sync an organization's audit log now: from its watermark, or from a date (a backfill)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgadmin.client import OrgAPIError
from orgadmin.models import Organization
from orgadmin.sync.audit import audit_counts_rebuild
from orgadmin.sync.audit_sources import NoAuditLog, audit_sync
from orgadmin.sync.runs import SyncBusy


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since must be a date like 2025-01-31, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Fetch the audit log of one organization into the database. Without --since/--days it "
        "continues from where the last run got to (the first run reads the whole history). "
        "Running it again adds nothing that is already stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the connection's display name")
        window = parser.add_mutually_exclusive_group()
        window.add_argument("--since", help="read events from this UTC date on (YYYY-MM-DD)")
        window.add_argument("--days", type=int, help="read the events of the last N days")
        parser.add_argument(
            "--rebuild-counts",
            action="store_true",
            help="recompute the explorer's pre-aggregated counts from the stored events",
        )

    def handle(self, *args, org: str, since: str | None, days: int | None, **options) -> None:
        connection = Organization.objects.filter(name__iexact=org.strip()).first()
        if connection is None:
            names = ", ".join(Organization.objects.values_list("name", flat=True)) or "none yet"
            raise CommandError(f"No connection named {org!r}. Connections: {names}.")
        start = None
        if since is not None:
            start = dt.datetime.combine(_date(since), dt.time(), tzinfo=dt.UTC)
        elif days is not None:
            if not 1 <= days <= 3650:
                raise CommandError("--days must be between 1 and 3650.")
            start = dt.datetime.now(tz=dt.UTC) - dt.timedelta(days=days)
        if start is not None and start > dt.datetime.now(tz=dt.UTC):
            raise CommandError("--since is in the future: there is nothing to read yet.")
        try:
            run = audit_sync(org=connection, since=start)
        except NoAuditLog as exc:
            raise CommandError(str(exc)) from None
        except SyncBusy as exc:
            raise CommandError(f"{exc} Try again when it has finished.") from None
        except OrgAPIError as exc:
            raise CommandError(
                f"The sync stopped: {exc}. Events stored so far are kept; run it again to resume."
            ) from None
        self.stdout.write(
            f"Synced the audit log of “{connection.name}”: {run.rows_written} new events "
            f"in {run.requests_made} requests."
        )
        if options["rebuild_counts"]:
            cells = audit_counts_rebuild(org=connection)
            self.stdout.write(f"Rebuilt {cells} count cells.")
