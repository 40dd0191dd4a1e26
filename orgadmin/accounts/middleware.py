"""Two-factor enrolment for Admins, and step-up re-authentication for htmx requests."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import get_adapter
from allauth.core.exceptions import ReauthenticationRequired
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from orgadmin.access import ANY_CONNECTION, Role
from orgadmin.backends import roles_on

ENROLLED = "_mfa_enrolled"  # in the session, once TOTP was seen: no query on every page


@cache
def _open_paths() -> tuple[str, ...]:
    """What someone who must enrol may still open: the two-factor pages (enrolment among them),
    re-authentication (enrolling may ask for it), signing out, static files, the health check."""
    return (
        reverse("mfa_index"),
        reverse("account_reauthenticate"),
        reverse("logout"),
        reverse("healthz"),
        "/" + settings.STATIC_URL.lstrip("/"),
    )


def needs_mfa(user: Any) -> bool:
    """An Admin on any connection, or a superuser, has to use TOTP (REQUIRE_MFA_FOR_ADMINS)."""
    return user.is_superuser or Role.ADMIN in roles_on(user, ANY_CONNECTION)


def must_enrol(user: Any) -> bool:
    """Someone who has to use TOTP and hasn't set it up."""
    if not needs_mfa(user):
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class RequireMFAMiddleware:
    """With REQUIRE_MFA_FOR_ADMINS on, every page sends an Admin without TOTP to enrol, until
    they have (htmx requests get an HX-Redirect there)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not settings.REQUIRE_MFA_FOR_ADMINS or not user.is_authenticated:
            return self.get_response(request)
        if request.path.startswith(_open_paths()):
            # Deactivating TOTP happens here: look again on the next page.
            request.session.pop(ENROLLED, None)
            request.mfa_enrolment_required = must_enrol(user)  # type: ignore[attr-defined]
            return self.get_response(request)
        # Only someone who must use TOTP and has it is remembered as enrolled: a person given
        # Admin later in the same session is asked to enrol on their next page.
        if not request.session.get(ENROLLED) and needs_mfa(user):
            if must_enrol(user):
                url = reverse("mfa_activate_totp")
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(url)
                return HttpResponseRedirect(url)
            request.session[ENROLLED] = True
        return self.get_response(request)


def _back_to(request: HttpRequest) -> str:
    """The page an htmx request was made from (its path: never another site), else the
    request's own path for a GET, else the home page."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path.startswith("/") and not current.path.startswith("//"):
        return current.path + (f"?{current.query}" if current.query else "")
    return request.get_full_path() if request.method == "GET" else reverse("home")


class StepUpMiddleware:
    """allauth's middleware sends a page request that needs a recent re-authentication to the
    re-authentication page, and replays a POST afterwards. An htmx request can't follow that:
    it gets an HX-Redirect there instead, coming back to the page it was made from, where the
    person does the action again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ReauthenticationRequired):
            return None
        if not getattr(request, "htmx", False) or not request.user.is_authenticated:
            return None  # allauth's middleware answers
        methods = get_adapter().get_reauthentication_methods(request.user)
        if not methods:
            return None  # allauth's middleware refuses (403)
        messages.info(request, "Confirm it's you, then do it again.")
        return HttpResponseClientRedirect(
            f"{methods[0]['url']}?{urlencode({'next': _back_to(request)})}"
        )
