"""Verify the stored audit log's hash chain: nothing altered, inserted or removed since stored."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgadmin.audit.chain import chain_verify
from orgadmin.forms.fields import row_id
from orgadmin.models import Organization


def _connections(org: str | None) -> list[Organization]:
    if org is None:
        return list(Organization.objects.order_by("pk"))
    value = org.strip()
    pk = row_id(value)
    found = None if pk is None else Organization.objects.filter(pk=pk)
    if not found:
        found = Organization.objects.filter(name__iexact=value)
    if not found:
        names = ", ".join(f"{o.pk} {o.name}" for o in Organization.objects.order_by("pk"))
        raise CommandError(f"No connection {org!r}. Connections: {names or 'none yet'}.")
    return list(found)


class Command(BaseCommand):
    help = (
        "Read each connection's stored audit log in the order it was stored and check every "
        "event's link (a SHA-256 of its content and of the previous link) and the head row. "
        "Names the first bad link and exits 1 when something was altered, inserted or removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="one connection, by id or display name (default: all)")

    def handle(self, *args, org: str | None, **options) -> None:
        broken, connections = 0, _connections(org)
        if not connections:
            self.stdout.write("No connections yet: there is no audit log to verify.")
        for connection in connections:
            verdict = chain_verify(org=connection)
            label = f"{connection.name} (#{connection.pk})"
            if verdict.ok:
                self.stdout.write(f"{label}: {verdict.message}")
                continue
            broken += 1
            self.stdout.write(
                f"{label}: BROKEN after {verdict.count} good events: {verdict.message}"
            )
        if broken:
            raise CommandError(
                f"The audit log chain of {broken} connection{'s are' if broken > 1 else ' is'} "
                "broken: its stored events no longer match their links (see above)."
            )
