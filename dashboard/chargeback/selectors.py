"""Reads for chargeback: cost centres, assignments, rules, and a month's report (our tables
only, a fixed number of queries whatever the number of centres or lines).

A month is a calendar month of the reporting timezone. Cost rows are whole UTC days of the
API's 1d buckets (CostBucket.day), so a month holds the rows whose day falls in it, as the Costs
page counts them; "today", and so which months are over, is the reporting timezone's.

The costs of a month come from dashboard.attribution (`attributed_costs` per person, key and
model, plus `cost_remainder`: together they are the bill to the cent). A closed month's report
is read from its snapshot; an open month's is built now, with the revisions of the closed
months just before it as adjustments.

`centre_map(org=)` is what other reports (the FOCUS export's tags) use to name the centre of a
project, key and person, by the same precedence as the report.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from dashboard.attribution.selectors import attribution_of
from dashboard.chargeback import report as rp
from dashboard.chargeback.models import (
    Assignment,
    ClosedBase,
    ClosedLine,
    ClosedMonth,
    CostCentre,
    RuleShare,
    SharedRule,
)
from dashboard.chargeback.split import from_minor, round_minor
from dashboard.models import CostBucket, CostRollup
from dashboard.periods import add_months
from dashboard.selectors import names_for, reporting_timezone
from orgadmin.models import Organization, OrgUser, Project, ProjectApiKey

ZERO = Decimal(0)
KNOWN_DAYS = 90  # how far back the assignment form looks for ids with costs


# --- setup ---------------------------------------------------------------------------------


def centre_list(*, org: Organization) -> list[CostCentre]:
    """The organization's cost centres by name (one query)."""
    return list(CostCentre.objects.filter(org=org))


def centre_get(*, org: Organization, centre_id: int) -> CostCentre | None:
    return CostCentre.objects.filter(org=org, pk=centre_id).first()


def assignment_list(*, org: Organization) -> list[Assignment]:
    """Every assignment with its centre and, as `label`, what the directory calls its project,
    key or person (two queries)."""
    found = list(Assignment.objects.filter(org=org).select_related("centre"))
    names = names_for(org=org, ids={a.value for a in found})
    for assignment in found:
        assignment.label = names.get(assignment.value, "")
    return found


def assignment_get(*, org: Organization, assignment_id: int) -> Assignment | None:
    return Assignment.objects.filter(org=org, pk=assignment_id).first()


def rule_list(*, org: Organization) -> list[SharedRule]:
    """Every shared-cost rule with its centres' shares (two queries)."""
    shares = Prefetch("shares", queryset=RuleShare.objects.select_related("centre"))
    found = list(SharedRule.objects.filter(org=org).prefetch_related(shares))
    names = names_for(org=org, ids={r.project_id for r in found})
    for rule in found:
        rule.project_label = names.get(rule.project_id, rule.project_id)
    return found


def known_ids(*, org: Organization) -> list[tuple[str, str]]:
    """(id, label) of the projects, keys and people an Admin may assign: the directory's, and
    whatever had costs in the last KNOWN_DAYS days (five queries)."""
    since = timezone.now().date() - dt.timedelta(days=KNOWN_DAYS)
    ids = set(
        CostRollup.objects.filter(
            org=org, dimension__in=("project_id", "api_key_id"), day__gte=since
        )
        .exclude(value="")
        .values_list("value", flat=True)
        .distinct()
    )
    for model in (Project, ProjectApiKey, OrgUser):
        ids.update(model.objects.filter(org=org).values_list("openai_id", flat=True)[:2000])
    names = names_for(org=org, ids=ids)
    return sorted(((i, names.get(i, "")) for i in ids), key=lambda p: (p[1].casefold(), p[0]))


def rule_get(*, org: Organization, rule_id: int) -> SharedRule | None:
    return SharedRule.objects.filter(org=org, pk=rule_id).first()


def setup_of(*, org: Organization) -> rp.Setup:
    """Centres, assignments and rules as the report reads them (three queries)."""
    centres = {c.pk: rp.Centre(c.pk, c.name, c.code, c.owner) for c in centre_list(org=org)}
    tables: dict[str, dict[str, int]] = {k: {} for k in Assignment.Kind.values}
    for kind, value, centre_id in Assignment.objects.filter(org=org).values_list(
        "kind", "value", "centre_id"
    ):
        tables[kind][value] = centre_id
    shares: dict[int, list[tuple[int, Decimal | None]]] = defaultdict(list)
    rules = list(SharedRule.objects.filter(org=org))
    for rule_id, centre_id, percent in RuleShare.objects.filter(rule__org=org).values_list(
        "rule_id", "centre_id", "percent"
    ):
        shares[rule_id].append((centre_id, percent))
    made = [(r, rp.Rule(r.pk, r.name, r.method, tuple(shares[r.pk]), r.project_id)) for r in rules]
    return rp.Setup(
        centres=centres,
        by_key=tables[Assignment.Kind.API_KEY],
        by_user=tables[Assignment.Kind.USER],
        by_project=tables[Assignment.Kind.PROJECT],
        project_rules={r.project_id: rule for r, rule in made if r.target == "project"},
        remainder_rule=next((rule for r, rule in made if r.target == "remainder"), None),
    )


@dataclass(frozen=True)
class CentreMap:
    """The cost centre of a project, key and person, by the report's precedence."""

    setup: rp.Setup

    def of(self, project_id: str, api_key_id: str, user_id: str = "") -> str | None:
        """The centre's name: the key's, else the person's, else the project's; None when
        none is assigned (or the project's cost is shared by a rule)."""
        centre_id = self.setup.centre_of(project_id or "", api_key_id or "", user_id or "")
        return self.setup.centres[centre_id].name if centre_id is not None else None


def centre_map(*, org: Organization) -> CentreMap:
    """The organization's centres by project, key and person (three queries)."""
    return CentreMap(setup_of(org=org))


# --- months --------------------------------------------------------------------------------


def today_in(*, org: Organization) -> dt.date:
    """Today in the organization's reporting timezone (one query)."""
    return timezone.now().astimezone(ZoneInfo(reporting_timezone(org=org))).date()


def month_costs(*, org: Organization, month: dt.date) -> list[rp.CostLine]:
    """The month's cost, attributed per person where usage says who, the rest as the
    unattributed remainder: together the bill to the cent (dashboard.attribution)."""
    start, end = month, add_months(month, 1)
    attribution = attribution_of(org=org, start=start, end=end)  # one reading for both lists
    lines = [
        rp.CostLine(
            c.project_id or "",
            c.api_key_id or "",
            c.user_id or "",
            c.basis,
            c.amount,
            c.currency,
        )
        for c in attribution.attributed
    ]
    lines += [
        rp.CostLine(
            r.project_id or "", r.api_key_id or "", "", "remainder", r.amount, r.currency, r.reason
        )
        for r in attribution.remainders
    ]
    return lines


def billed(
    *, org: Organization, months: list[dt.date]
) -> dict[tuple[dt.date, str, str, str], Decimal]:
    """Billed cost per (month, project, key, currency) of `months`, exact (one query)."""
    if not months:
        return {}
    which = Q()
    for month in months:
        which |= Q(day__gte=month, day__lt=add_months(month, 1))
    rows = (
        CostBucket.objects.filter(which, org=org)
        .annotate(month=TruncMonth("day"))
        .values_list("month", "project_id", "api_key_id", "currency")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    return {(_date(m), p, k, c): a for m, p, k, c, a in rows if a is not None}


def _date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def closed_months(*, org: Organization) -> dict[dt.date, ClosedMonth]:
    return {c.month: c for c in ClosedMonth.objects.filter(org=org)}


def months_behind(month: dt.date, closed: dict[dt.date, ClosedMonth]) -> list[dt.date]:
    """The closed months whose revisions show in open `month`: the run of closed months just
    before it (a revision shows in the first open month after its own)."""
    found, at = [], add_months(month, -1)
    while at in closed:
        found.append(at)
        at = add_months(at, -1)
    return found


def revisions(
    *, org: Organization, month: dt.date, closed: dict[dt.date, ClosedMonth]
) -> tuple[list[rp.Revision], dict[tuple[dt.date, str], int]]:
    """How the closed months behind open `month` changed since they were closed (and since
    the closed months after them booked their earlier changes): per project and key, exact,
    and per month and currency to the cent (three queries)."""
    behind = months_behind(month, closed)
    if not behind:
        return [], {}
    now = billed(org=org, months=behind)
    base: dict[tuple[dt.date, str, str, str], Decimal] = defaultdict(Decimal)
    for of_month, p, k, c, amount in ClosedBase.objects.filter(
        closed__org=org, of_month__in=behind
    ).values_list("of_month", "project_id", "api_key_id", "currency", "amount"):
        base[(of_month, p, k, c)] += amount
    shown: dict[tuple[dt.date, str], int] = defaultdict(int)
    for closed_month, kind, of_month, currency, amount in ClosedLine.objects.filter(
        Q(closed__month__in=behind, kind__in=(rp.DIRECT, rp.SHARED, rp.UNALLOCATED))
        | Q(kind=rp.ADJUSTMENT, of_month__in=behind),
        closed__org=org,
    ).values_list("closed__month", "kind", "of_month", "currency", "amount"):
        which = of_month if kind == rp.ADJUSTMENT else closed_month
        shown[(which, currency)] += round_minor(amount, currency)
    return _differences(now, base, shown)


def _differences(
    now: dict[tuple[dt.date, str, str, str], Decimal],
    base: dict[tuple[dt.date, str, str, str], Decimal],
    shown: dict[tuple[dt.date, str], int],
) -> tuple[list[rp.Revision], dict[tuple[dt.date, str], int]]:
    found = []
    totals: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    for key in sorted(set(now) | set(base)):
        month, project_id, api_key_id, currency = key
        totals[(month, currency)] += now.get(key, ZERO)
        delta = now.get(key, ZERO) - base.get(key, ZERO)
        if delta:
            found.append(rp.Revision(month, project_id, api_key_id, delta, currency))
    changes = {
        (month, currency): round_minor(total, currency) - shown.get((month, currency), 0)
        for (month, currency), total in totals.items()
    }
    return found, {k: v for k, v in changes.items() if v}


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    month: dt.date
    closed: ClosedMonth | None
    lines: list[rp.Line]
    totals: list[rp.CentreTotal]
    names: dict[str, str]
    today: dt.date
    later_closed: bool  # a later month is closed too (this one can't be reopened)
    revised_since: dict[str, Decimal]  # a closed month's change since, to the cent

    @property
    def is_over(self) -> bool:
        return add_months(self.month, 1) <= self.today

    @property
    def grand_totals(self) -> list[tuple[str, Decimal, Decimal, Decimal, Decimal]]:
        """(currency, direct, shared, adjustments, total) over every centre and unallocated."""
        sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
        for row in self.totals:
            s = sums[row.currency]
            s[0], s[1], s[2] = s[0] + row.direct, s[1] + row.shared, s[2] + row.adjustments
        return [(c, d, s, a, d + s + a) for c, (d, s, a) in sorted(sums.items())]

    def pools(self) -> list[tuple[str, str, Decimal, list[tuple[str, Decimal]]]]:
        """(rule, currency, amount, [(centre, share)]) of each rule's split this month."""
        found: dict[tuple[str, str], list[tuple[str, Decimal]]] = defaultdict(list)
        for line in self.lines:
            if line.kind == rp.SHARED:
                found[(line.rule, line.currency)].append((line.centre, line.amount))
        out = []
        for (rule, currency), parts in sorted(found.items()):
            merged: dict[str, Decimal] = defaultdict(Decimal)
            for centre, amount in parts:
                merged[centre] += amount
            out.append((rule, currency, sum(merged.values(), ZERO), sorted(merged.items())))
        return out


def chargeback_report(*, org: Organization, month: dt.date) -> Report:
    """The month's report: its snapshot when closed, else built now (see the module)."""
    closed = closed_months(org=org)
    today = today_in(org=org)
    later = any(m > month for m in closed)
    if month in closed:
        lines = [line_of(row) for row in ClosedLine.objects.filter(closed=closed[month])]
        since = _revised_since(org=org, month=month, closed=closed)
        totals = rp.centre_totals(lines)
        return Report(month, closed[month], lines, totals, _names(org, lines), today, later, since)
    lines = live_lines(org=org, month=month, closed=closed)
    centres = setup_centres(org=org)
    totals = rp.centre_totals(lines, centres)
    return Report(month, None, lines, totals, _names(org, lines), today, later, {})


def setup_centres(*, org: Organization) -> list[rp.Centre]:
    return [rp.Centre(c.pk, c.name, c.code, c.owner) for c in centre_list(org=org)]


def live_lines(
    *, org: Organization, month: dt.date, closed: dict[dt.date, ClosedMonth]
) -> list[rp.Line]:
    """An open month's lines as of now."""
    setup = setup_of(org=org)
    costs = month_costs(org=org, month=month)
    found, totals = revisions(org=org, month=month, closed=closed)
    ids = {i for c in costs for i in (c.project_id, c.api_key_id, c.user_id)}
    ids |= {i for r in found for i in (r.project_id, r.api_key_id)}
    return rp.build_lines(
        costs=costs,
        revisions=found,
        revision_totals=totals,
        setup=setup,
        names=names_for(org=org, ids=ids),
    )


def _revised_since(
    *, org: Organization, month: dt.date, closed: dict[dt.date, ClosedMonth]
) -> dict[str, Decimal]:
    """How much a closed month's bill changed since its report was closed (to the cent)."""
    later = add_months(month, 1)
    while later in closed:
        later = add_months(later, 1)
    _found, totals = revisions(org=org, month=later, closed=closed)
    return {c: from_minor(v, c) for (m, c), v in totals.items() if m == month}


def line_of(row: ClosedLine) -> rp.Line:
    return rp.Line(
        centre=row.centre,
        centre_code=row.centre_code,
        kind=row.kind,
        description=row.description,
        project_id=row.project_id,
        api_key_id=row.api_key_id,
        user_id=row.user_id,
        basis=row.basis,
        rule=row.rule,
        of_month=row.of_month,
        amount=row.amount,
        currency=row.currency,
    )


def _names(org: Organization, lines: list[rp.Line]) -> dict[str, str]:
    ids = {i for line in lines for i in (line.project_id, line.api_key_id, line.user_id)}
    return names_for(org=org, ids=ids)
