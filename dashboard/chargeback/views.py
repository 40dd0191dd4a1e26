"""Chargeback pages: the monthly report per cost centre (Finance and Admin; an Admin closes and
reopens months) with its CSV and Excel files, and the centres, assignments and rules (Finance
reads them, an Admin changes them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.chargeback import exports, selectors, services
from dashboard.chargeback.forms import (
    AssignmentForm,
    CentreForm,
    CloseForm,
    MonthForm,
    ReopenForm,
    RuleForm,
)
from dashboard.chargeback.models import CostCentre
from dashboard.chargeback.report import UNALLOCATED_NAME
from dashboard.periods import add_months, first_of_month
from orgadmin.access import Perm, requires
from orgadmin.views.common import can_manage, download, first_error, try_change, with_org

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(request: HttpRequest) -> tuple[dt.date, MonthForm]:
    """The month asked for, else the last month that is over (with the form's error)."""
    form = MonthForm(request.GET)
    default = add_months(first_of_month(selectors.today_in(org=request.org)), -1)
    month = form.cleaned_data.get("month") if form.is_valid() else None
    return month or default, form


def _report_url(month: dt.date, **extra: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"month": f"{month:%Y-%m}", **extra}.items())
    return f"{reverse('chargeback')}?{query}"


def _drill(report: selectors.Report, centre: str) -> list[Any] | None:
    if not centre:
        return None
    name = "" if centre == UNALLOCATED_NAME else centre
    return [line for line in report.lines if line.centre == name]


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
def chargeback(request: HttpRequest) -> HttpResponse:
    month, form = _month(request)
    report = selectors.chargeback_report(org=request.org, month=month)
    centre = form.cleaned_data.get("centre", "") if form.is_valid() else ""
    context = {
        "report": report,
        "form": form,
        "centre": centre,
        "drill": _drill(report, centre),
        "can_manage": can_manage(request),
        "previous": f"{add_months(month, -1):%Y-%m}",
        "next": f"{add_months(month, 1):%Y-%m}",
        "reopen_form": ReopenForm(initial={"month": f"{month:%Y-%m}"}),
    }
    return render(request, "chargeback/report.html", context)


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
def chargeback_export(request: HttpRequest, fmt: str) -> HttpResponse:
    month, form = _month(request)
    if not form.is_valid():
        return HttpResponse(first_error(form), status=400, content_type="text/plain")
    report = selectors.chargeback_report(org=request.org, month=month)
    if fmt == "csv":
        lines, filename = exports.report_csv(report)
        return download(lines, filename=filename, content_type="text/csv; charset=utf-8")
    body, filename = exports.report_xlsx(report)
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _after(request: HttpRequest, form: Any, call: Any, done: str, month: Any) -> HttpResponse:
    """Run a month's change; a message says how it went; back to the month's report."""
    if form.is_valid():
        _result, error = try_change(call, doing="change", form=form)
        if error is None:
            messages.success(request, done)
    else:
        error = first_error(form)
    if error:
        messages.error(request, error)
    return redirect(_report_url(month) if month else reverse("chargeback"))


@requires(Perm.MANAGE)
@require_POST
@with_org
def chargeback_close(request: HttpRequest) -> HttpResponse:
    form = CloseForm(request.POST)
    month = form.cleaned_data["month"] if form.is_valid() else None
    call = lambda: services.month_close(org=request.org, actor=request.user, month=month)  # noqa: E731
    done = f"Closed {month:%B %Y}: its report stays as it is now." if month else ""
    return _after(request, form, call, done, month)


@requires(Perm.MANAGE)
@require_POST
@with_org
def chargeback_reopen(request: HttpRequest) -> HttpResponse:
    form = ReopenForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {}
    month, reason = data.get("month"), data.get("reason", "")
    call = lambda: services.month_reopen(  # noqa: E731
        org=request.org, actor=request.user, month=month, reason=reason
    )
    done = f"Reopened {month:%B %Y}: its report is live again." if month else ""
    return _after(request, form, call, done, month)


# --- centres, assignments, rules -------------------------------------------------------------


def _setup_page(request: HttpRequest, **forms: Any) -> HttpResponse:
    org, manage = request.org, can_manage(request)
    centres = selectors.centre_list(org=org)
    context = {
        "centres": centres,
        "assignments": selectors.assignment_list(org=org),
        "rules": selectors.rule_list(org=org),
        "known_ids": selectors.known_ids(org=org) if manage else [],
        "can_manage": manage,
    }
    if manage:
        queryset = CostCentre.objects.filter(org=org)
        context["centre_form"] = forms.get("centre_form") or CentreForm()
        context["assignment_form"] = forms.get("assignment_form") or AssignmentForm(
            centres=queryset
        )
        context["rule_form"] = forms.get("rule_form") or RuleForm(centres=centres)
    return render(request, "chargeback/setup.html", context)


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
def cost_centres(request: HttpRequest) -> HttpResponse:
    return _setup_page(request)


def _saved(request: HttpRequest, form: Any, key: str, call: Any, done: Any) -> HttpResponse:
    """A setup form's answer: back to the page with a message, or the page with its errors."""
    if form.is_valid():
        result, _error = try_change(lambda: call(form.cleaned_data), doing="change", form=form)
        if result is not None:
            messages.success(request, done(result))
            return redirect("cost_centres")
    return _setup_page(request, **{key: form})


@requires(Perm.MANAGE)
@require_POST
@with_org
def centre_add(request: HttpRequest) -> HttpResponse:
    def call(data: dict[str, Any]) -> Any:
        return services.centre_create(org=request.org, actor=request.user, **data)

    done = lambda c: f"Added the cost centre “{c.name}”."  # noqa: E731
    return _saved(request, CentreForm(request.POST), "centre_form", call, done)


def _centre_or_404(request: HttpRequest, centre_id: int) -> CostCentre:
    centre = selectors.centre_get(org=request.org, centre_id=centre_id)
    if centre is None:
        raise Http404("No such cost centre (it may have been removed).")
    return centre


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@with_org
def centre_edit(request: HttpRequest, centre_id: int) -> HttpResponse:
    centre = _centre_or_404(request, centre_id)
    initial = {"name": centre.name, "code": centre.code, "owner": centre.owner}
    form = CentreForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved, _error = try_change(
            lambda: services.centre_update(centre=centre, actor=request.user, **form.cleaned_data),
            doing="change",
            form=form,
        )
        if saved is not None:
            messages.success(request, f"Saved the cost centre “{saved.name}”.")
            return redirect("cost_centres")
    return render(request, "chargeback/centre_edit.html", {"centre": centre, "form": form})


@requires(Perm.MANAGE)
@require_POST
@with_org
def centre_remove(request: HttpRequest, centre_id: int) -> HttpResponse:
    centre = _centre_or_404(request, centre_id)
    name = centre.name
    count, error = try_change(
        lambda: services.centre_delete(centre=centre, actor=request.user), doing="remove"
    )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Removed the cost centre “{name}” and {count} assignment(s).")
    return redirect("cost_centres")


@requires(Perm.MANAGE)
@require_POST
@with_org
def assignment_add(request: HttpRequest) -> HttpResponse:
    form = AssignmentForm(request.POST, centres=CostCentre.objects.filter(org=request.org))

    def call(data: dict[str, Any]) -> Any:
        return services.assignment_create(org=request.org, actor=request.user, **data)

    done = lambda a: f"Assigned {a.value} to “{a.centre.name}”."  # noqa: E731
    return _saved(request, form, "assignment_form", call, done)


@requires(Perm.MANAGE)
@require_POST
@with_org
def assignment_remove(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = selectors.assignment_get(org=request.org, assignment_id=assignment_id)
    if assignment is None:
        raise Http404("No such assignment (it may have been removed).")
    services.assignment_delete(assignment=assignment, actor=request.user)
    messages.success(request, f"Removed the assignment of {assignment.value}.")
    return redirect("cost_centres")


@requires(Perm.MANAGE)
@require_POST
@with_org
def rule_add(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST, centres=selectors.centre_list(org=request.org))

    def call(data: dict[str, Any]) -> Any:
        fields = ("name", "target", "project_id", "method", "shares")
        return services.rule_create(
            org=request.org, actor=request.user, **{f: data[f] for f in fields}
        )

    done = lambda r: f"Added the rule “{r.name}”."  # noqa: E731
    return _saved(request, form, "rule_form", call, done)


@requires(Perm.MANAGE)
@require_POST
@with_org
def rule_remove(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get(org=request.org, rule_id=rule_id)
    if rule is None:
        raise Http404("No such rule (it may have been removed).")
    services.rule_delete(rule=rule, actor=request.user)
    messages.success(request, f"Removed the rule “{rule.name}”.")
    return redirect("cost_centres")
