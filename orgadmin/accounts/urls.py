"""The part of django-allauth this site offers, under accounts/, each view guarded and limited to
its methods as tests/test_access_matrix.py says. Named as allauth names them, since allauth
finds its pages by these names. No sign-up and no email pages: an Admin makes accounts (People);
a forgotten password is reset by a link by mail.
"""

from __future__ import annotations

from collections.abc import Callable

from allauth.account import views as account
from allauth.mfa.base import views as mfa
from allauth.mfa.recovery_codes import views as recovery_codes
from allauth.mfa.totp import views as totp
from allauth.socialaccount import views as socialaccount
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, register_converter
from django.views.decorators.http import require_http_methods

from orgadmin.access import signed_in
from orgadmin.accounts import sso
from orgadmin.views.sign_in import sign_in

View = Callable


def public(view: View, *methods: str) -> View:
    """A page for anyone, signed in or not (its own view decides what it shows)."""
    return require_http_methods(list(methods))(view)


def mine(view: View, *methods: str) -> View:
    """A page about the signed-in person's own account."""
    return signed_in(require_http_methods(list(methods))(view))


OIDC = {"provider_id": settings.OIDC_PROVIDER_ID}


class UserIdBase36:
    """The person's id in a password reset link (allauth's `<uidb36>-<key>`): base 36 digits,
    so the key (which holds a `-` itself) is the rest."""

    regex = "[0-9A-Za-z]{1,13}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ResetKey:
    """The key of a password reset link (Django's token, `<time>-<hash>`, or allauth's
    "set-password" once it sits in the session): letters, digits and dashes only."""

    regex = "[0-9A-Za-z-]{1,100}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UserIdBase36, "uidb36")
register_converter(ResetKey, "reset_key")

urlpatterns = [
    path("login/", sign_in, name="login"),
    # The same page under allauth's name for it, which allauth's own flows link to.
    path("login/", sign_in, name="account_login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("inactive/", public(account.account_inactive, "GET"), name="account_inactive"),
    path(
        "reauthenticate/",
        mine(account.reauthenticate, "GET", "POST"),
        name="account_reauthenticate",
    ),
    # Forgotten passwords (and the reset an Admin sends from People): a link by mail, which
    # moves its key into the session before the form shows (allauth).
    path(
        "password/reset/",
        public(account.password_reset, "GET", "POST"),
        name="account_reset_password",
    ),
    path(
        "password/reset/done/",
        public(account.password_reset_done, "GET"),
        name="account_reset_password_done",
    ),
    path(
        "password/reset/key/<uidb36:uidb36>-<reset_key:key>/",
        public(account.password_reset_from_key, "GET", "POST"),
        name="account_reset_password_from_key",
    ),
    path(
        "password/reset/key/done/",
        public(account.password_reset_from_key_done, "GET"),
        name="account_reset_password_from_key_done",
    ),
    # Two-factor authentication: the code asked at sign-in, and the person's own settings.
    path("2fa/", mine(mfa.index, "GET"), name="mfa_index"),
    path("2fa/authenticate/", public(mfa.authenticate, "GET", "POST"), name="mfa_authenticate"),
    path(
        "2fa/reauthenticate/",
        mine(mfa.reauthenticate, "GET", "POST"),
        name="mfa_reauthenticate",
    ),
    path("2fa/totp/activate/", mine(totp.activate_totp, "GET", "POST"), name="mfa_activate_totp"),
    path(
        "2fa/totp/deactivate/",
        mine(totp.deactivate_totp, "GET", "POST"),
        name="mfa_deactivate_totp",
    ),
    path(
        "2fa/recovery-codes/",
        mine(recovery_codes.view_recovery_codes, "GET"),
        name="mfa_view_recovery_codes",
    ),
    path(
        "2fa/recovery-codes/generate/",
        mine(recovery_codes.generate_recovery_codes, "GET", "POST"),
        name="mfa_generate_recovery_codes",
    ),
    path(
        "2fa/recovery-codes/download/",
        mine(recovery_codes.download_recovery_codes, "GET"),
        name="mfa_download_recovery_codes",
    ),
    # OpenID Connect single sign-on (404 until OIDC_SERVER_URL is set), allauth's with the ID
    # token's signature always checked (orgadmin.accounts.sso). The redirect URI to register at
    # the identity provider: /accounts/oidc/<OIDC_PROVIDER_ID>/login/callback/.
    path(
        f"oidc/{settings.OIDC_PROVIDER_ID}/login/",
        public(sso.login, "GET", "POST"),
        OIDC,
        name="openid_connect_login",
    ),
    path(
        f"oidc/{settings.OIDC_PROVIDER_ID}/login/callback/",
        public(sso.callback, "GET"),
        OIDC,
        name="openid_connect_callback",
    ),
    path(
        "sso/cancelled/",
        public(socialaccount.login_cancelled, "GET"),
        name="socialaccount_login_cancelled",
    ),
    path("sso/error/", public(socialaccount.login_error, "GET"), name="socialaccount_login_error"),
]
