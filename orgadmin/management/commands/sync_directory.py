"""Refresh the directory cache of one connection now (the beat task does it every 15 minutes)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgadmin.client import OrgAPIError
from orgadmin.models import Organization
from orgadmin.sync.directory import DirectorySyncIncomplete, directory_sync
from orgadmin.sync.runs import SyncBusy
from orgadmin.tasks import directory_synced


class Command(BaseCommand):
    help = (
        "Sync the directory (users, invites, projects, members, service accounts, keys, "
        "certificates, limits, groups and roles) of one connection from the Admin API."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="the connection's display name")
        parser.add_argument(
            "--section",
            action="append",
            dest="sections",
            help="sync only this part (users, invites, projects, …, project:<id>); repeatable",
        )

    def handle(self, *args, org: str, sections: list[str] | None, **options) -> None:
        connection = Organization.objects.filter(name=org).first()
        if connection is None:
            names = ", ".join(Organization.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No connection named “{org}”. Known connections: {names}.")
        try:
            run = directory_sync(org=connection, sections=sections)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except SyncBusy as exc:
            raise CommandError(f"{exc} Try again when it has finished.") from None
        except (DirectorySyncIncomplete, OrgAPIError) as exc:
            raise CommandError(f"The sync did not complete: {exc}") from None
        directory_synced(connection)  # the hygiene findings and the access history, as the task
        self.stdout.write(
            f"Synced the directory of “{connection.name}”: {run.requests_made} request(s), "
            f"{run.rows_written} row(s) written or removed."
        )
