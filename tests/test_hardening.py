"""Sign-in hardening: brute force is throttled, sessions expire, cookies are locked down."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory


def _login(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


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


def test_it_expires_sessions_after_inactivity_and_on_browser_close(client_as, admin):
    client = client_as(admin)
    client.get("/")
    assert client.session.get_expire_at_browser_close()
    assert 0 < settings.SESSION_COOKIE_AGE <= 24 * 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST  # inactivity, not time since sign-in
    assert settings.SESSION_COOKIE_HTTPONLY


def test_it_requires_a_post_to_sign_out(client_as, admin):
    client = client_as(admin)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/").status_code == 302
