"""Prepare the local demo: one user per role and a connection to the built-in simulator."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser

from orgadmin.access import Role
from orgadmin.client import BaseURLRefused
from orgadmin.services import connections as services
from orgadmin.simulator.server import configured_admin_key, configured_port

DEMO_USERS = {"admin": Role.ADMIN, "finance": Role.FINANCE, "auditor": Role.AUDITOR}
DEMO_CONNECTION = "Demo organization (simulator)"


class Command(BaseCommand):
    help = "Create the demo users (printing their passwords once) and the simulator connection."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-passwords", action="store_true", help="give the demo users new passwords"
        )

    def handle(self, *args, reset_passwords: bool, **options) -> None:
        User = get_user_model()
        created_lines = []
        for username, role in DEMO_USERS.items():
            user, created = User.objects.get_or_create(username=username)
            user.groups.set([Group.objects.get(name=role.value)])
            if created or reset_passwords:
                password = secrets.token_urlsafe(12)
                user.set_password(password)
                user.save()
                created_lines.append(f"  {username:<8} {password:<20} {role.value}")
        if created_lines:
            self.stdout.write(self.style.SUCCESS("Demo users (shown once; not stored anywhere):"))
            self.stdout.write(f"  {'user':<8} {'password':<20} role")
            for line in created_lines:
                self.stdout.write(line)
        else:
            self.stdout.write(
                "Demo users exist already (admin, finance, auditor). "
                "New passwords: python manage.py demo_setup --reset-passwords"
            )

        # The same reading of the key and port as the simulator's (`simulate_openai`), so the
        # connection's key is the one the simulator accepts.
        key, port = configured_admin_key(), configured_port()
        if key:
            # Allowed with DEBUG on (the demo's `.env`), or when ALLOWED_API_HOSTS names it.
            try:
                org, created = services.connection_register(
                    name=DEMO_CONNECTION, base_url=f"http://127.0.0.1:{port}/v1", admin_key=key
                )
            except BaseURLRefused as exc:
                self.stdout.write(self.style.WARNING(f"No simulator connection: {exc.message}"))
                return
            self.stdout.write(
                f"{'Added' if created else 'Kept'} the connection “{org.name}” → {org.base_url}"
            )
        else:
            self.stdout.write(
                "No simulator connection: SIMULATOR_ADMIN_KEY is not set (make run writes it "
                "into .env)."
            )
