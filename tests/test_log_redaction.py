"""No log line carries a key, whichever part of the record holds it and whichever process writes it.

Celery's worker and beat are in test_celery_worker.py.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orgadmin.client import OrgAPIError
from orgadmin.logging import redact
from tests.log_redaction_tasks import ADMIN_KEY

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
KEY_TAIL = ADMIN_KEY.removeprefix("sk-admin-")[4:]  # no part of the key may show, either

log = logging.getLogger("tests.log_redaction")


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the console handler that settings.LOGGING installed writes during the test."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def _assert_no_key(text: str) -> None:
    assert ADMIN_KEY not in text
    assert KEY_TAIL not in text, "part of the key is in the output"


def _verify() -> None:
    raise OrgAPIError(f"Rejected Authorization: Bearer {ADMIN_KEY}", status=401)


def test_it_keeps_a_key_in_an_exception_out_of_the_logged_traceback(console):
    try:
        _verify()
    except OrgAPIError:
        log.exception("Verifying the connection failed")
    output = console.getvalue()
    _assert_no_key(output)
    # The rest of the traceback is all there.
    assert "ERROR tests.log_redaction: Verifying the connection failed\n" in output
    assert "Traceback (most recent call last):" in output
    assert ", in _verify\n" in output
    assert (
        "orgadmin.client.OrgAPIError: Rejected Authorization: Bearer [redacted key] · HTTP 401"
        in output
    )


def test_it_keeps_a_key_in_an_exceptions_cause_and_context_out_of_the_traceback(console):
    try:
        try:
            raise ValueError(f"sent Authorization: Bearer {ADMIN_KEY}")
        except ValueError as exc:
            raise OrgAPIError("Rejected", status=401) from exc
    except OrgAPIError:
        try:
            raise RuntimeError(f"while reporting {ADMIN_KEY}")
        except RuntimeError:
            log.exception("Sync failed")
    output = console.getvalue()
    _assert_no_key(output)
    assert "ValueError: sent Authorization: Bearer [redacted key]" in output
    assert "The above exception was the direct cause of the following exception:" in output
    assert "During handling of the above exception, another exception occurred:" in output
    assert "RuntimeError: while reporting [redacted key]" in output


def test_it_keeps_a_key_in_the_arguments_out_of_the_line(console):
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    error = OrgAPIError(f"Rejected {ADMIN_KEY}", status=401)
    log.warning("Request headers %s failed with %r", headers, error)
    output = console.getvalue()
    _assert_no_key(output)
    assert (
        "Request headers {'Authorization': 'Bearer [redacted key]'} "
        "failed with OrgAPIError('Rejected [redacted key]')"
    ) in output


def test_it_keeps_a_key_in_a_stack_out_of_the_line(console):
    # A stack shows each frame's source line, which may hold a key written into the code.
    stack = (
        "Stack (most recent call last):\n"
        '  File "/srv/app/sync.py", line 12, in sync\n'
        f'    client = OpenAI(admin_api_key="{ADMIN_KEY}")'
    )
    record = log.makeRecord(log.name, logging.WARNING, __file__, 1, "Slow", None, None, sinfo=stack)
    log.handle(record)
    output = console.getvalue()
    _assert_no_key(output)
    assert 'in sync\n    client = OpenAI(admin_api_key="[redacted key]")' in output


def test_it_hands_a_later_handler_the_redacted_traceback(console):
    """A handler added after ours (an operator's, say) with a plain formatter reuses the
    traceback ours formatted and cached on the record."""
    later = io.StringIO()
    handler = logging.StreamHandler(later)
    logging.getLogger().addHandler(handler)
    try:
        try:
            _verify()
        except OrgAPIError:
            log.exception("Verifying the connection failed")
    finally:
        logging.getLogger().removeHandler(handler)
    _assert_no_key(later.getvalue())
    assert "OrgAPIError: Rejected Authorization: Bearer [redacted key]" in later.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {ADMIN_KEY}", "Authorization: Bearer [redacted key]"),
        ("authorization: bearer eyJhbGciOi.eyJzdWIi.c2lnbg==", "bearer [redacted key]"),
        ("key=sk-proj-Ab12Cd34Ef56Gh78Ij90", "key=[redacted key]"),
        ("key=sk-svcacct-Ab12Cd34Ef56Gh78Ij90", "key=[redacted key]"),
        ("legacy sk-Ab12Cd34Ef56Gh78Ij90Kl", "legacy [redacted key]"),
        ("xAI key xai-Ab12Cd34Ef56Gh78Ij90Kl12Mn34", "xAI key [redacted key]"),
        ("redis://:s3cr3t-pw@redis:6379/0", "redis://:[redacted key]@redis:6379/0"),
        ("postgres://dashboard:pa55@db:5432/dashboard", "postgres://dashboard:[redacted key]@db"),
    ],
)
def test_it_redacts_every_kind_of_secret(text, expected):
    redacted = redact(text)
    assert expected in redacted
    assert "s3cr3t" not in redacted
    assert "pa55" not in redacted
    assert "Ab12Cd34" not in redacted


@pytest.mark.parametrize(
    "text",
    [
        "Deleted the admin key “sk-admin-…wxyz”",  # our mask
        "Deleted the API key “sk-proj-****wxyz”",  # the API's redacted value
        "admin key sk-admin...wxyz (redacted by OpenAI)",
        "GET https://api.openai.com/v1/organization/users?limit=100 and http://127.0.0.1:8001/v1",
        "Task dashboard.tasks.sync_usage[9822e21c-f210-4ffc-84c0-52236dc859aa] succeeded",
    ],
)
def test_it_leaves_masks_and_ordinary_lines_as_they_are(text):
    assert redact(text) == text


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "READ_DOT_ENV": "false",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        **extra,
    }


def test_it_prints_djangos_errors_once_and_redacted_under_debug(tmp_path):
    """Under DEBUG, Django's own console handler would print each django.* line a second time,
    with the key."""
    code = (
        "import django, logging\n"
        "django.setup()\n"
        "try:\n"
        f"    raise RuntimeError('Authorization: Bearer {ADMIN_KEY}')\n"
        "except RuntimeError:\n"
        "    logging.getLogger('django.request').exception('Internal Server Error: /keys/')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(tmp_path, DEBUG="true"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    _assert_no_key(output)
    assert output.count("Internal Server Error: /keys/") == 1, output
    assert "RuntimeError: Authorization: Bearer [redacted key]" in output


def _send_when_listening(path: Path, request: bytes, timeout: float = 30) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout)
                sock.connect(str(path))
                sock.sendall(request)
                return sock.recv(200)
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_it_keeps_a_key_in_a_bad_request_out_of_gunicorns_error_log(tmp_path):
    """A client sends a malformed Authorization header: gunicorn's web worker logs the bad
    request (as Procfile and Dockerfile run it), without the key."""
    socket_path = tmp_path / "web.sock"
    web = subprocess.Popen(
        [
            *(str(VENV_BIN / "gunicorn"), "dashboard.wsgi", "--bind", f"unix:{socket_path}"),
            *("--workers", "1", "--access-logfile", "-", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    request = f"GET / HTTP/1.1\r\nHost: localhost\r\nAuthorization Bearer {ADMIN_KEY}\r\n\r\n"
    try:
        reply = _send_when_listening(socket_path, request.encode())
    finally:
        web.terminate()
        output, _ = web.communicate(timeout=30)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request"), output
    _assert_no_key(output)
    assert "[WARNING] Invalid request from ip=" in output
    assert "Invalid HTTP Header: 'Authorization Bearer [redacted key]'" in output
