"""`manage.py digests send`: what the beat runs every 15 minutes, once, now."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dashboard.digests.tasks import digests_tick


class Command(BaseCommand):
    help = "Send the digests that are due (and retry those that failed), as the beat does."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["send"])

    def handle(self, *args, **options) -> None:
        queued = digests_tick()
        self.stdout.write(f"Queued {queued} digest(s).")
