"""Pages of the dashboard package: the overview (and, later, usage and costs)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orgadmin import selectors
from orgadmin.access import signed_in


@signed_in
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    org = request.org
    context = {"org": org, "latest_runs": selectors.latest_sync_runs(org=org) if org else []}
    return render(request, "dashboard/home.html", context)
