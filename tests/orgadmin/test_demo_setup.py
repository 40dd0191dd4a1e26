"""`make run`'s set-up: demo users once per role, a simulator connection, safe to run again."""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import environ
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from orgadmin.models import Organization, RoleGrant
from orgadmin.simulator import server

ROOT = Path(__file__).resolve().parents[2]
SHELL_KEY = "sk-admin-from-the-shell-00000000000000"
DOTENV_KEY = "sk-admin-from-dotenv-0000000000000000"


def _run() -> str:
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    return out.getvalue()


def test_it_creates_one_user_per_role_and_prints_each_password_once(db, monkeypatch):
    monkeypatch.setenv("SIMULATOR_ADMIN_KEY", "sk-admin-demo-0000000000000000000000")
    first = _run()
    rows = dict(re.findall(r"^\s+(admin|finance|auditor)\s+(\S+)\s+\w+$", first, re.M))
    assert set(rows) == {"admin", "finance", "auditor"}
    for username, password in rows.items():
        user = get_user_model().objects.get(username=username)
        assert user.check_password(password)
        grants = list(RoleGrant.objects.filter(user=user).values_list("org", "role"))
        assert grants == [(None, username.capitalize())]  # that role, for all connections

    second = _run()
    assert "exist already" in second
    for password in rows.values():
        assert password not in second
    assert get_user_model().objects.count() == 3


def test_it_registers_the_simulator_connection_once(db, monkeypatch, settings):
    settings.DEBUG = True  # as in the demo's .env: the simulator's address is allowed
    monkeypatch.setenv("SIMULATOR_ADMIN_KEY", "sk-admin-demo-0000000000000000000000")
    monkeypatch.setenv("SIMULATOR_PORT", "8123")
    _run()
    _run()
    org = Organization.objects.get()
    assert org.base_url == "http://127.0.0.1:8123/v1"
    assert org.admin_key == "sk-admin-demo-0000000000000000000000"
    assert org.api_badge == "Simulator"


def test_it_registers_no_simulator_connection_with_debug_off_unless_it_is_allowed(
    db, monkeypatch, settings
):
    monkeypatch.setenv("SIMULATOR_ADMIN_KEY", "sk-admin-demo-0000000000000000000000")
    monkeypatch.setenv("SIMULATOR_PORT", "8123")

    refused = _run()

    assert "No simulator connection: 127.0.0.1:8123 is not an allowed API host" in refused
    assert not Organization.objects.exists()

    settings.ALLOWED_API_HOSTS = ["api.openai.com", "http://127.0.0.1:8123"]
    _run()
    assert Organization.objects.get().base_url == "http://127.0.0.1:8123/v1"


def test_it_creates_a_superuser_without_prompting(tmp_path):
    env = {
        "READ_DOT_ENV": "false",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SUPERUSER_USERNAME": "root",
        "DJANGO_SUPERUSER_EMAIL": "root@example.com",
        "DJANGO_SUPERUSER_PASSWORD": "a long enough password 123",
    }
    env = {**os.environ, **env}
    for args in (["migrate", "-v", "0"], ["createsuperuser", "--noinput"]):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    assert "Superuser created successfully." in result.stdout


# --- the simulator and the demo connection agree on the key and the port ------------------------


class _Server:
    """Stands in for the HTTP server: `run()` builds the app, prints, and returns at once."""

    def __init__(self, app, host: str, port: int) -> None:
        self.app, self.server_address = app, (host, port)

    def serve_forever(self) -> None:
        raise KeyboardInterrupt

    def server_close(self) -> None:
        pass


def _served(monkeypatch, settings) -> _Server:
    """What the Procfile's `manage.py simulate_openai …` would serve, without serving."""
    # `make run`'s `.env` turns DEBUG on (dashboard/envfile.py); the simulator refuses without.
    settings.DEBUG = True
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("simul"))
    argv = shlex.split(line.partition(":")[2])
    # A `--port ${SIMULATOR_PORT:-8001}` there is expanded from honcho's environment, which is
    # not where demo_setup reads it from: the command reads both the way demo_setup does.
    assert not {"--port", "--admin-key"} & set(argv), line
    made: list[_Server] = []
    monkeypatch.setattr(server, "make_server", lambda *a: made.append(_Server(*a)) or made[-1])
    call_command(*argv[argv.index("manage.py") + 1 :], stdout=io.StringIO())
    return made[0]


@pytest.mark.parametrize(
    ("environment", "dotenv", "key", "port"),
    [
        ({"SIMULATOR_ADMIN_KEY": SHELL_KEY, "SIMULATOR_PORT": "8123"}, "", SHELL_KEY, 8123),
        ({}, f"SIMULATOR_ADMIN_KEY={DOTENV_KEY}\nSIMULATOR_PORT=8124\n", DOTENV_KEY, 8124),
        (  # both: the environment wins, as for every setting
            {"SIMULATOR_ADMIN_KEY": SHELL_KEY, "SIMULATOR_PORT": "8123"},
            f"SIMULATOR_ADMIN_KEY={DOTENV_KEY}\nSIMULATOR_PORT=8124\n",
            SHELL_KEY,
            8123,
        ),
    ],
    ids=["environment", "dotenv", "both"],
)
def test_it_gives_the_simulator_and_the_demo_connection_the_same_key_and_port(
    db, monkeypatch, settings, tmp_path, environment, dotenv, key, port
):
    settings.DEBUG = True  # as in the demo's .env: the simulator's address is allowed
    for name in ("SIMULATOR_ADMIN_KEY", "SIMULATOR_PORT"):
        monkeypatch.setenv(name, "-")  # so that monkeypatch puts back what was there
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # What dashboard/settings.py does with a `.env` when a process starts.
    (tmp_path / ".env").write_text(dotenv)
    environ.Env.read_env(tmp_path / ".env", overwrite=False)

    _run()
    served = _served(monkeypatch, settings)

    org = Organization.objects.get()
    assert org.admin_key == key
    assert org.base_url == f"http://127.0.0.1:{port}/v1"
    assert served.server_address == ("127.0.0.1", port)
    assert served.app.store.authenticate(org.admin_key, int(time.time())) is not None


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_it_starts_the_demos_processes_with_the_shells_key_over_dotenv(tmp_path):
    """`make run` runs demo_setup (the connection's key) and then honcho (the simulator). honcho
    must not lay `.env` over the shell's environment, or a key set in the shell reaches the
    connection but not the simulator, and every demo sync gets a 401."""
    dry_run = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True)
    command = shlex.split(next(x for x in dry_run.stdout.splitlines() if "honcho start" in x))
    command[0] = str(ROOT / command[0])
    probe = "import os; print('key=' + os.environ.get('SIMULATOR_ADMIN_KEY', ''))"
    (tmp_path / "Procfile").write_text(f'probe: {sys.executable} -c "{probe}"\n')
    (tmp_path / ".env").write_text(f"SIMULATOR_ADMIN_KEY={DOTENV_KEY}\n")
    env = {**os.environ, "SIMULATOR_ADMIN_KEY": SHELL_KEY}

    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )

    assert f"key={SHELL_KEY}" in result.stdout, result.stdout + result.stderr
