"""Sign-in: Django's LoginView behind a site-wide cap on attempts per minute.

django-axes locks a username+address pair after repeated failures; someone guessing from many
addresses never trips it. The cap counts every sign-in attempt, from all clients together, in the
shared cache (Redis in production), and answers 429 once a minute's are spent.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters

from orgadmin.forms import SignInForm

_login = auth_views.LoginView.as_view(
    authentication_form=SignInForm,
    redirect_authenticated_user=True,
    http_method_names=["get", "post"],
)


def _attempt_allowed(now: float) -> bool:
    """Count one attempt in this clock minute; False once more than the limit were made."""
    limit = settings.SIGN_IN_ATTEMPTS_PER_MINUTE
    if limit <= 0:
        return True
    key = f"sign-in-attempts:{int(now // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        attempts = cache.incr(key)
    except ValueError:  # the key expired (or was evicted) between add() and incr()
        cache.add(key, 1, timeout=120)
        attempts = 1
    return attempts <= limit


@sensitive_post_parameters()
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        now = timezone.now().timestamp()
        if not _attempt_allowed(now):
            wait = 60 - int(now % 60)
            response = render(
                request,
                "registration/sign_in_throttled.html",
                {"limit": settings.SIGN_IN_ATTEMPTS_PER_MINUTE, "next": request.POST.get("next")},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
    return _login(request)
