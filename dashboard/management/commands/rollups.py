"""Rebuild the aggregates the pages read from the raw usage and cost rows, or check they agree."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from dashboard.sync.rollup_check import rollups_check, timezone_note
from dashboard.sync.rollups import rollups_rebuild
from orgadmin.forms.fields import row_id
from orgadmin.models import Organization


class Command(BaseCommand):
    help = (
        "rebuild: build every aggregate of the usage and cost rows again from the raw rows (one "
        "transaction per connection). check: compute them again and compare with what is "
        "stored; exit status 1, listing the first differences, when they disagree."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rebuild", "check"])
        parser.add_argument("--org", help="the connection's id or display name (default: all)")
        parser.add_argument(
            "--limit", type=int, default=20, help="differences listed per connection (check)"
        )

    def handle(self, *args, action: str, org: str | None = None, limit: int = 20, **options):
        orgs = Organization.objects.order_by("pk")
        if org:
            pk = row_id(org)
            orgs = orgs.filter(name=org) if pk is None else orgs.filter(pk=pk)
            if not orgs.exists():
                names = ", ".join(Organization.objects.values_list("name", flat=True)) or "none"
                raise CommandError(f"No connection is “{org}” (connections: {names}).")
        disagree = 0
        for connection in orgs:
            began = time.monotonic()
            if action == "rebuild":
                with transaction.atomic():
                    rollups_rebuild(org=connection)
                took = time.monotonic() - began
                self.stdout.write(f"{connection}: aggregates rebuilt in {took:.1f} s")
                continue
            note = timezone_note(org=connection)
            if note:
                self.stdout.write(f"{connection}: note: {note}")
            differences = rollups_check(org=connection, limit=limit)
            if not differences:
                self.stdout.write(f"{connection}: the aggregates agree with the raw rows")
                continue
            disagree += 1
            more = " (the first ones)" if len(differences) >= limit else ""
            self.stdout.write(f"{connection}: {len(differences)} differences{more}:")
            for difference in differences:
                self.stdout.write(f"  {difference}")
        if disagree:
            raise CommandError(
                f"The aggregates of {disagree} connection(s) differ from the raw rows: "
                "`manage.py rollups rebuild` builds them again."
            )
