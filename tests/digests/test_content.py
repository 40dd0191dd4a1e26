"""What a digest says, read from the data: spend against the period before, the Overview's
forecast, budgets, top movers, open anomalies; the Auditor's security summary. Every number is
worked out here from the rows the test stored, and written as the pages write it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.urls import reverse

from dashboard import tables
from dashboard.alerts.models import Alert
from dashboard.budgets.models import Budget
from dashboard.budgets.selectors import budget_statuses
from dashboard.digests.content import digest_build, previous_period
from dashboard.digests.models import Kind
from dashboard.digests.schedule import MONTHLY, WEEKLY, latest_due
from dashboard.templatetags.usage_format import change as change_text
from orgadmin.models import Project
from orgadmin.selectors.security import SECTIONS, security_summary
from orgadmin.sync.audit import audit_events_store
from orgadmin.templatetags.directory import money
from tests.audit_events import generate
from tests.digests.conftest import BERLIN, reporting_tz, spend

NOW = dt.datetime(2025, 3, 31, 6, 5, tzinfo=dt.UTC)  # Monday 08:05 in Berlin
TZ = ZoneInfo(BERLIN)


def _days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


@pytest.fixture
def shop(acme, settings):
    """Acme in Berlin time: a web shop project, a batch key that surged last week, a model that
    got cheaper; the Overview's history before it."""
    settings.SITE_URL = "https://dash.example.com"
    reporting_tz(acme, BERLIN)
    Project.objects.create(org=acme, openai_id="proj_web", name="Web shop")
    week = latest_due(WEEKLY, now=NOW, tz=TZ)
    before, _ = previous_period(Kind.FINANCE_WEEKLY, week)
    for day in _days(before - dt.timedelta(days=40), week.last_day):
        spend(acme, day, "10.00", api_key_id="key_web")
    for day in _days(week.start, week.last_day):
        spend(acme, day, "7.25", api_key_id="key_batch", model="o3")
    spend(acme, before, "3.10", api_key_id="key_batch", model="o3")
    return acme


def _week_totals(org, period, before):
    """What the test stored for the week and the week before (not what the code computed)."""
    from dashboard.models import CostBucket

    rows = CostBucket.objects.filter(org=org)
    now = sum((r.amount for r in rows if period.start <= r.day < period.end), Decimal(0))
    then = sum((r.amount for r in rows if before <= r.day < period.start), Decimal(0))
    return now, then


def test_it_tells_finance_last_weeks_spend_against_the_week_before(shop, fiona):
    week = latest_due(WEEKLY, now=NOW, tz=TZ)
    before, _ = previous_period(Kind.FINANCE_WEEKLY, week)
    now, then = _week_totals(shop, week, before)

    digest = digest_build(user=fiona, org=shop, kind=Kind.FINANCE_WEEKLY, period=week, now=NOW)

    assert digest.subject == "Weekly spend: Acme, Mar 24 – Mar 30, 2025"
    change = tables.change(now, then)
    assert f"{money(now)} in Mar 24 – Mar 30, 2025, {change_text(change)} against " in digest.body
    assert f"against {money(then)} the week before" in digest.body
    assert (
        "Costs: https://dash.example.com/costs/?start=2025-03-24&end=2025-03-31"
        "&tz=Europe%2FBerlin" in digest.body
    )
    assert "https://dash.example.com/digests/" in digest.body


def test_it_names_the_keys_projects_and_models_that_rose_most(shop, fiona):
    week = latest_due(WEEKLY, now=NOW, tz=TZ)
    digest = digest_build(user=fiona, org=shop, kind=Kind.FINANCE_WEEKLY, period=week, now=NOW)
    movers = digest.body.split("TOP MOVERS")[1].split("OPEN ANOMALIES")[0]

    batch_now = Decimal("7.25") * (week.end - week.start).days
    rise = batch_now - Decimal("3.10")
    assert f"- API key key_batch: {money(batch_now)}, up {money(rise)} from $3.10" in movers
    assert f"- Model o3: {money(batch_now)}, up {money(rise)}" in movers
    # The web shop spent the same each day: it didn't rise, so it isn't a mover.
    assert "key_web" not in movers
    # By display name where the directory knows one: the project rose by the batch key's cost.
    assert "- Project Web shop:" in movers
    assert "proj_web" not in movers


def test_it_gives_the_overviews_month_end_forecast(shop, fiona):
    week = latest_due(WEEKLY, now=NOW, tz=TZ)
    today = NOW.astimezone(TZ).date()
    month = tables.month_spend(org=shop, today=today)

    digest = digest_build(user=fiona, org=shop, kind=Kind.FINANCE_WEEKLY, period=week, now=NOW)

    assert f"FORECAST, {today:%B %Y}" in digest.body
    assert f"Month-end forecast: {money(month.forecast.expected)}" in digest.body
    assert month.forecast.note in digest.body


def test_it_lists_budgets_with_their_status(shop, fiona):
    Budget.objects.create(org=shop, name="Shop monthly", amount=Decimal("500.00"))
    today = NOW.astimezone(TZ).date()
    (status,) = budget_statuses(org=shop, today=today)
    week = latest_due(WEEKLY, now=NOW, tz=TZ)

    digest = digest_build(user=fiona, org=shop, kind=Kind.FINANCE_WEEKLY, period=week, now=NOW)

    line = (
        f"- Shop monthly ({status.scope_label}): {money(status.spent)} of $500.00 "
        f"({status.percent}%), {status.status}"
    )
    assert line in digest.body
    assert f"https://dash.example.com{status.costs_url}" in digest.body
    assert "All budgets: https://dash.example.com/budgets/" in digest.body


def test_it_lists_open_anomalies_only(shop, fiona):
    Alert.objects.create(org=shop, kind="anomaly", key="a:1", title="Key batch spent 4× usual")
    Alert.objects.create(
        org=shop, kind="anomaly", key="a:2", title="Old spike", state=Alert.State.RESOLVED
    )
    Alert.objects.create(org=shop, kind="budget", key="b:1", title="Budget at 80 %")
    week = latest_due(WEEKLY, now=NOW, tz=TZ)

    digest = digest_build(user=fiona, org=shop, kind=Kind.FINANCE_WEEKLY, period=week, now=NOW)
    anomalies = digest.body.split("OPEN ANOMALIES")[1]

    assert "- Key batch spent 4× usual (open, still going on" in anomalies
    assert "Old spike" not in anomalies
    assert "Budget at 80 %" not in anomalies


def test_the_monthly_digest_compares_calendar_months(shop, fiona):
    month = latest_due(MONTHLY, now=dt.datetime(2025, 4, 1, 6, 5, tzinfo=dt.UTC), tz=TZ)
    before, _ = previous_period(Kind.FINANCE_MONTHLY, month)
    now, then = _week_totals(shop, month, before)

    digest = digest_build(user=fiona, org=shop, kind=Kind.FINANCE_MONTHLY, period=month, now=NOW)

    assert (month.start, before) == (dt.date(2025, 3, 1), dt.date(2025, 2, 1))
    assert digest.subject == "Monthly spend: Acme, March 2025"
    assert f"{money(now)} in March 2025" in digest.body
    assert f"against {money(then)} the month before" in digest.body


def test_the_auditor_digest_is_the_overviews_security_summary(acme, aude, settings):
    settings.SITE_URL = "https://dash.example.com"
    reporting_tz(acme, BERLIN)
    end = int(NOW.timestamp())
    with transaction.atomic():
        audit_events_store(org=acme, raws=generate(400, start=end - 40 * 86400, end=end, seed=5))
    summary = security_summary(org=acme, now=NOW)
    week = latest_due(WEEKLY, now=NOW, tz=TZ)

    digest = digest_build(user=aude, org=acme, kind=Kind.AUDITOR_WEEKLY, period=week, now=NOW)

    assert digest.subject == "Weekly security digest: Acme, Mar 24 – Mar 30, 2025"
    for counts in summary.sections:
        label = next(s.label for s in SECTIONS if s.key == counts.section.key)
        assert f"- {label}: {counts.last_7} in 7 days, {counts.last_30} in 30 days" in digest.body
    assert f"{summary.admin_7} in 7 days, {summary.admin_30} in 30 days." in digest.body
    log = f"https://dash.example.com{reverse('orgadmin:audit_log')}"
    assert f"Audit log: {log}\n" in digest.body
    assert f"{log}?start=" in digest.body  # each count opens the log filtered to what it counts
    links = [w for w in digest.body.split() if w.startswith("https://")]
    assert links
    assert all(w.startswith("https://dash.example.com/") for w in links)


def test_it_links_only_to_pages_the_person_may_open(shop, fiona, aude):
    week = latest_due(WEEKLY, now=NOW, tz=TZ)
    auditor = digest_build(user=aude, org=shop, kind=Kind.AUDITOR_WEEKLY, period=week, now=NOW)
    finance = digest_build(user=fiona, org=shop, kind=Kind.FINANCE_WEEKLY, period=week, now=NOW)

    assert "/costs/" not in auditor.body
    assert "Audit log: https://dash.example.com/" in auditor.body
    assert "/audit" not in finance.body
