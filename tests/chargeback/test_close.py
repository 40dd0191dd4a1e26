"""Closing a month: its report stays as it was when a later sync revises its buckets, and the
revision shows in the next open month as adjustment lines with their reason, to the cent. Then
the bookkeeping around it: a revision is shown once, reopening is for the latest closed month,
with a reason, and both are in the action log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from dashboard.chargeback import services
from dashboard.chargeback.report import ADJUSTMENT
from dashboard.chargeback.selectors import chargeback_report
from dashboard.chargeback.split import round_minor
from dashboard.models import CostBucket
from dashboard.sync.usage import usage_sync
from orgadmin.client import install_transport
from orgadmin.models import ActionLog
from orgadmin.services.changes import ChangeRefused
from orgadmin.simulator import create_app
from orgadmin.simulator.quirks import Quirks
from tests.chargeback.conftest import assign, centre, cost
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL, Clock
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
OCT, NOV, DEC = dt.date(2025, 10, 1), dt.date(2025, 11, 1), dt.date(2025, 12, 1)
# 02:30 UTC on November 1st: October 31st's bucket closed at midnight and the API still revises
# it upward for REVISION_HOURS (part of its usage is reported late).
CLOSING = dt.datetime(2025, 11, 1, 2, 30, tzinfo=dt.UTC)
REVISION_HOURS = 6


def _billed(org, month: dt.date, end: dt.date) -> Decimal:
    rows = CostBucket.objects.filter(org=org, day__gte=month, day__lt=end)
    return sum((r.amount for r in rows), Decimal(0))


def _cents(amount: Decimal) -> Decimal:
    return Decimal(round_minor(amount, "usd")).scaleb(-2)


def _total(report) -> Decimal:
    return sum((line.amount for line in report.lines), Decimal(0))


@pytest.fixture
def revising(monkeypatch):
    """The demo simulator and the dashboard on one clock, with late reports revising buckets."""
    clock = Clock(CLOSING.timestamp())
    monkeypatch.setattr(timezone, "now", clock.datetime)
    app = create_app(
        scenario="demo",
        seed=0,
        admin_keys=[SIM_ADMIN_KEY],
        now=clock,
        quirks=Quirks(revision_hours=REVISION_HOURS),
    )
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        yield clock


def test_a_closed_month_stays_as_it_was_and_its_revision_shows_as_an_adjustment(revising, admin):
    org = OrganizationFactory(name="Acme (simulator)", base_url=SIM_BASE_URL,
                              admin_key=SIM_ADMIN_KEY)  # fmt: skip
    start = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
    usage_sync(org=org, start=start, families=["completions"])
    projects = sorted(set(CostBucket.objects.filter(org=org).values_list("project_id", flat=True)))
    platform, product = centre(org, "Platform"), centre(org, "Product")
    for i, project_id in enumerate(projects):
        assign(org, "project", project_id, platform if i % 2 else product)
    before = chargeback_report(org=org, month=OCT)
    billed_then = _billed(org, OCT, NOV)
    assert _total(before) == _cents(billed_then)  # the report is the bill, to the cent

    services.month_close(org=org, actor=admin, month=OCT)
    revising.advance(hours=REVISION_HOURS + 2)
    usage_sync(org=org, families=["completions"])  # fetches the last two days again

    billed_now = _billed(org, OCT, NOV)
    assert billed_now > billed_then  # the API did revise October 31st after the close
    after = chargeback_report(org=org, month=OCT)
    assert after.closed is not None
    assert after.lines == before.lines  # the closed month didn't change
    assert after.revised_since == {"usd": _cents(billed_now) - _cents(billed_then)}

    november = chargeback_report(org=org, month=NOV)
    adjustments = [x for x in november.lines if x.kind == ADJUSTMENT]
    assert adjustments
    assert sum(x.amount for x in adjustments) == _cents(billed_now) - _cents(billed_then)
    assert all(x.of_month == OCT and x.centre in ("Platform", "Product") for x in adjustments)
    first = adjustments[0]
    assert first.description.startswith("Costs for Oct 2025 revised by the API after close: +$")
    assert "on project “" in first.description
    rows = {t.centre: t for t in november.totals}
    assert sum(t.adjustments for t in rows.values()) == _cents(billed_now) - _cents(billed_then)
    # November's own cost is its bill to the cent; the adjustments come on top.
    assert _total(november) == _cents(_billed(org, NOV, DEC)) + sum(x.amount for x in adjustments)


def test_a_revision_is_shown_once_and_a_later_one_in_the_next_open_month(acme, admin):
    web = centre(acme, "Web")
    assign(acme, "project", "proj_web", web)
    bucket = cost(acme, dt.date(2025, 10, 31), "10.004")
    cost(acme, dt.date(2025, 11, 3), "1.00")
    services.month_close(org=acme, actor=admin, month=OCT)
    bucket.amount += Decimal("1.2345")  # revised after October was closed: $10.00 → $11.24
    bucket.save()
    assert sum(x.amount for x in chargeback_report(org=acme, month=NOV).lines) == Decimal("2.24")

    services.month_close(org=acme, actor=admin, month=NOV)  # books October's +$1.24
    bucket.amount += Decimal("0.5")  # revised again, after November was closed too
    bucket.save()

    november = chargeback_report(org=acme, month=NOV)
    assert [x.amount for x in november.lines if x.kind == ADJUSTMENT] == [Decimal("1.24")]
    december = chargeback_report(org=acme, month=DEC)
    assert [(x.amount, x.of_month) for x in december.lines] == [(Decimal("0.50"), OCT)]
    # Every cent of October is somewhere: its report, then November's and December's adjustments.
    assert Decimal("10.00") + Decimal("1.24") + Decimal("0.50") == _cents(bucket.amount)


def test_only_the_latest_closed_month_reopens_with_a_reason_in_the_action_log(acme, admin):
    cost(acme, dt.date(2025, 10, 5), "4.00")
    cost(acme, dt.date(2025, 11, 5), "6.00")
    services.month_close(org=acme, actor=admin, month=OCT)
    services.month_close(org=acme, actor=admin, month=NOV)

    with pytest.raises(ChangeRefused, match="November 2025 is closed too"):
        services.month_reopen(org=acme, actor=admin, month=OCT, reason="credit")
    with pytest.raises(ChangeRefused, match="Say why"):
        services.month_reopen(org=acme, actor=admin, month=NOV, reason="  ")
    services.month_reopen(org=acme, actor=admin, month=NOV, reason="invoice credited")

    assert chargeback_report(org=acme, month=NOV).closed is None
    log = ActionLog.objects.filter(org=acme, action="chargeback.month_reopen").get()
    assert "Reopened November 2025" in log.summary
    assert "$6.00" in log.summary
    assert log.summary.endswith("invoice credited")
    assert log.actor == admin
    assert ActionLog.objects.filter(org=acme, action="chargeback.month_close").count() == 2


def test_a_month_that_is_not_over_or_closed_already_is_refused(acme, admin):
    today = timezone.now().date()
    with pytest.raises(ChangeRefused, match="isn't over yet"):
        services.month_close(org=acme, actor=admin, month=today.replace(day=1))
    services.month_close(org=acme, actor=admin, month=OCT)
    with pytest.raises(ChangeRefused, match="closed already"):
        services.month_close(org=acme, actor=admin, month=OCT)
