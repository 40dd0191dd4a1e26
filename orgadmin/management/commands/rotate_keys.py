"""Re-encrypt stored admin keys with the newest key in FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from orgadmin.services import connections as services


class Command(BaseCommand):
    help = "Re-encrypt every stored admin key under the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        count = services.keys_rotate()
        self.stdout.write(f"Re-encrypted {count} key(s).")
