"""Two-factor authentication (allauth.mfa): enrolling an authenticator app, signing in with its
code or a recovery code, and REQUIRE_MFA_FOR_ADMINS sending Admins to enrol first."""

from __future__ import annotations

import time

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from orgadmin.access import Role
from orgadmin.services.roles import role_grant
from tests.factories import TEST_PASSWORD, UserFactory

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # base32, as allauth's own secrets are


def code_for(secret: str, *, at: float | None = None) -> str:
    """The code an authenticator app shows now, computed as allauth computes it."""
    counter = int(at if at is not None else time.time()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def enrol(user, secret: str = SECRET) -> list[str]:
    """Turn TOTP on for `user` as the activation page does; returns their recovery codes."""
    TOTP.activate(user, secret)
    return RecoveryCodes.activate(user).get_unused_codes()


def sign_in(client: Client, user, password: str = TEST_PASSWORD, **data):
    return client.post(reverse("login"), {"login": user.username, "password": password, **data})


def signed_in_as(client: Client):
    return client.session.get("_auth_user_id")


def test_it_enrols_an_authenticator_app_and_then_asks_for_its_code_at_sign_in(db):
    user = UserFactory(username="mira", role=Role.ADMIN)
    client = Client()
    assert sign_in(client, user).status_code == 302

    # The app's key comes with the page: a QR code, and the key itself for typing in.
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert secret in page.content.decode()
    assert "data:image/svg+xml;base64," in page.content.decode()
    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=user).exists()

    done = client.post(reverse("mfa_activate_totp"), {"code": code_for(secret)})
    assert done.status_code == 302
    assert done["Location"] == reverse("mfa_view_recovery_codes")
    stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    # Encrypted at rest with FIELD_ENCRYPTION_KEYS, like the admin keys.
    assert stored.data["secret"] != secret
    assert decrypt(stored.data["secret"]) == secret
    codes = client.get(reverse("mfa_view_recovery_codes"))
    assert codes.status_code == 200
    unused = stored.user.authenticator_set.get(type=Authenticator.Type.RECOVERY_CODES)
    assert all(c in codes.content.decode() for c in unused.wrap().get_unused_codes())
    # Shown once: the next look shows none of them.
    again = client.get(reverse("mfa_view_recovery_codes")).content.decode()
    assert not any(c in again for c in unused.wrap().get_unused_codes())

    client.post(reverse("logout"))
    fresh = Client()
    response = sign_in(fresh, user)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_as(fresh) is None  # the password alone didn't sign in
    assert fresh.post(reverse("mfa_authenticate"), {"code": "123456"}).status_code == 200
    assert signed_in_as(fresh) is None
    response = fresh.post(reverse("mfa_authenticate"), {"code": code_for(secret)})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in_as(fresh) == str(user.pk)


def test_it_keeps_the_next_url_through_the_code_step(db):
    user = UserFactory(username="nico", role=Role.FINANCE)
    enrol(user)
    client = Client()
    response = sign_in(client, user, next=reverse("costs"))
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": code_for(SECRET)})
    assert response["Location"] == reverse("costs")


def test_it_signs_in_with_a_recovery_code_once(db):
    user = UserFactory(username="omar", role=Role.AUDITOR)
    codes = enrol(user)
    client = Client()
    sign_in(client, user)
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 302
    assert signed_in_as(client) == str(user.pk)

    # Spent: the same code doesn't sign in a second time; another one does.
    other = Client()
    sign_in(other, user)
    assert other.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 200
    assert signed_in_as(other) is None
    other.post(reverse("mfa_authenticate"), {"code": codes[1]})
    assert signed_in_as(other) == str(user.pk)


def test_it_locks_the_code_step_after_repeated_wrong_codes(db):
    user = UserFactory(username="pia", role=Role.AUDITOR)
    enrol(user)
    client = Client()
    sign_in(client, user)
    for _ in range(5):
        client.post(reverse("mfa_authenticate"), {"code": "000000"})
    refused = client.post(reverse("mfa_authenticate"), {"code": code_for(SECRET)})
    assert "Too many failed" in refused.content.decode()
    assert signed_in_as(client) is None


def test_the_user_menu_leads_to_the_two_factor_page(client_as, admin):
    client = client_as(admin)
    home = client.get("/").content.decode()
    assert f'href="{reverse("mfa_index")}">Two-factor authentication' in home
    page = client.get(reverse("mfa_index")).content.decode()
    assert "Set up an authenticator app" in page
    enrol(admin)
    assert "Turn off" in client.get(reverse("mfa_index")).content.decode()


# --- REQUIRE_MFA_FOR_ADMINS ---------------------------------------------------------------


@pytest.fixture
def required(settings):
    settings.REQUIRE_MFA_FOR_ADMINS = True


@pytest.mark.parametrize("who", ["admin", "superuser"])
def test_it_sends_an_admin_without_totp_to_enrol_from_every_page(required, client_as, request, who):
    user = request.getfixturevalue(who)
    client = client_as(user)
    enrolment = reverse("mfa_activate_totp")
    for url in ("/", reverse("costs"), reverse("orgadmin:connections")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == enrolment
    htmx = client.get(reverse("costs"), headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == enrolment
    page = client.get(enrolment)
    assert page.status_code == 200
    assert "needs two-factor authentication" in page.content.decode()
    # Static files (WhiteNoise serves them once collected, as after `make run`; else 404) and
    # signing out still work.
    static = client.get("/static/css/app.css")
    assert static.status_code in (200, 404)
    assert static.get("Location") != enrolment
    assert client.post(reverse("logout")).status_code == 302


def test_it_lets_an_enrolled_admin_and_a_finance_person_through(
    required, client_as, admin, finance
):
    enrol(admin)
    assert client_as(admin).get("/").status_code == 200
    assert client_as(finance).get("/").status_code == 200


def test_someone_made_admin_during_their_session_is_sent_to_enrol_next(
    required, client_as, finance
):
    client = client_as(finance)
    assert client.get("/").status_code == 200
    role_grant(user=finance, role=Role.ADMIN, org=None)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_an_admin_cannot_turn_totp_off_while_it_is_required(required, client_as, admin):
    enrol(admin)
    client = client_as(admin)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200
    assert Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists()


def test_it_asks_nothing_of_admins_with_the_setting_off(client_as, admin):
    assert settings.REQUIRE_MFA_FOR_ADMINS is False  # the default, outside production examples
    assert client_as(admin).get("/").status_code == 200
