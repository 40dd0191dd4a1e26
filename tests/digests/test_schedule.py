"""When digests are due: Monday and the 1st at 08:00 in the reporting timezone, DST included.
Pure date arithmetic (dashboard/digests/schedule.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dashboard.digests.schedule import MONTHLY, SEND_AT, WEEKLY, latest_due, next_due

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_it_sends_the_weekly_digest_at_8_local_on_both_sides_of_spring_dst():
    # Berlin moves its clocks forward on Sunday 2025-03-30: 08:00 is 07:00 UTC the Monday
    # before and 06:00 UTC the Monday after.
    before_dst = latest_due(WEEKLY, now=utc(2025, 3, 24, 7, 0), tz=BERLIN)
    after_dst = latest_due(WEEKLY, now=utc(2025, 3, 31, 6, 0), tz=BERLIN)

    assert (before_dst.start, before_dst.end) == (dt.date(2025, 3, 17), dt.date(2025, 3, 24))
    assert (after_dst.start, after_dst.end) == (dt.date(2025, 3, 24), dt.date(2025, 3, 31))
    assert before_dst.due_at == utc(2025, 3, 24, 7, 0)
    assert after_dst.due_at == utc(2025, 3, 31, 6, 0)
    for period in (before_dst, after_dst):
        local = period.due_at.astimezone(BERLIN)
        assert (local.weekday(), local.time()) == (0, SEND_AT)


def test_it_is_not_due_a_minute_before_8_local():
    # 05:59 UTC on 2025-03-31 is 07:59 in Berlin: the week of Mar 24 is not due yet.
    period = latest_due(WEEKLY, now=utc(2025, 3, 31, 5, 59), tz=BERLIN)

    assert (period.start, period.end) == (dt.date(2025, 3, 17), dt.date(2025, 3, 24))
    assert next_due(WEEKLY, now=utc(2025, 3, 31, 5, 59), tz=BERLIN).due_at == utc(2025, 3, 31, 6)


def test_it_sends_the_weekly_digest_at_8_local_after_autumn_dst_in_new_york():
    # New York moves back on Sunday 2025-11-02: 08:00 is 12:00 UTC before, 13:00 UTC after.
    week = latest_due(WEEKLY, now=utc(2025, 11, 3, 13, 0), tz=NEW_YORK)

    assert (week.start, week.end) == (dt.date(2025, 10, 27), dt.date(2025, 11, 3))
    assert week.due_at == utc(2025, 11, 3, 13, 0)
    # An hour earlier it was still 07:00 in New York: the week before is the latest due.
    assert latest_due(WEEKLY, now=utc(2025, 11, 3, 12, 0), tz=NEW_YORK).end == week.start


def test_it_sends_the_monthly_digest_on_the_1st_at_8_local_for_the_month_before():
    november_1 = latest_due(MONTHLY, now=utc(2025, 11, 1, 12, 0), tz=NEW_YORK)  # 08:00 EDT
    december_1 = next_due(MONTHLY, now=utc(2025, 11, 1, 12, 0), tz=NEW_YORK)  # 08:00 EST

    assert (november_1.start, november_1.end) == (dt.date(2025, 10, 1), dt.date(2025, 11, 1))
    assert november_1.due_at == utc(2025, 11, 1, 12, 0)
    assert (december_1.start, december_1.end) == (dt.date(2025, 11, 1), dt.date(2025, 12, 1))
    assert december_1.due_at == utc(2025, 12, 1, 13, 0)


def test_it_cuts_periods_on_local_days_not_utc_days():
    # 23:30 UTC on Sunday 2025-03-30 is already Monday 01:30 in Berlin, before 08:00: the
    # latest week due is still the one that ended on Mar 24, on the 31st after 08:00 local.
    assert latest_due(WEEKLY, now=utc(2025, 3, 30, 23, 30), tz=BERLIN).end == dt.date(2025, 3, 24)
    # Tokyo's Monday 08:00 is Sunday 23:00 UTC: due before UTC's Monday begins.
    tokyo = latest_due(WEEKLY, now=utc(2025, 3, 30, 23, 0), tz=ZoneInfo("Asia/Tokyo"))
    assert tokyo.end == dt.date(2025, 3, 31)


@pytest.mark.parametrize("cadence", [WEEKLY, MONTHLY])
def test_it_crosses_the_year(cadence):
    period = latest_due(cadence, now=utc(2026, 1, 1, 9, 0), tz=ZoneInfo("UTC"))
    following = next_due(cadence, now=utc(2026, 1, 1, 9, 0), tz=ZoneInfo("UTC"))

    assert period.start.year == 2025
    assert period.due_at <= utc(2026, 1, 1, 9, 0) < following.due_at
    assert following.start == period.end
