"""Sign-in limits that hold behind a reverse proxy: the lock-out is per username and client
address (the client's, not the proxy's), and the whole site takes only so many attempts a
minute."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory
from tests.test_settings import ROOT, _env

PROXY = "172.18.0.5"  # the address every request arrives from behind the proxy
CLIENT_A = "198.51.100.7"
CLIENT_B = "203.0.113.9"

# Runs under the environment the compose file gives `web` (TRUSTED_PROXY_COUNT=1), with requests
# as the proxy hands them on: REMOTE_ADDR is the proxy, X-Forwarded-For names the client.
BEHIND_A_PROXY = f"""
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.conf import settings as s
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

# Hashed static files need `collectstatic`; the plain storage is enough for these pages,
# and a fast password hash is enough for these passwords.
override_settings(STORAGES={{**s.STORAGES, "staticfiles": {{
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}}},
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]).enable()
get_user_model().objects.create_user("admin", password={TEST_PASSWORD!r})
get_user_model().objects.create_user("alice", password={TEST_PASSWORD!r})

def sign_in(username, password, forwarded_for):
    response = Client().post(
        "/accounts/login/",
        {{"login": username, "password": password}},
        secure=True,
        REMOTE_ADDR={PROXY!r},
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    return response.status_code

got = {{}}
got["a_wrong"] = [sign_in("admin", "wrong", {CLIENT_A!r}) for _ in range(5)]
got["b_right"] = sign_in("admin", {TEST_PASSWORD!r}, {CLIENT_B!r})
got["a_right"] = sign_in("admin", {TEST_PASSWORD!r}, {CLIENT_A!r})
# A client that sends its own X-Forwarded-For through a proxy that appends to it: the proxy's
# entry (the right-most) is the address, whatever the client wrote before it.
got["a_spoofing_b"] = [
    sign_in("alice", "wrong", "{CLIENT_B}, {CLIENT_A}") for _ in range(5)
]
got["b_right_alice"] = sign_in("alice", {TEST_PASSWORD!r}, {CLIENT_B!r})
from axes.models import AccessAttempt
got["recorded"] = sorted({{a.ip_address for a in AccessAttempt.objects.all()}})
print("JSON" + json.dumps(got))
"""


@pytest.fixture(scope="module")
def behind_a_proxy(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("proxy")
    out = subprocess.run(
        [sys.executable, "-c", BEHIND_A_PROXY],
        cwd=ROOT,
        env=_env(
            DJANGO_SETTINGS_MODULE="dashboard.settings",
            VAR_DIR=str(tmp),
            DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
            ALLOWED_HOSTS="testserver",
            TRUSTED_PROXY_COUNT="1",
        ),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.split("JSON", 1)[1])


def test_it_does_not_lock_out_the_real_admin_when_another_address_guesses(behind_a_proxy):
    # Four wrong passwords answer the form; the fifth locks that username at that address.
    assert behind_a_proxy["a_wrong"] == [200, 200, 200, 200, 429]
    # The admin at another address signs in all the same.
    assert behind_a_proxy["b_right"] == 302


def test_it_locks_the_same_username_at_the_same_address_behind_a_proxy(behind_a_proxy):
    assert behind_a_proxy["a_right"] == 429  # even the right password, from the guessing address


def test_it_takes_the_address_the_proxy_saw_not_one_the_client_wrote(behind_a_proxy):
    assert behind_a_proxy["a_spoofing_b"][-1] == 429
    assert behind_a_proxy["b_right_alice"] == 302
    # Only client addresses were recorded: never the proxy's, never one a client made up.
    assert behind_a_proxy["recorded"] == [CLIENT_A]


def _sign_in(client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"login": username, "password": password}, **extra)


def test_it_ignores_x_forwarded_for_without_a_trusted_proxy(client, db):
    """Reached directly (the default, TRUSTED_PROXY_COUNT=0), anyone can send X-Forwarded-For:
    a new made-up address for each guess still counts as the one address it came from."""
    user = UserFactory(username="target")
    codes = [
        _sign_in(client, user.username, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
        for n in range(5)
    ]
    assert codes == [200, 200, 200, 200, 429]


def test_it_answers_429_with_a_message_once_the_sites_sign_ins_for_the_minute_are_spent(
    client, db, settings, clock
):
    settings.SIGN_IN_ATTEMPTS_PER_MINUTE = 3
    clock.seconds = clock.seconds // 60 * 60  # the start of a minute
    user = UserFactory(username="someone")
    # Three guesses, each from its own address, for three usernames: no lock-out sees them.
    for n, name in enumerate(["alice", "bob", "carol"]):
        response = _sign_in(client, name, "wrong", REMOTE_ADDR=f"192.0.2.{n}")
        assert response.status_code == 200
    refused = _sign_in(client, user.username, TEST_PASSWORD, REMOTE_ADDR="192.0.2.99")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 60
    page = refused.content.decode()
    assert "Too many sign-in attempts" in page
    assert "at most 3 sign-in attempts a minute" in page
    assert "_auth_user_id" not in client.session  # the right password didn't get in either
    # The sign-in page itself still opens, and the next minute takes sign-ins again.
    assert client.get(reverse("login")).status_code == 200
    clock.advance(seconds=60)
    assert _sign_in(client, user.username, TEST_PASSWORD).status_code == 302


def test_it_counts_sign_ins_across_the_processes_that_share_the_cache(client, db, settings, clock):
    """The count lives in the cache (Redis in production), so every gunicorn worker shares it:
    attempts already counted elsewhere this minute leave this process fewer."""
    from django.core.cache import cache

    settings.SIGN_IN_ATTEMPTS_PER_MINUTE = 5
    clock.seconds = clock.seconds // 60 * 60 + 30
    cache.set(f"sign-in-attempts:{int(clock.seconds // 60)}", 5, timeout=120)
    assert _sign_in(client, "anyone", "wrong").status_code == 429


def test_it_keeps_the_sign_in_limit_off_when_set_to_zero(client, db, settings):
    settings.SIGN_IN_ATTEMPTS_PER_MINUTE = 0
    codes = {_sign_in(client, f"user{n}", "wrong").status_code for n in range(12)}
    assert codes == {200}
