"""Pages of the dashboard package: the overview, usage and costs, their exports, and the sync.

Pages read only our database. Each view parses its filters with a form, calls selectors, and
renders; an htmx request gets the page's body fragment.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from dashboard import exports, pages, pages_all, services
from dashboard.forms import (
    AllCostFilterForm,
    CostFilterForm,
    ExportForm,
    ReportingSettingsForm,
    UsageFilterForm,
)
from dashboard.page_cache import cached_page
from dashboard.selectors import reporting_timezone
from dashboard.tasks import sync_usage
from orgadmin import selectors
from orgadmin.access import Perm, Scope, requires, signed_in
from orgadmin.models import Organization, SyncRun
from orgadmin.views.common import back, bad_filter, download, fragment
from orgadmin.views.connections import switch_org
from orgadmin.views.security_summary import security_context
from orgadmin.views.sync import sync_now, sync_status_response


def _page_context(request: HttpRequest, org, form) -> dict:
    return {
        "org": org,
        "form": form,
        "controls": pages.filter_controls(form=form, path=request.path),
        # An Admin of this connection is offered to make the timezone looked at its own.
        "may_set_timezone": request.user.has_perm(Perm.MANAGE, org),
        "sync_status": selectors.sync_status(org=org, kind=SyncRun.Kind.USAGE),
    }


def _no_org(request: HttpRequest, title: str) -> HttpResponse:
    return render(request, "dashboard/no_org.html", {"title": title})


@signed_in
@require_GET
@cached_page("overview")
def home(request: HttpRequest) -> HttpResponse:
    org = request.org
    context = {"org": org, "latest_runs": selectors.latest_sync_runs(org=org) if org else []}
    if org and request.user.has_perm(Perm.VIEW_SPEND, org):
        context.update(pages.overview_context(org=org, now=timezone.now()))
        context["sync_status"] = selectors.sync_status(org=org, kind=SyncRun.Kind.USAGE)
    elif org and request.user.has_perm(Perm.VIEW_AUDIT_LOG, org):
        context.update(security_context(org=org, now=timezone.now()))  # the auditor's landing
    return render(request, "dashboard/home.html", context)


@requires(Perm.VIEW_SPEND)
@require_GET
@cached_page("costs")
def costs(request: HttpRequest) -> HttpResponse:
    org = request.org
    if org is None:
        return _no_org(request, "Costs")
    form = CostFilterForm(request.GET, default_tz=reporting_timezone(org=org), now=timezone.now())
    context = _page_context(request, org, form)
    if form.is_valid():
        context.update(
            pages.costs_context(org=org, form=form, path=request.path, user=request.user)
        )
    response = render(request, fragment(request, "dashboard/costs.html", "costs-body"), context)
    if request.htmx and form.is_valid():
        push_url(response, form.url(request.path))
    return response


@requires(Perm.VIEW_SPEND)
@require_GET
@cached_page("usage")
def usage(request: HttpRequest) -> HttpResponse:
    org = request.org
    if org is None:
        return _no_org(request, "Usage")
    form = UsageFilterForm(request.GET, default_tz=reporting_timezone(org=org), now=timezone.now())
    context = _page_context(request, org, form)
    context.update(pages.usage_tabs(form=form, path=request.path))
    if form.is_valid():
        context.update(pages.usage_context(org=org, form=form, path=request.path))
    response = render(request, fragment(request, "dashboard/usage.html", "usage-body"), context)
    if request.htmx and form.is_valid():
        push_url(response, form.url(request.path))
    return response


def _export_content(org, form, options: ExportForm, fmt: str, kind: str):
    """(text chunks, file name): the table on screen, or the daily rows of the page's filters."""
    table = options.cleaned_data["rows"] == "table"
    full = options.full_precision
    if kind == "costs" and table:
        screen = pages.costs_table_rows(org=org, form=form)
        period, provider = form.query().period, org.provider_info.label
        return exports.costs_table_export(
            screen, period=period, fmt=fmt, full=full, provider=provider
        )
    if kind == "costs":
        return exports.costs_export(org=org, query=form.query(), fmt=fmt, full=full)
    if table:
        screen = pages.usage_table_rows(org=org, form=form)
        return exports.usage_table_export(screen, query=form.query(), fmt=fmt)
    return exports.usage_export(org=org, query=form.query(), fmt=fmt)


def _export(request: HttpRequest, form_class, fmt: str, kind: str) -> HttpResponse:
    org = request.org
    if org is None:
        return HttpResponse("No organization is connected.", status=404, content_type="text/plain")
    form = form_class(request.GET, default_tz=reporting_timezone(org=org), now=timezone.now())
    options = ExportForm(request.GET)
    if not form.is_valid() or not options.is_valid():
        return bad_filter(form if not form.is_valid() else options)
    content, filename = _export_content(org, form, options, fmt, kind)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return download(content, filename=filename, content_type=content_type)


@requires(Perm.VIEW_SPEND)
@require_GET
def costs_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, CostFilterForm, fmt, "costs")


@requires(Perm.VIEW_SPEND)
@require_GET
def usage_export(request: HttpRequest, fmt: str) -> HttpResponse:
    return _export(request, UsageFilterForm, fmt, "usage")


# --- All organizations (dashboard/pages_all.py) ---------------------------------------------

ALL = "all"  # the switcher's "All organizations" entry


def _spend_orgs_or_404(request: HttpRequest) -> list[Organization]:
    """The connections whose costs the person may read; the view needs two of them."""
    orgs = pages_all.spend_connections(request.user, request.orgs)
    if len(orgs) < 2:
        raise Http404("All organizations needs Finance or Admin on two connections or more.")
    return orgs


@requires(Perm.VIEW_SPEND, scope=Scope.ANY)
@require_GET
def all_overview(request: HttpRequest) -> HttpResponse:
    orgs = _spend_orgs_or_404(request)
    context = pages_all.all_overview_context(orgs=orgs, now=timezone.now())
    return render(request, "dashboard/all_home.html", {**context, "all_scope": True})


@requires(Perm.VIEW_SPEND, scope=Scope.ANY)
@require_GET
def all_costs(request: HttpRequest) -> HttpResponse:
    orgs = _spend_orgs_or_404(request)
    form = AllCostFilterForm(request.GET, now=timezone.now())
    controls = pages_all.all_filter_controls(form=form, path=request.path)
    context = {"form": form, "controls": controls, "orgs": orgs, "all_scope": True}
    if form.is_valid():
        context.update(pages_all.all_costs_context(orgs=orgs, form=form))
    template = fragment(request, "dashboard/all_costs.html", "costs-body")
    response = render(request, template, context)
    if request.htmx and form.is_valid():
        push_url(response, form.url(request.path))
    return response


@requires(Perm.VIEW_SPEND, scope=Scope.ANY)
@require_GET
def all_costs_export(request: HttpRequest, fmt: str) -> HttpResponse:
    orgs = _spend_orgs_or_404(request)
    form = AllCostFilterForm(request.GET, now=timezone.now())
    options = ExportForm(request.GET)
    if not form.is_valid() or not options.is_valid():
        return bad_filter(form if not form.is_valid() else options)
    full, query = options.full_precision, form.query()
    if options.cleaned_data["rows"] == "table":
        screen = pages_all.all_costs_table_rows(orgs=orgs, form=form)
        content, filename = exports.costs_table_export(
            screen, period=query.period, fmt=fmt, full=full, prefix="costs_all_organizations"
        )
    else:
        content, filename = exports.all_costs_export(orgs=orgs, query=query, fmt=fmt, full=full)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return download(content, filename=filename, content_type=content_type)


@signed_in
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """The organization switcher: "All organizations" opens that view (its Costs from a Costs
    page, else its Overview); an organization is switched to by orgadmin's switch_org."""
    if request.POST.get("org") != ALL:
        return switch_org(request)
    came_from = urlsplit(request.headers.get("referer", "")).path
    return redirect("all_costs" if came_from.startswith(reverse("costs")) else "all_overview")


@requires(Perm.VIEW_SPEND)
@require_POST
def usage_sync_start(request: HttpRequest) -> HttpResponse:
    """Queue a sync now; answer with the status banner, which polls until the run ends."""
    return sync_now(request, kind=SyncRun.Kind.USAGE, queue=sync_usage.delay_on_commit)


@requires(Perm.VIEW_SPEND)
@require_GET
def usage_sync_status(request: HttpRequest) -> HttpResponse:
    """The freshness banner; polled every 2 s while a run is queued or running."""
    return sync_status_response(request, kind=SyncRun.Kind.USAGE)


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
    return back(request, "costs")
