"""The hygiene page (Admin and Auditor read it; Admins change things): findings by group, their
outcomes, the thresholds, and revoking keys in bulk after a preview."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from orgadmin.access import Perm, requires
from orgadmin.accounts.stepup import step_up
from orgadmin.hygiene import refresh, selectors, services
from orgadmin.hygiene.forms import OutcomeForm, RevokeForm, ShowForm, ThresholdsForm
from orgadmin.hygiene.models import BADGES, SEVERITY_CHOICES, Finding
from orgadmin.views.common import base_context, first_error, try_change, with_org

PAGE = "hygiene/hygiene.html"


def _page(request: HttpRequest, *, thresholds: ThresholdsForm | None = None) -> HttpResponse:
    form = ShowForm(request.GET)
    form.is_valid()  # a refused value is named on the page and left out; the others still apply
    wanted = form.cleaned_data
    show = wanted.get("show") or "open"
    now = timezone.now()
    settings = refresh.hygiene_settings(org=request.org)
    groups = selectors.findings_grouped(
        org=request.org, now=now, show=show, kind=wanted.get("kind", ""),
        severity=wanted.get("severity", ""), expand=wanted.get("all", ""),
    )  # fmt: skip
    context: dict[str, Any] = {
        **base_context(request),
        "form": form,
        "show": show,
        "shows": selectors.SHOWS,
        "severities": [(value, label, BADGES[value]) for value, label in SEVERITY_CHOICES],
        "groups": groups,
        "expanded": wanted.get("all", ""),
        "per_section": selectors.PER_SECTION,
        "filtered": bool(wanted.get("kind") or wanted.get("severity")),
        "counts": selectors.finding_counts(org=request.org, now=now),
        "thresholds": thresholds or ThresholdsForm(instance=settings),
        "today": now.date(),
    }
    return render(request, PAGE, context)


def _finding_or_404(request: HttpRequest, pk: int) -> Finding:
    finding = Finding.objects.filter(org=request.org, pk=pk).first()
    if finding is None:
        raise Http404("No such finding.")
    return finding


@requires(Perm.VIEW_DIRECTORY)
@require_GET
@with_org
def hygiene(request: HttpRequest) -> HttpResponse:
    return _page(request)


@requires(Perm.MANAGE)
@require_POST
@with_org
def hygiene_check(request: HttpRequest) -> HttpResponse:
    result = refresh.hygiene_refresh(org=request.org)
    messages.success(
        request, f"Checked: {result['found']} findings, {result['new']} new, "
        f"{result['resolved']} resolved since the last check.",
    )  # fmt: skip
    return redirect("hygiene")


@requires(Perm.MANAGE)
@require_POST
@with_org
def hygiene_thresholds(request: HttpRequest) -> HttpResponse:
    form = ThresholdsForm(request.POST, instance=refresh.hygiene_settings(org=request.org))
    if not form.is_valid():
        messages.error(request, first_error(form) or "Check the thresholds.")
        return _page(request, thresholds=form)
    services.hygiene_settings_save(org=request.org, values=form.cleaned_data, actor=request.user)
    messages.success(request, "Saved the thresholds and checked again with them.")
    return redirect("hygiene")


@requires(Perm.MANAGE)
@require_POST
@with_org
def hygiene_outcome(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding = _finding_or_404(request, finding_id)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"“{finding.title}”: {first_error(form)}")
        return _page(request)
    data = form.cleaned_data
    _, error = try_change(
        lambda: services.finding_outcome_set(
            org=request.org, finding=finding, outcome=data["outcome"], actor=request.user,
            reason=data["reason"], until=data["until"],
        ),
        doing="change the finding",
    )  # fmt: skip
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{finding.get_outcome_display()}: “{finding.title}”.")
    return redirect("hygiene")


@requires(Perm.MANAGE)
@require_GET
@with_org
def hygiene_revoke_preview(request: HttpRequest) -> HttpResponse:
    form = RevokeForm(request.GET)
    if not form.is_valid():
        messages.error(request, first_error(form) or "Pick the keys to revoke.")
        return _page(request)
    rows = selectors.revoke_preview(
        org=request.org, refs=form.cleaned_data["key"], now=timezone.now()
    )
    context = {
        **base_context(request),
        "rows": rows,
        "revocable": [r for r in rows if r.revocable],
        "spending": [r for r in rows if r.revocable and r.spend],
    }
    return render(request, "hygiene/revoke_preview.html", context)


@requires(Perm.MANAGE)
@require_POST
@with_org
def hygiene_revoke(request: HttpRequest) -> HttpResponse:
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form) or "Pick the keys to revoke.")
        return _page(request)
    step_up(request)
    outcomes = services.keys_revoke(
        org=request.org, refs=form.cleaned_data["key"], actor=request.user
    )
    context = {**base_context(request), "outcomes": outcomes, "done": [o for o in outcomes if o.ok]}
    return render(request, "hygiene/revoke_result.html", context)
