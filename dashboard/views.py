"""Pages of the dashboard package: the overview, usage and costs, their exports, and the sync.

Pages read only our database. Each view parses its filters with a form, calls selectors, and
renders; an htmx request gets the page's body fragment.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, push_url, trigger_client_event

from dashboard import exports, pages, services
from dashboard.forms import CostFilterForm, ReportingSettingsForm, UsageFilterForm
from dashboard.selectors import reporting_timezone, usage_freshness, usage_run_since
from dashboard.tasks import sync_usage
from orgadmin import selectors
from orgadmin.access import Perm, requires, signed_in
from orgadmin.models import SyncRun
from orgadmin.syncing import is_running


def _fragment(request: HttpRequest, template: str, name: str) -> str:
    return f"{template}#{name}" if request.htmx and not request.htmx.boosted else template


def _page_context(request: HttpRequest, org, form) -> dict:
    return {
        "org": org,
        "form": form,
        "controls": pages.filter_controls(form=form, path=request.path),
        "status": pages.sync_status(freshness=usage_freshness(org=org), now=timezone.now()),
    }


def _no_org(request: HttpRequest, title: str) -> HttpResponse:
    return render(request, "dashboard/no_org.html", {"title": title})


@signed_in
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    org = request.org
    context = {"org": org, "latest_runs": selectors.latest_sync_runs(org=org) if org else []}
    if org and request.user.has_perm(Perm.VIEW_SPEND):
        context.update(pages.overview_context(org=org, now=timezone.now()))
    return render(request, "dashboard/home.html", context)


@requires(Perm.VIEW_SPEND)
@require_GET
def costs(request: HttpRequest) -> HttpResponse:
    org = request.org
    if org is None:
        return _no_org(request, "Costs")
    form = CostFilterForm(request.GET, default_tz=reporting_timezone(org=org), now=timezone.now())
    context = _page_context(request, org, form)
    if form.is_valid():
        context.update(pages.costs_context(org=org, form=form, path=request.path))
    response = render(request, _fragment(request, "dashboard/costs.html", "costs-body"), context)
    if request.htmx and form.is_valid():
        push_url(response, form.url(request.path))
    return response


@requires(Perm.VIEW_SPEND)
@require_GET
def usage(request: HttpRequest) -> HttpResponse:
    org = request.org
    if org is None:
        return _no_org(request, "Usage")
    form = UsageFilterForm(request.GET, default_tz=reporting_timezone(org=org), now=timezone.now())
    context = _page_context(request, org, form)
    context.update(pages.usage_tabs(form=form, path=request.path))
    if form.is_valid():
        context.update(pages.usage_context(org=org, form=form, path=request.path))
    response = render(request, _fragment(request, "dashboard/usage.html", "usage-body"), context)
    if request.htmx and form.is_valid():
        push_url(response, form.url(request.path))
    return response


def _export(request: HttpRequest, form_class, fmt: str, kind: str) -> HttpResponse:
    org = request.org
    if org is None:
        return HttpResponse("No organization is connected.", status=404, content_type="text/plain")
    form = form_class(request.GET, default_tz=reporting_timezone(org=org), now=timezone.now())
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(
            f"Invalid parameters. {problems}", status=400, content_type="text/plain"
        )
    if kind == "costs":
        content, filename = exports.costs_export(org=org, query=form.query(), fmt=fmt)
    else:
        content, filename = exports.usage_export(org=org, query=form.query(), fmt=fmt)
    response = StreamingHttpResponse(
        content, content_type="text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires(Perm.VIEW_SPEND)
@require_GET
def costs_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, CostFilterForm, fmt, "costs")


@requires(Perm.VIEW_SPEND)
@require_GET
def usage_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, UsageFilterForm, fmt, "usage")


@requires(Perm.VIEW_SPEND)
@require_POST
def usage_sync_start(request: HttpRequest) -> HttpResponse:
    """Queue a sync now; answer with the status banner, which polls until the run ends."""
    org = request.org
    if org is None:
        messages.error(request, "Connect an organization first.")
        return redirect("home")
    queued_at = timezone.now()
    if is_running(org=org, kind=SyncRun.Kind.USAGE):
        messages.info(request, "A sync is already running; this banner follows it.")
    else:
        sync_usage.delay_on_commit(org.pk, request.user.pk)
        messages.success(request, "Sync started. The data refreshes when it ends.")
    if not request.htmx:
        back = request.headers.get("referer", "")
        safe = url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        return redirect(back if back and safe else reverse("costs"))
    return _status(request, org, since=queued_at - dt.timedelta(seconds=1), polling=True)


def _status(request: HttpRequest, org, *, since: dt.datetime | None, polling: bool) -> HttpResponse:
    freshness = usage_freshness(org=org)
    run = usage_run_since(org=org, since=since) if since else None
    status = pages.sync_status(freshness=freshness, now=timezone.now(), run=run, since=since)
    response = render(request, "dashboard/_freshness.html", {"status": status})
    if polling and not status["poll"]:
        # The run is over: stop polling, swap in the final banner, and refresh the page's data.
        response.status_code = HttpResponseStopPolling.status_code
        trigger_client_event(response, "usageSynced")
    return response


@requires(Perm.VIEW_SPEND)
@require_GET
def usage_sync_status(request: HttpRequest) -> HttpResponse:
    """The freshness banner; polled every 2 s while a run is queued or running."""
    org = request.org
    if org is None:
        return HttpResponse("")
    since = None
    if request.GET.get("since"):
        try:
            since = dt.datetime.fromisoformat(request.GET["since"])
        except ValueError:
            since = None
        if since is not None and timezone.is_naive(since):
            since = timezone.make_aware(since, dt.UTC)
        if since is not None and timezone.now() - since > dt.timedelta(minutes=15):
            since = None  # nothing picked it up in 15 minutes: show the plain banner
    return _status(request, org, since=since, polling=bool(request.htmx))


@requires(Perm.MANAGE)
@require_POST
def reporting_settings(request: HttpRequest) -> HttpResponse:
    """Set the organization's default reporting timezone (UTC unless changed)."""
    org = request.org
    form = ReportingSettingsForm(request.POST)
    if org is None:
        messages.error(request, "Connect an organization first.")
    elif form.is_valid():
        services.reporting_timezone_set(
            org=org, timezone=form.cleaned_data["timezone"], actor=request.user
        )
        messages.success(
            request,
            f"Usage and costs of “{org}” are now reported in {form.cleaned_data['timezone']}.",
        )
    else:
        messages.error(request, " ".join(form.errors.get("timezone", ["Pick a timezone."])))
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else "costs")
