"""Reads for the tokens page: a person's tokens, and the exports a token of theirs may read."""

from __future__ import annotations

from typing import Any, NamedTuple

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode

from orgadmin.access import Perm, holds, may_use
from orgadmin.forms.fields import row_id
from orgadmin.models import Organization
from orgadmin.tokens.models import AccessToken

# The URLs a token opens (GET only), by name: every export of the dashboard. The view behind
# each still asks for its own permission, of the token's person, on the organization asked for.
# A new export joins by adding its name here (tests/tokens/test_token_access.py fails for an
# export URL missing from it), and a row to EXPORTS if the tokens page should offer it.
TOKEN_URL_NAMES: frozenset[str] = frozenset(
    {
        "costs_export",
        "usage_export",
        "all_costs_export",
        "costs_focus",  # FOCUS 1.2, /costs/focus.csv?month=YYYY-MM
        "all_costs_focus",
        "attribution_people_export",
        "attribution_keys_export",
        "attribution_reconciliation_export",
        "chargeback_export",  # CSV or Excel, ?month=YYYY-MM
        "orgadmin:audit_export_csv",
        "orgadmin:audit_export_jsonl",
        "orgadmin:activity_export",
        "orgadmin:billing_export",  # an xAI team's invoices
        "access_export",  # the access matrix, with its filters (orgadmin/access_matrix/)
        "access_grid_export",  # the same as a grid, people x projects
        "review_evidence_csv",  # an access review's decisions (orgadmin/reviews/)
        "review_evidence_pdf",  # its evidence report as PDF
    }
)
MONTH = "{month}"  # in EXPORTS' queries: the current month, YYYY-MM
# What the page offers, in its order: (URL name, its arguments, its query, what it is).
EXPORTS: list[tuple[str, dict[str, str], dict[str, str], str]] = [
    ("costs_export", {"fmt": "csv"}, {}, "Costs, daily rows (CSV)"),
    ("costs_export", {"fmt": "json"}, {}, "Costs, daily rows (JSON)"),
    ("costs_focus", {}, {"month": MONTH}, "Costs of a month in FOCUS 1.2 (CSV)"),
    ("usage_export", {"fmt": "csv"}, {}, "Usage, daily rows (CSV)"),
    ("usage_export", {"fmt": "json"}, {}, "Usage, daily rows (JSON)"),
    ("attribution_people_export", {"fmt": "csv"}, {}, "Cost by person (CSV)"),
    ("attribution_keys_export", {"fmt": "csv"}, {}, "Cost by key (CSV)"),
    ("chargeback_export", {"fmt": "xlsx"}, {"month": MONTH}, "Chargeback report (Excel)"),
    ("all_costs_export", {"fmt": "csv"}, {}, "Costs of all organizations (CSV)"),
    ("orgadmin:audit_export_csv", {}, {}, "Audit log (CSV)"),
    ("orgadmin:audit_export_jsonl", {}, {}, "Audit log (JSON lines)"),
    ("orgadmin:activity_export", {}, {}, "Action log (CSV)"),
]


class ExportLink(NamedTuple):
    label: str
    path: str  # with ?org= where the export is of one organization


def tokens_of(*, user: Any) -> list[AccessToken]:
    """A person's tokens, newest first, revoked and expired ones too (one query)."""
    return list(AccessToken.objects.filter(user=user))


def token_of(*, user: Any, token_id: object) -> AccessToken | None:
    """One of the person's own tokens, by id; None for anyone else's or no such id."""
    pk = row_id(token_id)
    return None if pk is None else AccessToken.objects.filter(user=user, pk=pk).first()


def export_links(
    *, user: Any, org: Organization | None, orgs: list[Organization]
) -> list[ExportLink]:
    """The exports a token of `user` may read today on `org`, of the connections `orgs` they
    see (no query: the roles are read once per request)."""
    spend_on = sum(1 for each in orgs if holds(user, Perm.VIEW_SPEND, org=each))
    month = timezone.now().strftime("%Y-%m")
    links = []
    for name, kwargs, query, label in EXPORTS:
        try:
            path = reverse(name, kwargs=kwargs)
        except NoReverseMatch:  # an export this deployment doesn't have (yet)
            continue
        params = {k: v.replace(MONTH, month) for k, v in query.items()}
        if name == "all_costs_export":
            if spend_on < 2:  # the view needs two connections (else 404)
                continue
        elif org is None or not may_use(user, name, org):
            continue
        else:
            params = {"org": str(org.pk), **params}
        links.append(ExportLink(label, f"{path}?{urlencode(params)}" if params else path))
    return links
