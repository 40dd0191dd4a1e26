"""A real Celery worker shares the broker, the result backend and the database with the web side.

The embedded default (SQLite files, no server) runs in every `make test`; the Redis variant runs in
the CI service tier, against the same topology as docker-compose.yml. Worker and beat log through
our LOGGING, so their output carries no key.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery

from tests.conftest import need_service
from tests.log_redaction_tasks import ADMIN_KEY

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "READ_DOT_ENV": "false",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "OPENAI_MAX_RETRIES": "0",
        "OPENAI_TIMEOUT": "5",
        # The unreachable API of _run_task_through_worker's connection (loopback, so named).
        "ALLOWED_API_HOSTS": "http://127.0.0.1:9",
    }
    env.pop("CELERY_BROKER_URL", None)
    env.pop("CELERY_RESULT_BACKEND", None)
    env.update(extra)
    return env


def _manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def _start_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "dashboard", "worker", "-l", "INFO", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    """Stop a worker or beat as a process manager does (SIGTERM); return all it printed."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def _run_task_through_worker(env: dict[str, str]) -> str:
    _manage(env, "migrate", "--noinput", "-v", "0")
    # A connection whose API can't be reached: verifying it must record an error.
    _manage(
        {**env, "OPENAI_ADMIN_KEY": "sk-admin-worker-test-0000000000000000"},
        "org_add",
        "--name",
        "Unreachable",
        "--base-url",
        "http://127.0.0.1:9/v1",
    )
    worker = _start_worker(env, "-P", "solo")
    try:
        # The "web" side: a separate process that only enqueues and waits for the result.
        web = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from orgadmin.tasks import verify_connections; "
                "print(verify_connections.delay().get(timeout=90))",
            ],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "dashboard.settings"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        log = _stop(worker)
    assert web.returncode == 0, web.stdout + web.stderr + log
    assert "orgadmin.tasks.verify_connections" in log, log
    # Starting, the worker queued the first syncs of the never-synced connection.
    assert "dashboard.tasks.sync_never_synced" in log, log
    assert "succeeded" in log, log
    return web.stdout


def test_it_runs_a_task_end_to_end_on_the_embedded_broker(tmp_path):
    output = _run_task_through_worker(_env(tmp_path))
    assert "{'Unreachable': 'error'}" in output
    # The worker wrote to the shared database: the web side sees the new status.
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        status, message = db.execute(
            "select status, status_message from orgadmin_organization where name = 'Unreachable'"
        ).fetchone()
    assert status == "error"
    assert "Could not reach" in message
    assert (tmp_path / "celery-broker.sqlite3").exists()


def test_it_keeps_a_failing_tasks_key_out_of_the_worker_output(tmp_path):
    """A task fails with an admin key in its exception, the exception's cause, what it prints and
    what it logs. The worker's whole output (prefork, as in production: a child runs the task)
    shows each of these, and Celery's own failure line, without the key."""
    env = _env(tmp_path, FIRST_SYNC_ON_WORKER_START="false")
    # The web side, sending before the worker starts (so the two don't race to create the queue).
    web = Celery(
        "web",
        broker=f"sqla+sqlite:///{tmp_path / 'celery-broker.sqlite3'}",
        backend=f"db+sqlite:///{tmp_path / 'celery-results.sqlite3'}",
        set_as_current=False,
    )
    result = web.send_task("tests.log_redaction_tasks.fail_with_key", args=[ADMIN_KEY])
    worker = _start_worker(env, "-P", "prefork", "-c", "1", "-I", "tests.log_redaction_tasks")
    try:
        result.get(timeout=60, propagate=False)
    finally:
        log = _stop(worker)
        web.close()
    assert result.state == "FAILURE", log
    assert ADMIN_KEY not in log
    assert ADMIN_KEY.removeprefix("sk-admin-")[4:] not in log, "part of the key is in the log"
    for line in (
        "raised unexpected: OrgAPIError('Rejected [redacted key]')",
        "orgadmin.client.OrgAPIError: Rejected [redacted key] · HTTP 401",
        "ValueError: the cause: Authorization: Bearer [redacted key]",
        "The above exception was the direct cause of the following exception:",
        "celery.redirected: printed: Authorization: Bearer [redacted key]",
        "celery.redirected: printed to stderr: [redacted key]",
        "tests.log_redaction_tasks: task logger, key as an argument: [redacted key]",
        "module logger, with its stack: {'key': '[redacted key]'}\nStack (most recent call last):",
    ):
        assert line in log, log


def _redis_up(url: str) -> bool:
    host, port = url.split("//", 1)[1].split("/")[0].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.services
def test_it_runs_a_task_end_to_end_on_redis(tmp_path):
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
    need_service(_redis_up(redis_url), f"Redis is not reachable at {redis_url}")
    env = _env(
        tmp_path,
        CELERY_BROKER_URL=f"{redis_url}/14",
        CELERY_RESULT_BACKEND=f"{redis_url}/15",
    )
    output = _run_task_through_worker(env)
    assert "{'Unreachable': 'error'}" in output
    assert not (tmp_path / "celery-broker.sqlite3").exists()


def test_it_starts_beat_on_the_embedded_broker(tmp_path):
    env = _env(tmp_path)
    beat = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "dashboard", "beat", "-l", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    schedule = tmp_path / "celerybeat-schedule"
    while time.monotonic() < deadline and not list(tmp_path.glob("celerybeat-schedule*")):
        time.sleep(0.3)
    log = _stop(beat)
    assert list(tmp_path.glob("celerybeat-schedule*")), log
    # Beat logs through our LOGGING (its format, and so its redaction), not Celery's handlers.
    assert re.search(r"^\S+ \S+ INFO celery\.beat: beat: Starting", log, re.MULTILINE), log
    assert schedule.parent == tmp_path
