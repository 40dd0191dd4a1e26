"""Accepting an invitation to the dashboard: public, reached from the link in the mail.

The link's token goes into the session at once, and the page moves to a URL without it (as
Django's and allauth's password resets do): the token is then in no Referer, no browser history
past the first hop, no error log line. The person picks a username (suggested from their address)
and a password, and is signed in; an Admin whose role needs two-factor authentication
(REQUIRE_MFA_FOR_ADMINS) is then sent to set it up by orgadmin.accounts.middleware.
"""

from __future__ import annotations

from allauth.account.internal.flows.login import record_authentication
from allauth.account.utils import perform_login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from orgadmin.forms.people import AcceptForm
from orgadmin.models import Invitation
from orgadmin.selectors import people as selectors
from orgadmin.services import invitations as services
from orgadmin.views.common import try_change

SESSION_KEY = "_people_invitation_token"
# The URL's token once the real one sits in the session.
IN_SESSION = "invitation"


def _refused(request: HttpRequest, invitation: Invitation | None) -> HttpResponse:
    """A link that doesn't work (any more): why, and what to do; never a 500."""
    status = invitation.status if invitation is not None else ""
    return render(
        request,
        "people/accept_invalid.html",
        {"status": status, "invitation": invitation},
        status=404 if invitation is None else 410,
    )


def _signed_in(request: HttpRequest, token: str) -> HttpResponse:
    """Someone signed in opened the link: sign them out first (keeping the token), on request."""
    if request.method == "POST" and "sign_out" in request.POST:
        logout(request)
        request.session[SESSION_KEY] = token
        return redirect("orgadmin:people_accept", token=IN_SESSION)
    return render(request, "people/accept_signed_in.html")


def _accepted(request: HttpRequest, user: object) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    if settings.SSO_ONLY:  # no password to sign in with: single sign-on it is
        messages.success(
            request, f"Your account is ready: sign in with {settings.OIDC_PROVIDER_NAME}."
        )
        return redirect("login")
    response = perform_login(request, user, redirect_url=reverse("home"))
    # A sign-in this recent counts as a re-authentication (step-up), as a password one does.
    record_authentication(request, user, method="password", username=user.get_username())
    return response


@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_post_parameters("password1", "password2")
def people_accept(request: HttpRequest, token: str) -> HttpResponse:
    if token != IN_SESSION:
        request.session[SESSION_KEY] = token[:200]
        return redirect("orgadmin:people_accept", token=IN_SESSION)
    token = request.session.get(SESSION_KEY, "")
    invitation = selectors.invitation_by_token(token=token)
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        return _refused(request, invitation)
    if request.user.is_authenticated:
        return _signed_in(request, token)
    initial = {"username": selectors.username_suggestion(email=invitation.email)}
    form = AcceptForm(
        request.POST or None,
        email=invitation.email,
        with_password=not settings.SSO_ONLY,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        user, _ = try_change(
            lambda: services.invitation_accept(
                invitation=invitation,
                username=form.cleaned_data["username"],
                password=form.password,
                name=form.cleaned_data["name"],
            ),
            doing="accept",
            form=form,
        )
        if user is not None:
            return _accepted(request, user)
    context = {"form": form, "invitation": invitation, "sso_only": settings.SSO_ONLY}
    return render(request, "people/accept.html", context)
