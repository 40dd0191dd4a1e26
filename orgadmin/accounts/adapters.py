"""allauth's hooks: who may sign in and how, and what a sign-in through single sign-on sets.

Signing up is closed: an Admin makes accounts, and single sign-on makes one on a first sign-in
(OIDC_AUTO_PROVISION). Wrong passwords are counted by the lock-out (django-axes, per username and
address) and the site-wide cap, as before allauth; allauth's own count is left to TOTP and
recovery codes. With SSO_ONLY, a password signs in superusers only (break-glass).
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from orgadmin import crypto
from orgadmin.accounts.lockout import SIGN_IN_REFUSED
from orgadmin.accounts.middleware import needs_mfa
from orgadmin.accounts.oidc import parse_role_map, roles_from_claims
from orgadmin.accounts.stepup import recently_authenticated
from orgadmin.models import Organization
from orgadmin.services.roles import role_grants_sync_sso

log = logging.getLogger(__name__)

QUIET_MESSAGES = {"account/messages/logged_in.txt", "account/messages/logged_out.txt"}


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_password_mismatch": SIGN_IN_REFUSED,
        "email_password_mismatch": SIGN_IN_REFUSED,
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def add_message(
        self,
        request: HttpRequest,
        level: int,
        message_template: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        # "Successfully signed in as …": the page that follows says so already.
        if message_template in QUIET_MESSAGES:
            return
        super().add_message(request, level, message_template, *args, **kwargs)

    def get_reauthentication_methods(self, user: Any) -> list[dict]:
        """Password, TOTP, or (for someone who has neither, signed in by single sign-on) a new
        sign-in at the identity provider."""
        methods = super().get_reauthentication_methods(user)
        sso = user.is_authenticated and settings.OIDC_SERVER_URL
        if (
            not methods
            and sso
            and user.socialaccount_set.filter(provider=settings.OIDC_PROVIDER_ID)
        ):
            methods.append(
                {
                    "id": "sso",
                    "description": f"Sign in again with {settings.OIDC_PROVIDER_NAME}",
                    "url": reverse("openid_connect_login"),
                }
            )
        return methods

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Leave the count of wrong passwords to django-axes (see the module)."""

    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        user = super().authenticate(request, **credentials)
        if user is not None and settings.SSO_ONLY and not user.is_superuser:
            # Refused as a wrong password is, and counted by the lock-out as one.
            named = {k: v for k, v in credentials.items() if k != "password"}
            user_login_failed.send(sender=__name__, credentials=named, request=request)
            return None
        return user

    def get_client_ip(self, request: HttpRequest) -> str:
        """The client's address as the lock-out reads it (TRUSTED_PROXY_COUNT)."""
        ip = get_client_ip_address(request)
        if not ip:
            raise PermissionDenied("No client address.")
        return ip

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A sign-in as recent as a re-authentication counts as one."""
        request = getattr(self, "request", None)
        if request is not None and recently_authenticated(request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def post_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse:
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None and sociallogin.account.provider == settings.OIDC_PROVIDER_ID:
            sso_roles_apply(user=user, claims=sso_claims(sociallogin.account.extra_data))
        return super().post_login(request, user, **kwargs)


def sso_claims(extra_data: dict[str, Any]) -> dict[str, Any]:
    """The claims of an OpenID Connect sign-in: the ID token's, then userinfo's over them."""
    if "id_token" in extra_data or "userinfo" in extra_data:
        return {**(extra_data.get("id_token") or {}), **(extra_data.get("userinfo") or {})}
    return dict(extra_data)


def sso_roles_apply(*, user: Any, claims: dict[str, Any]) -> bool:
    """Set the dashboard roles single sign-on gives `user` from `claims` (OIDC_ROLE_MAP)."""
    pairs = roles_from_claims(
        claims, claim=settings.OIDC_ROLE_CLAIM, rules=parse_role_map(settings.OIDC_ROLE_MAP)
    )
    names = {name for _, name in pairs if name}
    orgs = {org.name: org for org in Organization.objects.filter(name__in=names)}
    for name in sorted(names - set(orgs)):
        log.warning("OIDC_ROLE_MAP names the connection %r, which doesn't exist: skipped.", name)
    grants = {(role, orgs.get(name)) for role, name in pairs if not name or name in orgs}
    return role_grants_sync_sso(user=user, grants=grants)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return settings.OIDC_AUTO_PROVISION

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: Any) -> bool:
        """Provision without a form. An address that an account here already has, and that the
        identity provider didn't vouch for (or vouched for, but for another account), stops the
        sign-in with a page that says so: there's no sign-up form to pick another."""
        emails = [a.email for a in sociallogin.email_addresses if a.email]
        users = get_user_model()._default_manager
        taken = (
            Q(email__iexact=emails[0]) | Q(emailaddress__email__iexact=emails[0])
            if emails
            else None
        )
        if taken is not None and users.filter(taken).exists():
            raise ImmediateHttpResponse(
                render(
                    request,
                    "socialaccount/authentication_error.html",
                    {"reason": "email_taken", "email": emails[0]},
                    status=409,
                )
            )
        return True


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and the recovery codes' seed encrypted at rest, as admin keys are."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

    def can_delete_authenticator(self, authenticator: Any) -> bool:
        """With REQUIRE_MFA_FOR_ADMINS, an Admin keeps their authenticator app."""
        if settings.REQUIRE_MFA_FOR_ADMINS and authenticator.type == "totp":
            return not needs_mfa(authenticator.user)
        return super().can_delete_authenticator(authenticator)
