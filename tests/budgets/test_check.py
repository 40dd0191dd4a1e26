"""budgets_check: a threshold crossed alerts once per period, however many checks follow; the
highest one when several are crossed at once; the forecast once; a change of terms starts over.
And the services that add, change and remove budgets, in the action log."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from dashboard.alerts.models import Alert
from dashboard.alerts.services import channel_create
from dashboard.budgets import services
from dashboard.budgets.models import Budget
from orgadmin.models import ActionLog
from orgadmin.services.changes import ChangeRefused
from tests.budgets.conftest import budget, spend, spend_daily

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
TODAY = dt.date(2025, 6, 15)


@pytest.fixture
def hook(acme, receiver, alert_settings):
    channel_create(org=acme, name="Hook", url=receiver.url)
    return receiver


def _check(org, today=TODAY, capture=None):
    with capture(execute=True):
        return services.budgets_check(org=org, today=today)


def _subjects(receiver):
    return [json.loads(r.body)["subject"] for r in receiver.received]


def test_a_threshold_alerts_once_however_many_checks_follow(
    acme, hook, django_capture_on_commit_callbacks
):
    b = budget(acme, amount=Decimal("1000.00"), forecast_alert=False)
    spend(acme, TODAY.replace(day=1), "600.00")

    first = _check(acme, capture=django_capture_on_commit_callbacks)
    again = _check(acme, capture=django_capture_on_commit_callbacks)
    spend(acme, TODAY.replace(day=2), "10.00")  # more spend, still between 50 and 80 %
    third = _check(acme, capture=django_capture_on_commit_callbacks)

    assert [a.key for a in first] == [f"{b.pk}:2025-06-01:r0:actual:50"]
    assert again == third == []
    assert _subjects(hook) == ["Budget “Prod” passed 50 %: $600.00 of $1,000.00"]


def test_several_thresholds_crossed_at_once_send_one_message_for_the_highest(
    acme, hook, django_capture_on_commit_callbacks
):
    budget(acme, amount=Decimal("1000.00"), forecast_alert=False)
    spend(acme, TODAY.replace(day=1), "850.00")

    (alert,) = _check(acme, capture=django_capture_on_commit_callbacks)

    assert alert.title == "Budget “Prod” passed 80 %: $850.00 of $1,000.00"
    assert "Also past 50 %" in alert.summary
    # Spend falling back (a refund) does not make the lower threshold news later.
    spend(acme, TODAY.replace(day=2), "-200.00", kind="refund")
    assert _check(acme, capture=django_capture_on_commit_callbacks) == []
    spend(acme, TODAY.replace(day=3), "400.00")
    (over,) = _check(acme, capture=django_capture_on_commit_callbacks)
    assert "passed 100 %" in over.title
    assert len(hook.received) == 2


def test_the_forecast_alerts_once_a_period_and_names_the_crossing_day(
    acme, hook, django_capture_on_commit_callbacks
):
    spend_daily(acme, TODAY - 40 * DAY, TODAY - DAY, "40.00")
    budget(acme, amount=Decimal("1000.00"), thresholds=[100])

    (alert,) = _check(acme, capture=django_capture_on_commit_callbacks)
    assert _check(acme, capture=django_capture_on_commit_callbacks) == []

    assert alert.title.startswith("Budget “Prod” is forecast to exceed $1,000.00")
    assert "At this rate it crosses the budget on Jun 25" in alert.summary  # $560 + 11 × $40
    assert alert.details["crosses_on"] == "2025-06-25"
    assert alert.ongoing is False  # an event: no "Ended" message at the period's end
    # Next month is another period: it may alert again.
    july = dt.date(2025, 7, 10)
    spend_daily(acme, TODAY, july - DAY, "40.00")
    new = _check(acme, july, capture=django_capture_on_commit_callbacks)
    assert [a.key.split(":")[1] for a in new] == ["2025-07-01"]
    assert len(hook.received) == 2


def test_a_change_of_terms_starts_the_periods_alerts_over_and_a_rename_does_not(
    acme, admin, hook, django_capture_on_commit_callbacks
):
    b = budget(acme, amount=Decimal("1000.00"), forecast_alert=False)
    spend(acme, TODAY.replace(day=1), "850.00")
    _check(acme, capture=django_capture_on_commit_callbacks)

    services.budget_update(budget=b, actor=admin, name="Production")
    assert _check(acme, capture=django_capture_on_commit_callbacks) == []
    services.budget_update(budget=b, actor=admin, amount=Decimal("1500.00"))
    (alert,) = _check(acme, capture=django_capture_on_commit_callbacks)

    assert alert.title == "Budget “Production” passed 50 %: $850.00 of $1,500.00"
    assert Alert.objects.filter(org=acme, kind=Alert.Kind.BUDGET).count() == 2
    last = ActionLog.objects.filter(resource_type="budget").order_by("pk").last()
    assert last.summary.endswith(
        "from $1,000.00 each month to $1,500.00 each month; its alerts start over"
    )


def test_budgets_not_started_or_ended_do_not_alert(acme, hook, django_capture_on_commit_callbacks):
    spend_daily(acme, dt.date(2025, 5, 1), TODAY, "100.00")
    budget(acme, name="May", period="custom", start=dt.date(2025, 5, 1), end=dt.date(2025, 5, 31))
    budget(acme, name="July", period="custom", start=dt.date(2025, 7, 1), end=dt.date(2025, 7, 31))

    assert _check(acme, capture=django_capture_on_commit_callbacks) == []
    assert hook.received == []


def test_create_update_delete_are_in_the_action_log(acme, admin):
    b = services.budget_create(
        org=acme,
        actor=admin,
        name="Batch",
        amount=Decimal("250"),
        period="quarter",
        start=None,
        end=None,
        project_id="proj_a",
        api_key_id="",
        model="gpt-4o",
        thresholds=[100, 80],
        forecast_alert=True,
    )
    assert b.thresholds == [80, 100]
    assert b.created_by == admin
    services.budget_update(budget=b, actor=admin, thresholds=[90])
    services.budget_delete(budget=b, actor=admin)

    rows = list(ActionLog.objects.filter(resource_type="budget").order_by("pk"))
    assert [r.action for r in rows] == ["budget.create", "budget.update", "budget.delete"]
    assert rows[0].summary == (
        "Added the budget “Batch” ($250.00 each quarter, project proj_a, model gpt-4o)"
    )
    assert {r.actor for r in rows} == {admin}
    assert not Budget.objects.filter(pk=b.pk).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "Prod"}, "name"),  # taken
        ({"amount": Decimal("0")}, "amount"),
        ({"thresholds": [80, 80]}, "thresholds"),
        ({"thresholds": [0]}, "thresholds"),
        ({"period": "custom"}, "start"),
        ({"period": "custom", "start": TODAY, "end": TODAY - DAY}, "end"),
    ],
)
def test_the_service_refuses_what_the_form_would(acme, admin, fields, field):
    budget(acme)
    values = {"name": "Other", "amount": Decimal("10"), **fields}
    with pytest.raises(ChangeRefused) as refused:
        services.budget_create(org=acme, actor=admin, **values)
    assert refused.value.field == field
    assert Budget.objects.filter(org=acme).count() == 1


# --- the period that just ended, judged again for late costs --------------------------------------

JUNE_30 = dt.date(2025, 6, 30)
LONG_AGO = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)  # the budget's terms were set before June


@pytest.mark.parametrize(
    "period",
    [
        {"period": "month"},
        {"period": "quarter"},
        {"period": "custom", "start": dt.date(2025, 6, 1), "end": JUNE_30},
    ],
)
def test_a_crossing_by_costs_recorded_after_the_period_ended_alerts_once(
    acme, hook, django_capture_on_commit_callbacks, period
):
    b = budget(
        acme, amount=Decimal("1000.00"), forecast_alert=False, terms_set_at=LONG_AGO, **period
    )
    spend_daily(acme, dt.date(2025, 6, 1), JUNE_30, "26.00")  # $780: past 50 %, short of 80 %
    (on_the_day,) = _check(acme, JUNE_30, capture=django_capture_on_commit_callbacks)
    first_day = JUNE_30 + DAY  # the next period (a custom range: after it)

    spend(acme, JUNE_30, "30.00", kind="output")  # June 30th's bucket, revised on July 1st
    (late,) = _check(acme, first_day, capture=django_capture_on_commit_callbacks)
    again = [
        _check(acme, first_day + n * DAY, capture=django_capture_on_commit_callbacks)
        for n in range(services.LATE_DAYS)
    ]

    start = b.period_of(JUNE_30)[0]
    assert on_the_day.key.endswith(":actual:50")
    assert late.key == f"{b.pk}:{start}:r0:actual:80"  # the period's own key: never twice
    assert late.title == "Budget “Prod” passed 80 % in the previous period: $810.00 of $1,000.00"
    assert f"the previous period, {start:%b} {start.day} – Jun 30, 2025" in late.summary
    assert "recorded after the period's last check" in late.summary
    assert late.details["previous_period"] is True
    assert again == [[]] * services.LATE_DAYS
    assert _subjects(hook)[-1] == late.title
    assert len(hook.received) == 2


def test_the_period_is_judged_for_late_days_after_its_end_and_not_after(
    acme, hook, django_capture_on_commit_callbacks
):
    budget(acme, amount=Decimal("1000.00"), terms_set_at=LONG_AGO)
    spend_daily(acme, dt.date(2025, 6, 1), JUNE_30, "20.00")  # $600
    last_day = JUNE_30 + services.LATE_DAYS * DAY
    _check(acme, JUNE_30, capture=django_capture_on_commit_callbacks)  # 50 %

    spend(acme, JUNE_30, "250.00", kind="output")  # $850
    (late,) = _check(acme, last_day, capture=django_capture_on_commit_callbacks)
    spend(acme, JUNE_30, "200.00", kind="batch")  # $1,050: too late to be told
    too_late = _check(acme, last_day + DAY, capture=django_capture_on_commit_callbacks)

    assert "passed 80 % in the previous period" in late.title
    assert too_late == []
    assert len(hook.received) == 2


def test_the_previous_period_raises_no_forecast_alert(
    acme, hook, django_capture_on_commit_callbacks
):
    # June's forecast would exceed the amount on the 20th; by July it is over and spent $600.
    budget(acme, amount=Decimal("700.00"), thresholds=[100], terms_set_at=LONG_AGO)
    spend_daily(acme, dt.date(2025, 6, 1), dt.date(2025, 6, 20), "30.00")

    assert _check(acme, JUNE_30 + DAY, capture=django_capture_on_commit_callbacks) == []
    assert hook.received == []


def test_terms_set_after_the_period_ended_do_not_judge_it(
    acme, admin, hook, django_capture_on_commit_callbacks
):
    spend_daily(acme, dt.date(2025, 6, 1), JUNE_30, "50.00")  # $1,500 in June
    changed = budget(
        acme,
        name="Changed",
        amount=Decimal("5000.00"),
        forecast_alert=False,
        terms_set_at=LONG_AGO,
    )
    assert _check(acme, JUNE_30, capture=django_capture_on_commit_callbacks) == []  # 30 %
    # After June: a budget added (now), another's amount lowered below June's spend.
    budget(acme, name="New", forecast_alert=False)
    services.budget_update(budget=changed, actor=admin, amount=Decimal("1000.00"))

    assert _check(acme, JUNE_30 + DAY, capture=django_capture_on_commit_callbacks) == []
    assert hook.received == []
