"""Our own action log: who in this dashboard changed what, when, and what OpenAI answered."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orgadmin import selectors
from orgadmin.access import Perm, requires
from orgadmin.forms import ActivityFilterForm
from orgadmin.views.common import fragment, paginate


@requires(Perm.VIEW_AUDIT_LOG)
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    form = ActivityFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.actions_list(
        org=request.org, q=filters.get("q", ""), outcome=filters.get("outcome", "")
    )
    context = {
        "form": form,
        "page": paginate(request, rows),
        "filtered": bool(filters.get("q") or filters.get("outcome")),
    }
    return render(request, fragment(request, "orgadmin/activity.html", "activity-live"), context)
