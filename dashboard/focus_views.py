"""The FOCUS export's views: `/costs/focus.csv?month=YYYY-MM` (the current connection, or with
`all=1` every connection whose costs the person may read) and `/all/costs/focus.csv` (the All
organizations view's). The rows are dashboard/focus.py's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard import focus, pages_all
from dashboard.chargeback.selectors import centre_map
from orgadmin.access import Perm, Scope, requires
from orgadmin.client import OrgAPIError
from orgadmin.models import Organization
from orgadmin.views.common import bad_filter, download


class FocusMonthForm(forms.Form):
    """The billing month, `YYYY-MM`, not after the current UTC month."""

    month = forms.RegexField(
        regex=r"^\d{4}-\d{2}$", error_messages={"invalid": "Give the month as YYYY-MM."}
    )
    all = forms.BooleanField(required=False)

    def clean_month(self) -> dt.date:
        text = self.cleaned_data["month"]
        try:
            month = dt.date(int(text[:4]), int(text[5:]), 1)
        except ValueError:
            raise forms.ValidationError(f"{text} is not a month.") from None
        if month > timezone.now().date().replace(day=1):
            raise forms.ValidationError("That month hasn't begun yet.")
        return month


def centre_lookup(org: Organization) -> focus.CentreOf:
    """The connection's cost-centre lookup (dashboard.chargeback): the FOCUS tags carry it."""
    return centre_map(org=org).of


def _focus(request: HttpRequest, orgs: Sequence[Organization], month: dt.date) -> HttpResponse:
    try:
        content, filename = focus.focus_export(orgs=orgs, month=month, centre_of=centre_lookup)
    except OrgAPIError as exc:  # an xAI team's invoice couldn't be read: no half a file
        return HttpResponse(
            f"Nothing exported: {exc}", status=502, content_type="text/plain; charset=utf-8"
        )
    return download(content, filename=filename, content_type="text/csv; charset=utf-8")


@requires(Perm.VIEW_SPEND)
@require_GET
def costs_focus(request: HttpRequest) -> HttpResponse:
    """A billing month in FOCUS 1.2: this connection's, or with `all=1` every one whose costs
    the person may read."""
    form = FocusMonthForm(request.GET)
    if not form.is_valid():
        return bad_filter(form)
    orgs = [request.org]
    if form.cleaned_data["all"]:
        orgs = pages_all.spend_connections(request.user, request.orgs)
    return _focus(request, orgs, form.cleaned_data["month"])


@requires(Perm.VIEW_SPEND, scope=Scope.ANY)
@require_GET
def all_costs_focus(request: HttpRequest) -> HttpResponse:
    """A billing month in FOCUS 1.2 of every connection whose costs the person may read."""
    form = FocusMonthForm(request.GET)
    if not form.is_valid():
        return bad_filter(form)
    orgs = pages_all.spend_connections(request.user, request.orgs)
    return _focus(request, orgs, form.cleaned_data["month"])
