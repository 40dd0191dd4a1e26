"""Step-up re-authentication: before the most dangerous actions, a password or a TOTP code from
the last ACCOUNT_REAUTHENTICATION_TIMEOUT seconds (allauth's reauthentication).

A view calls `step_up(request)` where the action is decided (after its own 404s and 403s), or is
wrapped in `@step_up_required` (inside `@requires`). Either raises allauth's
ReauthenticationRequired: allauth's middleware sends a page request to re-authenticate, and
replays a suspended POST afterwards; ours (orgadmin.accounts.middleware.StepUpMiddleware) answers
an htmx request with HX-Redirect, back to the page it came from.

A sign-in within the timeout counts as a re-authentication: whoever signed in a minute ago typed
their password (and code) a minute ago.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.http import HttpRequest, HttpResponse

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def recently_authenticated(request: HttpRequest) -> bool:
    """Whether the signed-in person signed in or re-authenticated within the timeout."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    records = get_authentication_records(request, user)
    latest = max((r.get("at", 0) for r in records if isinstance(r, dict)), default=0)
    return time.time() - latest < account_settings.REAUTHENTICATION_TIMEOUT


def step_up(request: HttpRequest) -> None:
    """Raise ReauthenticationRequired unless the person proved who they are recently."""
    if not recently_authenticated(request):
        raise ReauthenticationRequired()


def step_up_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ask for a recent password or TOTP code before a view changes anything (a GET passes).
    Put it inside `@requires(...)`, so that who may comes before "prove it's you"; e.g. for
    changing someone's dashboard role:

        @requires(Perm.MANAGE, scope=Scope.ALL)
        @require_POST
        @step_up_required
        def person_role(request, pk): ...
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            step_up(request)
        return view(request, *args, **kwargs)

    return wrapper
