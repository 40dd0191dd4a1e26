"""`make run`'s set-up: demo users once per role, a simulator connection, safe to run again."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command

from orgadmin.models import Organization

ROOT = Path(__file__).resolve().parents[2]


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
        assert [g.name for g in user.groups.all()] == [username.capitalize()]

    second = _run()
    assert "exist already" in second
    for password in rows.values():
        assert password not in second
    assert get_user_model().objects.count() == 3


def test_it_registers_the_simulator_connection_once(db, monkeypatch):
    monkeypatch.setenv("SIMULATOR_ADMIN_KEY", "sk-admin-demo-0000000000000000000000")
    monkeypatch.setenv("SIMULATOR_PORT", "8123")
    _run()
    _run()
    org = Organization.objects.get()
    assert org.base_url == "http://127.0.0.1:8123/v1"
    assert org.admin_key == "sk-admin-demo-0000000000000000000000"


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
