"""The alert inbox: every budget and anomaly alert of the connection, its state (open,
acknowledged, resolved, expected), who moved it, and its deliveries. Finance and Admins read it
and move alerts' states; marking an anomaly expected teaches the detector
(dashboard/alerts/anomalies.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from dashboard.alerts import inbox_selectors as selectors
from dashboard.alerts import services
from dashboard.alerts.charts import anomaly_figure
from dashboard.alerts.inbox_forms import AlertStateForm, InboxFilterForm
from dashboard.alerts.models import Alert
from orgadmin.access import Perm, holds, requires
from orgadmin.views.common import back, first_error, fragment, paginate, with_org

PER_PAGE = 25
# What each state's button says, and which buttons an alert in a state offers.
ACTIONS = {
    Alert.State.ACKNOWLEDGED: "Acknowledge",
    Alert.State.RESOLVED: "Resolve",
    Alert.State.EXPECTED: "Mark expected",
    Alert.State.OPEN: "Reopen",
}
OFFERED = {
    Alert.State.OPEN: (Alert.State.ACKNOWLEDGED, Alert.State.RESOLVED, Alert.State.EXPECTED),
    Alert.State.ACKNOWLEDGED: (Alert.State.RESOLVED, Alert.State.EXPECTED, Alert.State.OPEN),
    Alert.State.RESOLVED: (Alert.State.OPEN, Alert.State.EXPECTED),
    Alert.State.EXPECTED: (Alert.State.OPEN,),
}
DONE = {
    Alert.State.ACKNOWLEDGED: "Acknowledged “{}”: the inbox shows you are on it.",
    Alert.State.RESOLVED: "Resolved “{}”.",
    Alert.State.EXPECTED: "Marked “{}” expected.",
    Alert.State.OPEN: "Reopened “{}”.",
}
TAUGHT = " The anomaly checks count its days as normal from now on."


def _alert_or_404(request: HttpRequest, alert_pk: int) -> Alert:
    alert = selectors.alert_get(org=request.org, alert_id=alert_pk)
    if alert is None:
        raise Http404("No such alert.")
    return alert


def actions_for(alert: Alert) -> list[tuple[str, str]]:
    """(state, button label) of the changes a person may make to the alert now."""
    return [(state, ACTIONS[state]) for state in OFFERED[Alert.State(alert.state)]]


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
def alert_inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    state, kind = filters.get("state", ""), filters.get("kind", "")
    rows = selectors.alerts_list(org=request.org, state=state, kind=kind)
    context = {
        "form": form,
        "page": paginate(request, rows, per_page=PER_PAGE),
        "counts": selectors.alert_counts(org=request.org),
        "filtered": bool(state or kind),
    }
    return render(request, fragment(request, "alerts/inbox.html", "alert-list"), context)


@requires(Perm.VIEW_SPEND)
@require_GET
@with_org
def alert_detail(request: HttpRequest, alert_pk: int) -> HttpResponse:
    alert = _alert_or_404(request, alert_pk)
    context = {
        "alert": alert,
        "details": alert.details or {},
        "actions": actions_for(alert),
        "deliveries": selectors.alert_deliveries(alert=alert),
        "figure": _figure(alert),
        "may_audit": holds(request.user, Perm.VIEW_AUDIT_LOG, org=request.org),
    }
    return render(request, "alerts/alert_detail.html", context)


@requires(Perm.VIEW_SPEND)
@require_POST
@with_org
def alert_state(request: HttpRequest, alert_pk: int) -> HttpResponse:
    alert = _alert_or_404(request, alert_pk)
    form = AlertStateForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing changed. {first_error(form)}")
        return back(request, "alert_detail", alert_pk=alert.pk)
    state = form.cleaned_data["state"]
    services.alert_state_set(alert=alert, state=state, actor=request.user)
    taught = state == Alert.State.EXPECTED and alert.kind == Alert.Kind.ANOMALY
    messages.success(request, DONE[Alert.State(state)].format(alert.title) + (TAUGHT * taught))
    return back(request, "alert_detail", alert_pk=alert.pk)


def _figure(alert: Alert) -> go.Figure | None:
    """An anomaly's chart: its group's daily cost around the episode, and what was expected."""
    days = selectors.anomaly_daily_cost(alert=alert)
    if not days:
        return None
    details: dict[str, Any] = alert.details
    expected = [(dt.date.fromisoformat(d["day"]), Decimal(d["expected"])) for d in details["daily"]]
    return anomaly_figure(
        days=days,
        expected=expected,
        start=dt.date.fromisoformat(details["start"]),
        end=dt.date.fromisoformat(details["end"]),
    )
