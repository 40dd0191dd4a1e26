"""Register (or update) a connection by name. The key comes from the environment or stdin."""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgadmin.client import BaseURLRefused, admin_key_well_formed, base_url_check
from orgadmin.forms import KEY_CHARACTER_ERROR
from orgadmin.models import Organization
from orgadmin.providers import provider_named
from orgadmin.services import connections as services

# Where each provider's key is read from (never from the command line).
KEY_VARIABLES = {"openai": "OPENAI_ADMIN_KEY", "xai": "XAI_MANAGEMENT_KEY"}


class Command(BaseCommand):
    help = (
        "Add a connection to an OpenAI organization or an xAI team, or update the one with this "
        "name. The key is read from OPENAI_ADMIN_KEY (OpenAI) or XAI_MANAGEMENT_KEY (xAI), or "
        "from stdin, never from the command line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="display name (unique)")
        parser.add_argument("--provider", choices=Organization.Provider.values, default="openai")
        parser.add_argument("--base-url", help="default: the provider's own API")
        parser.add_argument(
            "--verify", action="store_true", help="call the API now and report whether it works"
        )

    def handle(
        self, *args, name: str, provider: str, base_url: str | None, verify: bool, **options
    ) -> None:
        name = " ".join(name.split())
        if not name:
            raise CommandError("--name must not be empty.")
        base_url = base_url or provider_named(provider).default_base_url
        variable = KEY_VARIABLES[provider]
        try:
            base_url = base_url_check(base_url)
        except BaseURLRefused as exc:
            raise CommandError(f"--base-url {base_url!r}: {exc.message}") from None
        key = os.environ.get(variable, "").strip()
        if not key and not sys.stdin.isatty():
            key = sys.stdin.readline().strip()
        if not key:
            noun = provider_named(provider).key_noun
            raise CommandError(f"No {noun}: set {variable} or pipe the key on stdin.")
        if not admin_key_well_formed(key):
            raise CommandError(KEY_CHARACTER_ERROR)
        org, created = services.connection_register(
            name=name, base_url=base_url, admin_key=key, provider=provider
        )
        verb = "Added" if created else "Updated"
        self.stdout.write(
            f"{verb} the connection “{org.name}” ({org.base_url}, key {org.admin_key_masked})."
        )
        if verify:
            org = services.connection_verify(org=org, areas=True)  # and what the key may do
            if org.status != org.Status.OK:
                raise CommandError(f"The API refused it: {org.status_message}")
            self.stdout.write("Verified: the API accepted the key.")
