"""Sets `request.orgs`, the connections the signed-in person holds a role on, and `request.org`,
the one they are looking at."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from orgadmin.access import may_use
from orgadmin.backends import connections_visible
from orgadmin.models import Organization
from orgadmin.providers import CAPABILITY_TITLES, capability_of_page

SESSION_KEY = "current_org_id"


def current_org(
    request: HttpRequest, visible: list[Organization] | None = None
) -> Organization | None:
    """The organization chosen in this session, else the first one, among those the person
    holds a role on (`visible`, read when not given); None when there is none."""
    if not request.user.is_authenticated:
        return None
    orgs = connections_visible(request.user) if visible is None else visible
    org_id = request.session.get(SESSION_KEY)
    chosen = next((org for org in orgs if org.pk == org_id), None)
    return chosen or (orgs[0] if orgs else None)


class SessionActivityMiddleware:
    """Keep a signed-in session alive while it is used, writing it at most once a minute.

    A session expires SESSION_COOKIE_AGE after it was last written. Writing it on every request
    (SESSION_SAVE_EVERY_REQUEST) would make every page view a database write, and with SQLite a
    write waits for the writer lock, which a usage sync holds for a page at a time: page views
    stalled for up to 0.9 s during a sync. Here a request writes the session only when it was
    last written SESSION_REFRESH_SECONDS ago or more, so an idle session expires between
    SESSION_COOKIE_AGE - SESSION_REFRESH_SECONDS and SESSION_COOKIE_AGE after its last use.
    """

    KEY = "_active_at"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # After the view: a sign-out has emptied the session by then, and stays signed out.
        if request.user.is_authenticated:
            now = int(time.time())
            if now - request.session.get(self.KEY, 0) >= settings.SESSION_REFRESH_SECONDS:
                request.session[self.KEY] = now  # saved by SessionMiddleware, with a new expiry
        return response


class CurrentOrganizationMiddleware:
    """`request.orgs`: the connections the signed-in person holds a role on (the switcher's
    list); `request.org`: the one they look at. Someone without a role on a connection never
    gets it as `request.org`, so every page scoped by it stays out of that connection's data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.orgs = connections_visible(request.user)  # type: ignore[attr-defined]
        request.org = current_org(request, request.orgs)  # type: ignore[attr-defined]
        return self.get_response(request)


class HtmxMessagesMiddleware:
    """Send pending messages with every htmx fragment, as an out-of-band swap of #messages.

    Views just call `messages.success(...)`; whether the page or a fragment answers, the person
    sees the message.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or request.htmx.boosted:
            return response
        if (
            response.status_code != 200
            or response.streaming
            or not response.get("Content-Type", "").startswith("text/html")
            or any(h in response for h in ("HX-Redirect", "HX-Location", "HX-Refresh"))
        ):
            return response
        from django.contrib.messages import get_messages
        from django.template.loader import render_to_string

        storage = get_messages(request)
        if not len(storage):
            return response
        html = render_to_string(
            "_messages.html", {"messages": storage, "oob": True}, request=request
        )
        response.content += html.encode()
        return response


class ProviderCapabilityMiddleware:
    """A page or action the current connection's API can't do (an xAI team's members, say)
    answers with a note saying where it is managed, before its view calls any API.

    Only for someone the page's guard lets in: anyone else gets the view's own answer (the
    sign-in page, a 403), so the note tells nobody anything they couldn't see."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        org = getattr(request, "org", None)
        match = request.resolver_match
        if org is None or match is None or not request.user.is_authenticated:
            return None
        capability = capability_of_page(match.view_name)
        if capability is None or org.has_capability(capability):
            return None
        if not may_use(request.user, match.view_name, org):
            return None
        context = {"what": CAPABILITY_TITLES[capability], "provider": org.provider_info}
        return render(request, "orgadmin/not_in_api.html", context, status=404)
