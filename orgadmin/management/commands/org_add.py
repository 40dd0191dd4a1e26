"""Register (or update) a connection by name. The key comes from the environment or stdin."""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgadmin.client import BaseURLRefused, admin_key_well_formed, base_url_check
from orgadmin.forms import KEY_CHARACTER_ERROR
from orgadmin.services import connections as services


class Command(BaseCommand):
    help = (
        "Add a connection to an OpenAI organization, or update the one with this name. "
        "The admin key is read from OPENAI_ADMIN_KEY or from stdin, never from the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="display name (unique)")
        parser.add_argument("--base-url", default="https://api.openai.com/v1")
        parser.add_argument(
            "--verify", action="store_true", help="call the API now and report whether it works"
        )

    def handle(self, *args, name: str, base_url: str, verify: bool, **options) -> None:
        name = " ".join(name.split())
        if not name:
            raise CommandError("--name must not be empty.")
        try:
            base_url = base_url_check(base_url)
        except BaseURLRefused as exc:
            raise CommandError(f"--base-url {base_url!r}: {exc.message}") from None
        key = os.environ.get("OPENAI_ADMIN_KEY", "").strip()
        if not key and not sys.stdin.isatty():
            key = sys.stdin.readline().strip()
        if not key:
            raise CommandError("No admin key: set OPENAI_ADMIN_KEY or pipe the key on stdin.")
        if not admin_key_well_formed(key):
            raise CommandError(KEY_CHARACTER_ERROR)
        org, created = services.connection_register(name=name, base_url=base_url, admin_key=key)
        verb = "Added" if created else "Updated"
        self.stdout.write(
            f"{verb} the connection “{org.name}” ({org.base_url}, key {org.admin_key_masked})."
        )
        if verify:
            org = services.connection_verify(org=org, areas=True)  # and what the key may do
            if org.status != org.Status.OK:
                raise CommandError(f"The API refused it: {org.status_message}")
            self.stdout.write("Verified: the API accepted the key.")
