"""The monthly report: precedence (key, then person, then project), shared projects and the
unattributed remainder split by their rules to the cent, what no one is charged for in sight as
"Unallocated", and the whole adding up to the month's bill to the cent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from dashboard.chargeback import report as rp
from dashboard.chargeback.selectors import centre_map, chargeback_report
from dashboard.chargeback.split import round_minor
from dashboard.models import CostBucket
from tests.chargeback.conftest import assign, centre, cost, rule

pytestmark = pytest.mark.django_db
OCT = dt.date(2025, 10, 1)


def _days(n: int = 31):
    return [OCT + dt.timedelta(days=i) for i in range(n)]


def _bill(org, month=OCT) -> Decimal:
    rows = CostBucket.objects.filter(org=org, day__gte=month, day__lt=dt.date(2025, 11, 1))
    return round_minor(sum((r.amount for r in rows), Decimal(0)), "usd") / Decimal(100)


def _centre_total(report, name: str) -> Decimal:
    return sum((t.total for t in report.totals if t.centre == name), Decimal(0))


def test_it_charges_a_key_before_a_person_before_a_project():
    """Person-level cost comes from attribution: the report's own fixtures stand in for it."""
    centres = {1: rp.Centre(1, "Keys"), 2: rp.Centre(2, "People"), 3: rp.Centre(3, "Projects")}
    setup = rp.Setup(
        centres=centres,
        by_key={"key_ci": 1},
        by_user={"user-ann": 2},
        by_project={"proj_web": 3},
    )
    costs = [
        rp.CostLine("proj_web", "key_ci", "user-ann", "attributed", Decimal("1.00"), "usd"),
        rp.CostLine("proj_web", "key_app", "user-ann", "attributed", Decimal("2.00"), "usd"),
        rp.CostLine("proj_web", "key_app", "user-bob", "attributed", Decimal("4.00"), "usd"),
        rp.CostLine("proj_web", "key_app", "", "remainder", Decimal("8.00"), "usd", "web search"),
        rp.CostLine("proj_other", "key_x", "", "billed", Decimal("16.00"), "usd"),
    ]

    lines = rp.build_lines(
        costs=costs, revisions=[], revision_totals={}, setup=setup, names={"user-ann": "ann@x"}
    )

    by_centre = {name: sum(x.amount for x in lines if x.centre == name) for name in
                 ("Keys", "People", "Projects", "")}  # fmt: skip
    assert by_centre == {"Keys": 1, "People": 2, "Projects": 12, "": 16}
    (people,) = [x for x in lines if x.centre == "People"]
    assert "person ann@x" in people.description
    (other,) = [x for x in lines if x.centre == ""]
    assert other.kind == rp.UNALLOCATED
    assert setup.centre_of("proj_web", "key_ci", "user-ann") == 1
    assert setup.centre_of("proj_web", "key_app", "user-ann") == 2
    assert setup.centre_of("proj_web", "key_app", "user-bob") == 3


def test_the_centre_map_names_the_centre_by_the_same_precedence(acme):
    keys, people, projects = centre(acme, "Keys"), centre(acme, "People"), centre(acme, "Web")
    assign(acme, "api_key", "key_ci", keys)
    assign(acme, "user", "user-ann", people)
    assign(acme, "project", "proj_web", projects)
    rule(acme, "Default", project_id="proj_default", shares=[(keys, "50"), (projects, "50")])

    found = centre_map(org=acme)

    assert found.of("proj_web", "key_ci", "user-ann") == "Keys"
    assert found.of("proj_web", "key_app", "user-ann") == "People"
    assert found.of("proj_web", "key_app") == "Web"
    assert found.of("proj_default", "key_app") is None  # shared: no single centre
    assert found.of("proj_unknown", "") is None


def test_a_shared_project_is_split_by_fixed_percentages_to_the_cent(acme):
    for day in _days():
        cost(acme, day, "3.333333333337", project_id="proj_default", api_key_id="key_d")
    a, b, c = centre(acme, "A"), centre(acme, "B"), centre(acme, "C")
    rule(acme, "Default thirds", project_id="proj_default",
         shares=[(a, "33.33"), (b, "33.33"), (c, "33.34")])  # fmt: skip

    report = chargeback_report(org=acme, month=OCT)

    bill = _bill(acme)
    shares = [_centre_total(report, n) for n in ("A", "B", "C")]
    assert sum(shares) == bill  # every cent of the shared project, none made up
    for share, percent in zip(shares, ("33.33", "33.33", "33.34"), strict=True):
        assert abs(Fraction(share) - Fraction(bill) * Fraction(percent) / 100) < Fraction(1, 100)
    assert report.pools() == [("Default thirds", "usd", bill, [("A", shares[0]), ("B", shares[1]),
                                                                ("C", shares[2])])]  # fmt: skip


def test_usage_rules_split_in_proportion_to_each_centres_direct_cost(acme):
    for day in _days(10):
        cost(acme, day, "1.00", project_id="proj_search", api_key_id="key_s")
        cost(acme, day, "3.00", project_id="proj_data", api_key_id="key_d")
        cost(acme, day, "0.999", project_id="proj_default", api_key_id="key_x")
    search, data = centre(acme, "Search"), centre(acme, "Data")
    assign(acme, "project", "proj_search", search)
    assign(acme, "project", "proj_data", data)
    rule(acme, "Default by use", project_id="proj_default", method="usage", shares=[])

    report = chargeback_report(org=acme, month=OCT)

    rows = {t.centre: t for t in report.totals}
    pool = sum((t.shared for t in report.totals), Decimal(0))
    assert pool == Decimal("9.99")
    assert rows["Data"].shared + rows["Search"].shared == pool
    # Data used three times what Search did: three quarters of the pool, to the cent.
    assert abs(Fraction(rows["Data"].shared) - Fraction(pool) * 3 / 4) < Fraction(1, 100)
    assert sum((t.total for t in report.totals), Decimal(0)) == _bill(acme)


def test_the_remainder_rule_shares_what_no_one_is_charged_for(acme):
    # Billed cost with no usage synced behind it is unattributed remainder (no person).
    for day in _days(5):
        cost(acme, day, "2.005", project_id="proj_lab", api_key_id="key_lab")
        cost(acme, day, "1.50", project_id="proj_web", api_key_id="key_web")
    web, ops = centre(acme, "Web"), centre(acme, "Ops")
    assign(acme, "project", "proj_web", web)
    unallocated = chargeback_report(org=acme, month=OCT)
    assert [t.name for t in unallocated.totals if t.total] == ["Web", "Unallocated"]

    rule(acme, "Remainder", shares=[(web, "25"), (ops, "75")])
    report = chargeback_report(org=acme, month=OCT)

    assert all(t.centre for t in report.totals)  # nothing unallocated any more
    assert sum((t.shared for t in report.totals), Decimal(0)) == Decimal("10.03")
    assert sum((t.total for t in report.totals), Decimal(0)) == _bill(acme)
    ops_lines = [x for x in report.lines if x.centre == "Ops"]
    assert ops_lines
    assert all("by rule “Remainder”" in x.description for x in ops_lines)


def test_every_centre_shows_even_with_nothing_this_month(acme):
    cost(acme, OCT, "5.00")
    centre(acme, "Idle")

    report = chargeback_report(org=acme, month=OCT)

    assert [(t.name, t.total) for t in report.totals] == [
        ("Idle", Decimal(0)),
        ("Unallocated", Decimal("5.00")),
    ]


def _queries(org, month) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        chargeback_report(org=org, month=month)
    return len(captured.captured_queries)


def test_the_report_reads_a_fixed_number_of_queries_whatever_its_size(
    acme, admin, django_assert_max_num_queries
):
    from dashboard.chargeback import services

    cost(acme, OCT, "1.00")
    small = _queries(acme, OCT)
    for i in range(12):
        team = centre(acme, f"Team {i}")
        assign(acme, "project", f"proj_{i}", team)
        for day in _days(10):
            cost(acme, day, "2.50", project_id=f"proj_{i}", api_key_id=f"key_{i}")
    assert _queries(acme, OCT) == small
    services.month_close(org=acme, actor=admin, month=OCT)
    # A closed month: the closed months, today, its lines, the revisions since (3), the names.
    with django_assert_max_num_queries(7):
        chargeback_report(org=acme, month=OCT)
