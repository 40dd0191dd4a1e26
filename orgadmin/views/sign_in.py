"""Sign-in: allauth's sign-in page behind a site-wide cap on attempts per minute.

django-axes locks a username+address pair after repeated failures; someone guessing from many
addresses never trips it. The cap counts every sign-in attempt, from all clients together, in the
shared cache (Redis in production), and answers 429 once a minute's are spent.

With single sign-on configured the page offers it; with SSO_ONLY it offers nothing else, but for a
small "Administrator sign-in" that shows the password form to superusers (break-glass): anyone
else's password is refused there as a wrong one (orgadmin.accounts.adapters).
"""

from __future__ import annotations

from typing import Any

from allauth.account.views import LoginView
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters

from orgadmin.accounts.sso import provider_form_action


class SignInView(LoginView):
    http_method_names = ["get", "post"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        password = not settings.SSO_ONLY or "admin" in self.request.GET or self.request.POST
        context.update(
            sso_name=settings.OIDC_PROVIDER_NAME if settings.OIDC_SERVER_URL else "",
            sso_url=reverse("openid_connect_login") if settings.OIDC_SERVER_URL else "",
            sso_only=settings.SSO_ONLY,
            show_password=bool(password),
        )
        return context


_login = SignInView.as_view()


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
    return provider_form_action(_login(request))  # its SSO button leads to the provider
