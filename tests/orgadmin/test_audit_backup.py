"""Backup and restore as the README says, then `manage.py verify_audit_log` on the restored copy:
SQLite's online backup (`make test`), and pg_dump -Fc / pg_restore (the service tier)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from orgadmin.audit.chain import chain_head
from orgadmin.models import AuditEvent, SyncRun
from orgadmin.sync.audit import audit_log_sync
from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]


def _verify_copy(database_url: str) -> subprocess.CompletedProcess:
    """verify_audit_log in its own process, on the restored database only."""
    return subprocess.run(
        [sys.executable, "manage.py", "verify_audit_log"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _synced(org):
    assert audit_log_sync(org=org).status == SyncRun.Status.SUCCEEDED
    head = chain_head(org=org)
    assert head is not None
    return head


@pytest.mark.django_db(transaction=True)
def test_a_sqlite_online_backup_restores_with_its_chain_verified(org, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's backup: the PostgreSQL one is the next test")
    head = _synced(org)
    backup, restored = tmp_path / "backup.sqlite3", tmp_path / "restored.sqlite3"

    # The backup API copies a consistent snapshot of a live database (README "Backup and restore").
    connection.ensure_connection()
    with sqlite3.connect(backup) as target:
        connection.connection.backup(target)
    with sqlite3.connect(backup) as source, sqlite3.connect(restored) as target:
        source.backup(target)

    result = _verify_copy(f"sqlite:///{restored}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"verified {head.count} events, head {head.head}" in result.stdout

    # The restored copy is what was checked: a change to it is caught there.
    event = AuditEvent.objects.filter(org=org).order_by("chain_seq")[2]
    with sqlite3.connect(restored) as db:
        db.execute("UPDATE orgadmin_auditevent SET actor_email = 'x' WHERE id = ?", [event.pk])
    tampered = _verify_copy(f"sqlite:///{restored}")
    assert tampered.returncode == 1
    assert event.event_id in tampered.stdout
    assert "content changed" in tampered.stdout


@pytest.mark.django_db(transaction=True)
def test_a_postgresql_dump_restores_with_its_chain_verified(org, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump and pg_restore: runs in the service tier, on PostgreSQL")
    tools = [shutil.which(name) for name in ("pg_dump", "pg_restore", "createdb", "dropdb")]
    need_service(all(tools), "pg_dump, pg_restore, createdb and dropdb are not installed")
    head = _synced(org)
    db = connection.settings_dict
    env = {
        **os.environ,
        "PGHOST": db["HOST"] or "localhost",
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": db["USER"],
        "PGPASSWORD": db["PASSWORD"] or "",
    }
    dump, restored = tmp_path / "dashboard.dump", f"{db['NAME']}_restored"

    def run(*command: str) -> None:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr

    run("pg_dump", "-Fc", "-d", db["NAME"], "-f", str(dump))
    run("dropdb", "--if-exists", restored)
    run("createdb", restored)
    try:
        run("pg_restore", "--no-owner", "-d", restored, str(dump))
        password = quote(db["PASSWORD"] or "", safe="")
        url = f"postgres://{db['USER']}:{password}@{env['PGHOST']}:{env['PGPORT']}/{restored}"
        result = _verify_copy(url)
    finally:
        run("dropdb", "--if-exists", restored)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"verified {head.count} events, head {head.head}" in result.stdout
