"""Issue 16, item 13, first run: the demo passwords are kept for their owner and shown again once
the site answers; the demo runs with DEBUG off; a refused request is one log line; the error
pages are the product's own and list no URL pattern."""

from __future__ import annotations

import io
import logging
import re
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client

from dashboard import envfile
from orgadmin.logging import RedactingFormatter, RefusedRequestsOneLine
from orgadmin.management.commands import demo_setup

ROOT = Path(__file__).resolve().parents[1]


def _refused_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("django.request", "django.security"))]


# --- the error pages -----------------------------------------------------------------------------


def test_it_answers_a_missing_page_with_the_product_page_and_no_url_patterns(
    client_as, finance, settings
):
    settings.DEBUG = False
    response = client_as(finance).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert 'class="topbar' in html
    assert "css/app.css" in html
    assert 'href="/">Back to the overview' in html
    for technical in ("Using the URLconf", "urlpatterns", "accounts/login/", "healthz"):
        assert technical not in html


def test_it_answers_a_missing_page_signed_out_with_the_product_page(client, settings):
    settings.DEBUG = False
    response = client.get("/nothing/here")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


def test_it_answers_a_forbidden_page_with_the_product_page(client_as, finance):
    response = client_as(finance).get("/connections/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You don't have access to this page" in html
    assert "Finance" in html
    assert 'href="/">Back to the overview' in html


def test_it_renders_the_500_page_without_a_request_or_a_database():
    # No `db` fixture: any query would fail. Django's server_error renders it with no context.
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html
    assert "css/app.css" in html
    assert 'class="brand"' in html
    assert '<a href="/">Back to the overview</a>' in html


def test_it_answers_a_form_without_its_csrf_token_with_the_product_page(db, caplog):
    caplog.set_level(logging.WARNING)
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"login": "x", "password": "y"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "This form has expired" in html
    assert "Nothing was changed" in html
    assert 'class="topbar' in html
    assert "Sign in" in html
    [record] = _refused_records(caplog)
    assert record.name == "django.security.csrf"
    assert record.exc_info is None


# --- a refused request is one log line -----------------------------------------------------------


@pytest.mark.parametrize(("path", "status"), [("/connections/", 403), ("/nope/", 404)])
def test_it_logs_a_refused_request_as_one_record_without_a_traceback(
    client_as, finance, caplog, path, status
):
    caplog.set_level(logging.INFO)
    assert client_as(finance).get(path).status_code == status
    [record] = _refused_records(caplog)
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.exc_text is None
    assert record.status_code == status
    assert "\n" not in RedactingFormatter("%(message)s").format(record)


def test_it_logs_the_sign_in_lock_out_without_a_traceback(db, caplog, settings):
    settings.AXES_FAILURE_LIMIT = 2
    caplog.set_level(logging.INFO)
    client = Client()
    for _ in range(3):
        response = client.post("/accounts/login/", {"login": "admin", "password": "wrong"})
    assert response.status_code in (403, 429)
    assert caplog.records
    assert all(r.exc_info is None for r in caplog.records)


def test_it_keeps_the_traceback_of_a_server_error():
    """A 5xx keeps its traceback; a 4xx loses it, whichever logger wrote it."""
    keep = RefusedRequestsOneLine()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys

        exc_info = sys.exc_info()
    server = logging.LogRecord("django.request", logging.ERROR, "", 0, "x", (), exc_info)
    server.status_code = 500
    refused = logging.LogRecord("django.security.X", logging.ERROR, "", 0, "x", (), exc_info)
    refused.status_code = 400
    assert keep.filter(server)
    assert server.exc_info is exc_info
    assert keep.filter(refused)
    assert refused.exc_info is None


def test_every_handler_keeps_the_redacting_formatter_and_the_one_line_filter(settings):
    logging_config = settings.LOGGING
    for handler in logging_config["handlers"].values():
        formatter = logging_config["formatters"][handler["formatter"]]
        assert formatter["class"] == "orgadmin.logging.RedactingFormatter"
        assert "refused_one_line" in handler["filters"]
    assert logging_config["loggers"]["django.request"]["filters"] == ["refused_one_line"]
    assert settings.CSRF_FAILURE_VIEW == "orgadmin.views.errors.csrf_failure"


# --- the demo passwords --------------------------------------------------------------------------


@pytest.fixture
def var_dir(db, tmp_path, settings, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("SIMULATOR_ADMIN_KEY", raising=False)
    return tmp_path


def _setup(*args: str) -> str:
    out = io.StringIO()
    call_command("demo_setup", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _file_rows(path: Path) -> dict[str, tuple[str, str]]:
    return dict(
        (m[1], (m[2], m[3]))
        for m in re.finditer(r"^(admin|finance|auditor)\s+(\S+)\s+(\w+)$", path.read_text(), re.M)
    )


def test_it_keeps_the_demo_passwords_in_a_file_only_its_owner_reads(var_dir):
    _setup()
    path = var_dir / "demo-passwords.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = _file_rows(path)
    assert {u: role for u, (_, role) in rows.items()} == {
        "admin": "Admin",
        "finance": "Finance",
        "auditor": "Auditor",
    }
    for username, (password, _) in rows.items():
        assert get_user_model().objects.get(username=username).check_password(password)
    assert "make demo-passwords" in path.read_text()


def test_it_rewrites_the_file_for_its_owner_only_when_the_passwords_are_reset(var_dir):
    _setup()
    path = var_dir / "demo-passwords.txt"
    before = _file_rows(path)
    path.chmod(0o644)  # left readable by an older version

    second = _setup()
    assert _file_rows(path) == before
    assert "exist already" in second

    _setup("--reset-passwords")
    after = _file_rows(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(after) == set(before)
    for username, (password, _) in after.items():
        assert password != before[username][0]
        assert get_user_model().objects.get(username=username).check_password(password)


def test_it_prints_the_passwords_again_once_the_site_answers(var_dir, monkeypatch):
    _setup()
    asked = []
    monkeypatch.setattr(demo_setup, "wait_until_up", lambda url, timeout: asked.append(url) or 1)

    printed = _setup("--when-up", "http://127.0.0.1:8000/healthz")

    assert asked == ["http://127.0.0.1:8000/healthz"]
    assert "Org Dashboard is up at http://127.0.0.1:8000/" in printed
    for username, (password, role) in _file_rows(var_dir / "demo-passwords.txt").items():
        assert re.search(rf"^\s+{username}\s+{re.escape(password)}\s+{role}$", printed, re.M)
    assert "demo-passwords.txt" in printed
    assert "make demo-passwords" in printed


def test_it_says_how_to_get_passwords_when_none_are_on_file(var_dir, monkeypatch):
    monkeypatch.setattr(demo_setup, "wait_until_up", lambda url, timeout: True)
    printed = _setup("--when-up", "http://127.0.0.1:8000/healthz")
    assert "No demo passwords on file" in printed
    assert "make demo-passwords" in printed


def test_the_waiter_gives_up_on_a_site_that_never_answers():
    assert not demo_setup.wait_until_up("http://127.0.0.1:9/healthz", timeout=0.3, interval=0.1)


# --- `make run`: DEBUG off, the simulator forced, the passwords printed after start-up ----------


def test_the_demo_env_turns_debug_off_and_allows_the_simulator():
    text = envfile.render()
    assert "DEBUG=false" in text.splitlines()
    assert (
        "ALLOWED_API_HOSTS=api.openai.com,management-api.x.ai,"
        "http://127.0.0.1:8001,http://127.0.0.1:8002"
    ) in text.splitlines()
    assert re.search(r"^SECRET_KEY=\S{40,}$", text, re.M)
    assert "HTTPS=false" in text.splitlines()


def test_the_demo_starts_the_simulator_with_force_since_debug_is_off():
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("simul"))
    assert "--force" in shlex.split(line)


def test_the_demo_starts_the_xai_simulator_too_with_a_generated_key():
    lines = (ROOT / "Procfile").read_text().splitlines()
    line = next(x for x in lines if x.startswith("xai-simulator:"))
    assert "simulate_xai" in line
    assert "--force" in shlex.split(line)
    assert re.search(r"^XAI_SIMULATOR_MANAGEMENT_KEY=xai-mgmt-\S{40,}$", envfile.render(), re.M)


def test_demo_setup_registers_an_xai_team_beside_the_organization(db, monkeypatch, tmp_path):
    from django.core.management import call_command

    from orgadmin.models import Organization

    monkeypatch.setenv("SIMULATOR_ADMIN_KEY", "sk-admin-demo-0000000000000000000000abcd")
    monkeypatch.setenv("XAI_SIMULATOR_MANAGEMENT_KEY", "xai-mgmt-demo-00000000000000000000wxyz")
    monkeypatch.setenv("ALLOWED_API_HOSTS", "http://127.0.0.1:8001,http://127.0.0.1:8002")
    monkeypatch.setattr("django.conf.settings.VAR_DIR", tmp_path)
    monkeypatch.setattr(
        "django.conf.settings.ALLOWED_API_HOSTS", ["http://127.0.0.1:8001", "http://127.0.0.1:8002"]
    )
    call_command("demo_setup", stdout=io.StringIO())
    team = Organization.objects.get(provider="xai")
    assert team.base_url == "http://127.0.0.1:8002"
    assert team.admin_key == "xai-mgmt-demo-00000000000000000000wxyz"
    assert Organization.objects.filter(provider="openai").count() == 1


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_prints_the_passwords_once_the_web_server_answers():
    dry_run = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True)
    lines = dry_run.stdout.splitlines()
    waiter = next(i for i, x in enumerate(lines) if "demo_setup --when-up" in x)
    honcho = next(i for i, x in enumerate(lines) if "honcho start" in x)
    assert waiter < honcho
    assert lines[waiter].rstrip().endswith("&")
    assert "/healthz" in lines[waiter]
    help_text = subprocess.run(["make", "help"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "demo-passwords" in help_text


def test_the_readme_says_where_the_passwords_are_and_how_to_reset_them():
    readme = (ROOT / "README.md").read_text()
    assert "var/demo-passwords.txt" in readme
    assert "make demo-passwords" in readme
    assert "var/" in (ROOT / ".gitignore").read_text().splitlines()
