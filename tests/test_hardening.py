"""Sign-in hardening: brute force is throttled, sessions expire, cookies are locked down."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory


def _login(client, username: str, password: str):
    return client.post(reverse("login"), {"login": username, "password": password})


def test_it_locks_out_a_username_after_repeated_failures(client, db):
    user = UserFactory(username="target")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, user.username, "wrong password")
        assert response.status_code == 200
    assert _login(client, user.username, "wrong password").status_code == 429
    locked = _login(client, user.username, TEST_PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # Even the right password doesn't get in during the lock-out.
    assert "_auth_user_id" not in client.session


def test_it_signs_in_with_the_right_password(client, db):
    user = UserFactory(username="someone")
    response = _login(client, user.username, TEST_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def _session_expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_it_expires_sessions_after_inactivity_and_on_browser_close(client_as, admin):
    client = client_as(admin)
    assert client.get("/").status_code == 200
    assert client.session.get_expire_at_browser_close()
    assert 0 < settings.SESSION_COOKIE_AGE <= 24 * 60 * 60
    assert settings.SESSION_COOKIE_HTTPONLY
    # Idle past its expiry, the session is over: the next page asks to sign in again.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_session_in_use_moves_its_expiry_on(client_as, admin, settings):
    # Inactivity counts from the last use, not from the sign-in.
    settings.SESSION_REFRESH_SECONDS = 0
    client = client_as(admin)
    client.get("/")
    before = _session_expiry(client)
    client.get("/")
    after = _session_expiry(client)
    assert after > before
    assert after - dt.timedelta(seconds=settings.SESSION_COOKIE_AGE) <= dt.datetime.now(dt.UTC)


def test_a_page_view_writes_nothing_while_the_session_is_fresh(client_as, admin, settings):
    # With SQLite, any write waits for the writer lock, which a usage sync holds for a page at a
    # time: a page view that only reads never waits for a sync.
    settings.SESSION_REFRESH_SECONDS = 3600
    client = client_as(admin)
    client.get("/")  # the first use writes the session once
    before = _session_expiry(client)
    with CaptureQueriesContext(connection) as ctx:
        for url in ("/", reverse("costs"), reverse("usage")):
            assert client.get(url).status_code == 200
    writes = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]
    assert writes == []
    assert _session_expiry(client) == before


def test_it_requires_a_post_to_sign_out(client_as, admin):
    client = client_as(admin)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_every_page_has_the_csp_and_no_inline_script(client_as, admin, org, simulator):
    """Every GET page (and its htmx fragment), with a synced directory: the CSP forbids inline
    scripts, and no page needs them (no <script> body, no on*= handler, no javascript: URL)."""
    import re

    from orgadmin.sync.directory import directory_sync
    from tests.orgadmin.test_bad_input import _samples
    from tests.test_access_matrix import ACCESS, url_patterns

    directory_sync(org=org)
    samples = {**_samples(simulator.store), "pk": org.pk, "fmt": "csv", "event_id": "x"}
    c = client_as(admin)
    pages = 0
    for name, pattern in url_patterns().items():
        if "GET" not in ACCESS[name].methods or name == "login":
            continue
        url = reverse(name, kwargs={k: samples[k] for k in pattern.pattern.converters})
        for headers in ({}, {"HX-Request": "true"}):
            response = c.get(url, headers=headers)
            csp = response["Content-Security-Policy"]
            script_src = re.search(r"script-src ([^;]+)", csp).group(1).split()
            assert script_src == ["'self'"], (url, csp)
            assert "default-src 'self'" in csp
            assert response["X-Frame-Options"] == "DENY"
            if "html" not in response.get("Content-Type", "") or response.streaming:
                continue
            pages += 1
            body = response.content.decode()
            for tag, content in re.findall(r"(<script\b[^>]*>)(.*?)</script>", body, re.S):
                assert "src=" in tag, (url, tag)
                assert not content.strip(), (url, tag)
            assert not re.search(r"<[^>]+\son[a-z]+\s*=", body), (url, "an inline handler")
            assert "javascript:" not in body.lower(), url
    assert pages > 50


PRODUCTION_PROBE = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.test import Client, override_settings
from django.conf import settings as s
# Hashed static files need `collectstatic`; the plain storage is enough for the headers.
override_settings(STORAGES={**s.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
c = Client(HTTP_HOST="dashboard.example.com")
plain = c.get("/accounts/login/")
secure = c.get("/accounts/login/", secure=True)
cookies = {n: dict(m.items()) for n, m in secure.cookies.items()}
print("JSON" + json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "status": secure.status_code,
    "headers": {k: secure.get(k, "") for k in (
        "Strict-Transport-Security", "X-Frame-Options", "Content-Security-Policy",
        "X-Content-Type-Options", "Referrer-Policy")},
    "cookies": cookies,
    "session": [s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE],
}))
"""


def test_production_settings_send_hsts_secure_cookies_and_deny_framing(tmp_path):
    """With HTTPS on (production): plain HTTP is redirected, HSTS for a year with subdomains,
    framing denied, and the cookies are Secure (and the session's HttpOnly)."""
    import json
    import subprocess
    import sys

    from tests.test_settings import ROOT, _env

    out = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT,
        env=_env(
            DJANGO_SETTINGS_MODULE="dashboard.settings",
            VAR_DIR=str(tmp_path),
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.split("JSON", 1)[1])
    assert got["plain"] == [301, "https://dashboard.example.com/accounts/login/"]
    assert got["status"] == 200
    headers = got["headers"]
    hsts = headers["Strict-Transport-Security"]
    assert "includeSubDomains" in hsts
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 365 * 24 * 3600
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert (
        "unsafe-inline"
        not in headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert got["cookies"]["csrftoken"]["secure"] is True
    assert got["session"] == [True, True, "Lax"]


def test_it_refuses_a_username_longer_than_any_account_before_authenticating(client, db):
    """Found by the fuzzer on PostgreSQL: 256 characters overflowed the lock-out's record."""
    from axes.models import AccessAttempt

    response = _login(client, "A" * 256, "whatever")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert not AccessAttempt.objects.filter(username__startswith="AAAA").exists()
    # An ordinary wrong password is still counted towards the lock-out.
    _login(client, "someone", "wrong")
    assert AccessAttempt.objects.filter(username="someone").exists()
