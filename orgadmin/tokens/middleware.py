"""`Authorization: Bearer odt_…`: a person's access token, for BI tools pulling the exports.

A request that carries one is answered here unless it is a GET (or HEAD) of an export
(selectors.TOKEN_URL_NAMES): anything else is 403, whatever the person could do signed in, so a
token never changes anything and never reaches a form. An export's own guard then asks for the
person's roles of the moment, on the organization named by `?org=` (its id or its name) or on
their only one. No session is read or written: the person exists for the view only.

Sits after CurrentOrganizationMiddleware (which saw nobody) and before the capability check.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from orgadmin.access import Scope, url_scope
from orgadmin.backends import connections_visible
from orgadmin.models import Organization
from orgadmin.tokens import services
from orgadmin.tokens.models import AccessToken
from orgadmin.tokens.selectors import TOKEN_URL_NAMES

READ_METHODS = frozenset({"GET", "HEAD"})
TEXT = "text/plain; charset=utf-8"


def _answer(status: int, text: str, **headers: str) -> HttpResponse:
    response = HttpResponse(text + "\n", status=status, content_type=TEXT)
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def unauthorized(reason: str) -> HttpResponse:
    """401: the token lets nobody in, and why (RFC 6750's invalid_token)."""
    # The header stays ASCII (the reason may name the token as odt_…abcd): the body says which.
    challenge = 'Bearer realm="exports", error="invalid_token"'
    return _answer(401, reason, WWW_Authenticate=challenge)


def forbidden(reason: str) -> HttpResponse:
    return _answer(403, reason)


def _url_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return None


def _over_the_rate(token: AccessToken) -> bool:
    """More than ACCESS_TOKEN_REQUESTS_PER_MINUTE requests with this token in this minute (each
    process counts its own unless CACHE_URL is shared, e.g. Redis)."""
    key = f"access-token-rate:{token.pk}:{int(timezone.now().timestamp()) // 60}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: count this one as the first
        cache.set(key, 1, timeout=120)
        count = 1
    return count > settings.ACCESS_TOKEN_REQUESTS_PER_MINUTE


def _pick_org(
    request: HttpRequest, orgs: list[Organization], name: str
) -> tuple[Organization | None, HttpResponse | None]:
    """The organization the export is of: `?org=` (id or name) among those the person holds a
    role on, else their only one. (org, None), or (None, the refusal)."""
    asked = request.GET.get("org", "").strip()
    if asked:
        found = next((o for o in orgs if str(o.pk) == asked), None)  # an id first, then a name
        found = found or next((o for o in orgs if o.name.casefold() == asked.casefold()), None)
        if found is None:
            return None, forbidden(f"You hold no role on an organization “{asked[:100]}”.")
        return found, None
    if len(orgs) == 1 or url_scope(name) != Scope.CONNECTION:
        return (orgs[0] if orgs else None), None
    if not orgs:
        return None, forbidden("You hold no role on any organization.")
    yours = ", ".join(f"{o.pk} ({o.name})" for o in orgs)
    return None, _answer(400, f"Name the organization with ?org=<id or name>. Yours: {yours}.")


class AccessTokenMiddleware:
    """Answers every request that carries a bearer token (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.casefold() != "bearer":
            return self.get_response(request)
        try:
            token = services.token_check(raw=value.strip())
        except services.TokenRefused as refused:
            return unauthorized(str(refused))
        name = _url_name(request)
        if request.method not in READ_METHODS or name not in TOKEN_URL_NAMES:
            return forbidden(
                "An access token only reads the exports (GET): sign in to open anything else."
            )
        if _over_the_rate(token):
            return _answer(
                429, "Too many requests with this token: wait a minute.", Retry_After="60"
            )
        return self._as_the_person(request, token, name)

    def _as_the_person(self, request: HttpRequest, token: AccessToken, name: str) -> HttpResponse:
        user = token.user
        orgs = connections_visible(user)
        org, refusal = _pick_org(request, orgs, name)
        if refusal is not None:
            return refusal
        request.user, request.orgs, request.org = user, orgs, org  # type: ignore[attr-defined]
        request.access_token = token  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            # Outer middleware (the session's keep-alive) must see nobody: no session is made.
            request.user = AnonymousUser()
        services.token_used(token=token, org=org, path=request.path, status=response.status_code)
        response = _plain(response, org)
        response["Cache-Control"] = "private, no-store"
        return response


def _plain(response: HttpResponse, org: Organization | None) -> HttpResponse:
    """A view's refusal as a line of text a BI tool can show, not the site's HTML error page."""
    if response.status_code < 400 or not response.get("Content-Type", "").startswith("text/html"):
        return response
    where = f" on {org.name}" if org is not None else ""
    reasons = {
        403: f"Your roles{where} at this moment don't let you read this export.",
        404: f"There is no such export{where} (All organizations needs two connections or more).",
    }
    return _answer(response.status_code, reasons.get(response.status_code, "Nothing exported."))
