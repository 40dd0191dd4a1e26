"""Prepare the local demo: one user per role and a connection to the built-in simulator.

The demo users' passwords are kept in `VAR_DIR/demo-passwords.txt` (git-ignored, readable by its
owner only), so they don't scroll away: `make run` prints them again once the site answers
(`--when-up URL`), and `make demo-passwords` (`--reset-passwords`) gives new ones.
"""

from __future__ import annotations

import os
import re
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from orgadmin.access import Role
from orgadmin.client import BaseURLRefused
from orgadmin.models import RoleGrant
from orgadmin.services import connections as services
from orgadmin.services.roles import role_grant
from orgadmin.simulator.server import configured_admin_key, configured_port
from orgadmin.xai.simulator import server as xai_server

DEMO_USERS = {"admin": Role.ADMIN, "finance": Role.FINANCE, "auditor": Role.AUDITOR}
DEMO_CONNECTION = "Demo organization (simulator)"
DEMO_TEAM = "Demo xAI team (simulator)"
PASSWORDS_FILE = "demo-passwords.txt"
RESET_HINT = "New passwords: make demo-passwords (python manage.py demo_setup --reset-passwords)"
_ROW = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\S+)\s*$")


def passwords_path() -> Path:
    return Path(settings.VAR_DIR) / PASSWORDS_FILE


def passwords_read(path: Path) -> dict[str, tuple[str, str]]:
    """The file's rows: username → (password, role); nothing when there is no file."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    rows = (_ROW.match(line) for line in lines if not line.startswith("#"))
    return {m[1]: (m[2], m[3]) for m in rows if m and m[1] != "user"}


def passwords_write(path: Path, rows: dict[str, tuple[str, str]]) -> None:
    """Write the rows for this user alone: 0600 from the first byte, and again if an older
    file was readable by others."""
    text = "\n".join(
        [
            "# The demo users of OpenAI Org Dashboard (make run), for you only; git-ignored.",
            f"# {RESET_HINT}",
            *_table(rows),
            "",
        ]
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _table(rows: dict[str, tuple[str, str]]) -> list[str]:
    head = f"{'user':<8} {'password':<20} role"
    return [head, *(f"{user:<8} {pw:<20} {role}" for user, (pw, role) in rows.items())]


def wait_until_up(url: str, *, timeout: float, interval: float = 0.5) -> bool:
    """Whether `url` answered (any HTTP status) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 (our own URL)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(interval)
    return False


class Command(BaseCommand):
    help = (
        "Create the demo users (their passwords kept in VAR_DIR/demo-passwords.txt, for you "
        "only) and the simulator connection; or, with --when-up, print the passwords once the "
        "site answers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset-passwords", action="store_true", help="give the demo users new passwords"
        )
        parser.add_argument(
            "--when-up",
            metavar="URL",
            help="only wait until URL answers, then print the demo passwords (make run does)",
        )
        parser.add_argument("--timeout", type=float, default=120, help="for --when-up: seconds")

    def handle(self, *args, reset_passwords: bool, when_up: str | None, **options) -> None:
        if when_up:
            self._print_when_up(when_up, timeout=options["timeout"])
            return
        if settings.DEBUG:
            self.stdout.write(
                self.style.WARNING(
                    "DEBUG is on. The demo runs with DEBUG=false: a .env written by an older "
                    "`make run` has DEBUG=true; set DEBUG=false and ALLOWED_API_HOSTS="
                    f"api.openai.com,http://127.0.0.1:{configured_port()} in it."
                )
            )
        self._users(reset_passwords=reset_passwords)
        self._connection()
        self._team()

    def _users(self, *, reset_passwords: bool) -> None:
        User = get_user_model()
        new: dict[str, tuple[str, str]] = {}
        for username, role in DEMO_USERS.items():
            user, created = User.objects.get_or_create(username=username)
            # Exactly this role, for all connections (the demo's simulator one, and any added).
            RoleGrant.objects.filter(user=user).exclude(org=None, role=role.value).delete()
            role_grant(user=user, role=role)
            if created or reset_passwords:
                password = secrets.token_urlsafe(12)
                user.set_password(password)
                user.save()
                new[username] = (password, role.value)
        path = passwords_path()
        if not new:
            self.stdout.write(
                "Demo users exist already (admin, finance, auditor); their passwords are in "
                f"{path}. {RESET_HINT}"
            )
            return
        passwords_write(path, {**passwords_read(path), **new})
        self.stdout.write(self.style.SUCCESS(f"Demo users (kept in {path}, for you only):"))
        for line in _table(new):
            self.stdout.write(f"  {line}")

    def _connection(self) -> None:
        # The same reading of the key and port as the simulator's (`simulate_openai`), so the
        # connection's key is the one the simulator accepts.
        key, port = configured_admin_key(), configured_port()
        if not key:
            self.stdout.write(
                "No simulator connection: SIMULATOR_ADMIN_KEY is not set (make run writes it "
                "into .env)."
            )
            return
        # Allowed when ALLOWED_API_HOSTS names it (the demo's `.env` does), or with DEBUG on.
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

    def _team(self) -> None:
        """The demo xAI team, on the xAI simulator (`simulate_xai`, which reads the same key
        and port). Its team id is read from the key on first use, once the simulator runs."""
        key, port = xai_server.configured_management_key(), xai_server.configured_port()
        if not key:
            self.stdout.write(
                "No xAI demo team: XAI_SIMULATOR_MANAGEMENT_KEY is not set (a .env written by "
                "an older `make run` lacks it: remove .env and var/ to start afresh, or add it "
                f"and http://127.0.0.1:{port} to ALLOWED_API_HOSTS)."
            )
            return
        try:
            org, created = services.connection_register(
                name=DEMO_TEAM,
                base_url=f"http://127.0.0.1:{port}",
                admin_key=key,
                provider="xai",
            )
        except BaseURLRefused as exc:
            self.stdout.write(self.style.WARNING(f"No xAI demo team: {exc.message}"))
            return
        self.stdout.write(
            f"{'Added' if created else 'Kept'} the connection “{org.name}” → {org.base_url}"
        )

    def _print_when_up(self, url: str, *, timeout: float) -> None:
        if not wait_until_up(url, timeout=timeout):
            self.stderr.write(f"{url} did not answer within {timeout:g} s.")
            return
        site = url.rsplit("/", 1)[0] if url.endswith("/healthz") else url
        path = passwords_path()
        rows = passwords_read(path)
        lines = [f"Org Dashboard is up at {site}/"]
        if rows:
            lines += ["Sign in as one of the demo users:", *(f"  {x}" for x in _table(rows))]
            lines.append(f"(kept in {path}, readable by you only. {RESET_HINT})")
        else:
            lines.append(f"No demo passwords on file at {path}. {RESET_HINT}")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
