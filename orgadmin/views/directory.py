"""The directory cache's refresh button and its status, and member suggestions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from orgadmin import selectors
from orgadmin.access import Perm, requires
from orgadmin.models import SyncRun
from orgadmin.tasks import sync_directory
from orgadmin.views.common import query_text, with_org
from orgadmin.views.sync import sync_now, sync_status_response


def _queue(org_id: int, user_id: int) -> None:
    sync_directory.delay_on_commit(org_id, None, user_id)  # all sections


@requires(Perm.MANAGE)
@require_POST
def directory_refresh(request: HttpRequest) -> HttpResponse:
    """Refresh the whole cache now; answer with the badge, which polls until the run ends."""
    return sync_now(request, kind=SyncRun.Kind.DIRECTORY, queue=_queue)


@requires(Perm.VIEW_PROJECTS)
@require_GET
def directory_status(request: HttpRequest) -> HttpResponse:
    """Polled while a refresh runs; stops polling, and reloads the lists, once it is over."""
    return sync_status_response(request, kind=SyncRun.Kind.DIRECTORY)


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def member_suggestions(request: HttpRequest) -> HttpResponse:
    """`<option>`s of members matching what was typed, for a `<datalist>`."""
    users = selectors.user_suggestions(org=request.org, q=query_text(request, "user"))
    return render(request, "orgadmin/_member_options.html", {"users": users})
