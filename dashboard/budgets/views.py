"""The Budgets page: each budget's progress in its period, its forecast and status, beside the
limits and alerts set in OpenAI itself. Finance and Admin read it; an Admin adds, changes and
removes budgets."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.budgets import selectors, services
from dashboard.budgets.forms import BudgetForm
from dashboard.budgets.models import Budget
from orgadmin import selectors as org_selectors
from orgadmin.access import Perm, requires
from orgadmin.models import SyncRun
from orgadmin.views.common import can_manage, changed, fragment, inline_result, try_change, with_org

TEMPLATE = "budgets/budgets.html"


def _budget_or_404(request: HttpRequest, budget_id: int) -> Budget:
    budget = selectors.budget_get(org=request.org, budget_id=budget_id)
    if budget is None:
        raise Http404("No such budget (it may have been removed).")
    return budget


def _form(request: HttpRequest, data: Any = None, **kwargs: Any) -> BudgetForm:
    today = selectors.today_in(org=request.org)
    choices = selectors.scope_choices(org=request.org, today=today)
    return BudgetForm(data, choices=choices, **kwargs)


def _page(request: HttpRequest, form: BudgetForm | None, part: str) -> HttpResponse:
    org, manage = request.org, can_manage(request)
    context = {
        "org": org,
        "statuses": selectors.budget_statuses(org=org, today=selectors.today_in(org=org)),
        "provider_limits": selectors.provider_limits(org=org),
        "can_manage": manage,
        "form": (form or _form(request)) if manage else None,
        "sync_status": org_selectors.sync_status(org=org, kind=SyncRun.Kind.USAGE),
    }
    return render(request, fragment(request, TEMPLATE, part), context)


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
def budgets(request: HttpRequest) -> HttpResponse:
    return _page(request, None, "budget-list")


def _create(request: HttpRequest, form: BudgetForm) -> Budget:
    return services.budget_create(org=request.org, actor=request.user, **form.values())


@requires(Perm.MANAGE)
@require_POST
@with_org
def budget_add(request: HttpRequest) -> HttpResponse:
    form = _form(request, request.POST)
    created = None
    if form.is_valid():  # a refusal by the service goes on the form, beside its field
        created, _refusal = try_change(lambda: _create(request, form), doing="add", form=form)
    if created is None:
        return _page(request, form, "budget-form")
    messages.success(request, f"Added the budget “{created.name}”.")
    if not request.htmx:
        return redirect("budgets")
    return changed(_page(request, None, "budget-form"))


@requires(Perm.MANAGE)
@require_http_methods(["GET", "POST"])
@with_org
def budget_edit(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = _budget_or_404(request, budget_id)
    initial = BudgetForm.initial_of(budget)
    form = _form(request, request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        updated, _refusal = try_change(
            lambda: services.budget_update(budget=budget, actor=request.user, **form.values()),
            doing="change",
            form=form,
        )
        if updated is not None:
            messages.success(request, f"Saved the budget “{updated.name}”.")
            return redirect("budgets")
    return render(request, "budgets/budget_edit.html", {"budget": budget, "form": form})


@requires(Perm.MANAGE)
@require_POST
@with_org
def budget_remove(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = _budget_or_404(request, budget_id)
    name = budget.name
    services.budget_delete(budget=budget, actor=request.user)
    messages.success(request, f"Removed the budget “{name}”. The alerts it raised stay.")
    return inline_result(request, error=None, fallback="budgets")
