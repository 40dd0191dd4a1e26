"""The Access tokens page: each signed-in person's own read-only tokens for BI tools. Anyone
signed in opens it; what a token may read is decided at each use by the person's roles."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from orgadmin.access import signed_in
from orgadmin.accounts.stepup import step_up_required
from orgadmin.tokens import selectors, services
from orgadmin.tokens.forms import TokenForm
from orgadmin.tokens.models import AccessToken
from orgadmin.views.common import changed, fragment, inline_result, try_change


def _token_or_404(request: HttpRequest) -> AccessToken:
    token = selectors.token_of(user=request.user, token_id=request.POST.get("token_id", ""))
    if token is None:
        raise Http404("No such token of yours.")
    return token


def _page(request: HttpRequest, form: TokenForm | None, part: str, **extra: Any) -> HttpResponse:
    context = {
        "tokens": selectors.tokens_of(user=request.user),
        "now": timezone.now(),
        "form": form or TokenForm(),
        "exports": selectors.export_links(user=request.user, org=request.org, orgs=request.orgs),
        "site": request.build_absolute_uri("/").rstrip("/"),
        **extra,
    }
    return render(request, fragment(request, "tokens/tokens.html", part), context)


def _create(request: HttpRequest, form: TokenForm) -> tuple[AccessToken, str]:
    data = form.cleaned_data
    return services.token_create(user=request.user, name=data["name"], days=data["days"])


@signed_in
@require_GET
def access_tokens(request: HttpRequest) -> HttpResponse:
    return _page(request, None, "token-list")


@signed_in
@require_POST
@never_cache
@sensitive_variables("secret", "created")
@step_up_required
def access_token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    created = None
    if form.is_valid():  # a refusal by the service goes on the form, beside its field
        created, _refusal = try_change(lambda: _create(request, form), doing="create", form=form)
    if created is None:
        return _page(request, form, "token-form")
    token, secret = created
    messages.success(request, f"Created the token “{token.name}”. Copy it now.")
    response = _page(request, None, "token-form", created=token, secret=secret)
    return changed(response) if request.htmx else response


@signed_in
@require_POST
def access_token_revoke(request: HttpRequest) -> HttpResponse:
    token = _token_or_404(request)
    if token.revoked_at is None:
        services.token_revoke(token=token)
    messages.success(request, f"Revoked the token “{token.name}” ({token.masked}).")
    return inline_result(request, error=None, fallback="access_tokens")
