"""The directory cache's freshness badge, its refresh button, and member suggestions."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from orgadmin import selectors
from orgadmin.access import Perm, requires
from orgadmin.tasks import sync_directory
from orgadmin.views.common import (
    back,
    can_manage,
    changed,
    freshness,
    query_text,
    with_org,
)

# Stop polling for a refresh that no worker has finished after this long.
POLL_GIVE_UP_SECONDS = 600


def _badge(request: HttpRequest, **kwargs) -> HttpResponse:
    context = {"freshness": freshness(request.org, **kwargs), "can_manage": can_manage(request)}
    return render(request, "orgadmin/_freshness.html", context)


@requires(Perm.MANAGE)
@require_POST
@with_org
def directory_refresh(request: HttpRequest) -> HttpResponse:
    latest = selectors.directory_freshness(org=request.org)["latest"]
    sync_directory.delay_on_commit(request.org.pk, None, request.user.pk)
    if not request.htmx:
        messages.info(request, "Refreshing the directory from OpenAI.")
        return back(request, "orgadmin:members")
    return _badge(request, waiting_since=latest.pk if latest else 0)


@requires(Perm.VIEW_PROJECTS)
@require_GET
@with_org
def directory_status(request: HttpRequest) -> HttpResponse:
    """Polled while a refresh runs; stops polling, and reloads the lists, once it is over."""
    try:
        since = int(request.GET.get("since", "0"))
        started = float(request.GET.get("t", "0"))
    except ValueError:
        since, started = 0, 0.0
    latest = selectors.directory_freshness(org=request.org)["latest"]
    if latest is not None and latest.pk > since and not latest.is_running:
        response = _badge(request)
        response.status_code = HttpResponseStopPolling.status_code
        return changed(response)
    if timezone.now().timestamp() - started > POLL_GIVE_UP_SECONDS:
        response = _badge(request)
        response.status_code = HttpResponseStopPolling.status_code
        return response
    return _badge(request, waiting_since=since, started=started)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def member_suggestions(request: HttpRequest) -> HttpResponse:
    """`<option>`s of members matching what was typed, for a `<datalist>`."""
    users = selectors.user_suggestions(org=request.org, q=query_text(request, "user"))
    return render(request, "orgadmin/_member_options.html", {"users": users})
