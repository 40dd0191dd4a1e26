"""The anomaly detector on made-up daily costs: what fires, what doesn't, and how episodes live."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from dashboard.anomaly import LEVEL_DAYS, Episode, cents, detect, fold

TODAY = dt.date(2026, 3, 18)  # a Wednesday
KEY = ("api_key_id", "key_a")
PROJECT = ("project_id", "proj_a")
MODEL = ("model", "gpt-4.1")
WEEKDAY = (1.0, 1.08, 1.1, 1.06, 0.97, 0.42, 0.36)  # Monday..Sunday, as interactive traffic


def daily(
    level: float = 100.0,
    *,
    days: int = 120,
    today: dt.date = TODAY,
    noise: float = 0.12,
    seed: int = 1,
    rhythm: tuple[float, ...] = WEEKDAY,
    growth: float = 0.0,
    times: dict[dt.date, float] | None = None,
) -> list[tuple[dt.date, Decimal]]:
    """`days` complete days up to yesterday: a weekly rhythm, lognormal noise, optional growth
    per day and multipliers on chosen days; amounts in Decimal to the cent."""
    rng = random.Random(seed)
    out = []
    for n in range(days, 0, -1):
        day = today - dt.timedelta(days=n)
        value = level * rhythm[day.weekday()] * math.exp(growth * (days - n))
        value *= math.exp(rng.gauss(0, noise)) * (times or {}).get(day, 1.0)
        out.append((day, cents(Decimal(repr(value)))))
    return out


def last_days(count: int, today: dt.date = TODAY) -> list[dt.date]:
    return [today - dt.timedelta(days=n) for n in range(count, 0, -1)]


def spike(count: int, factor: float = 5.0, today: dt.date = TODAY) -> dict[dt.date, float]:
    return dict.fromkeys(last_days(count, today), factor)


# --- what fires -------------------------------------------------------------------------------


def test_it_finds_nothing_in_a_noisy_weekly_rhythm():
    for seed in range(5):
        series = {KEY: daily(seed=seed)}
        assert detect(series, today=TODAY, since=TODAY - dt.timedelta(days=90)) == []


def test_it_makes_one_episode_of_a_three_day_spike_with_its_peak_and_excess():
    series = {KEY: daily(times=spike(3))}

    (episode,) = detect(series, today=TODAY)

    assert episode.group == KEY
    assert [d.day for d in episode.days] == last_days(3)
    assert episode.open  # it reaches yesterday
    assert episode.peak.actual == max(d.actual for d in episode.days)
    assert episode.excess == sum(d.actual - d.expected for d in episode.days)
    # Each day costs about 5 times what its weekday usually does: the excess is about 4 of them.
    usual = sum(d.expected for d in episode.days)
    assert 3 * usual < episode.excess < 5 * usual
    assert all(d.actual.as_tuple().exponent == -2 for d in episode.days)  # cents in, cents out
    assert all(d.expected.as_tuple().exponent == -2 for d in episode.days)


def test_it_ignores_a_weekly_batch_job():
    saturdays = {d: 6.0 for d, _ in daily() if d.weekday() == 5}
    series = {KEY: daily(times=saturdays)}
    assert detect(series, today=TODAY, since=TODAY - dt.timedelta(days=90)) == []


def test_it_follows_a_trend():
    tripling_a_month = math.log(3) / 30
    growing = {KEY: daily(level=20, growth=tripling_a_month)}
    shrinking = {KEY: daily(level=2000, growth=-tripling_a_month)}
    for series in (growing, shrinking):
        assert detect(series, today=TODAY, since=TODAY - dt.timedelta(days=90)) == []


def test_it_needs_a_minimum_dollar_impact():
    # Tripling a key that costs about a dollar a day is noise in dollars.
    assert detect({KEY: daily(level=1, times=spike(2, 3.0))}, today=TODAY) == []
    # The same move on a key that costs $100 a day is not.
    assert len(detect({KEY: daily(level=100, times=spike(2, 3.0))}, today=TODAY)) == 1
    # Unless the organization asks for more: $500 of excess a day.
    big = {KEY: daily(level=100, times=spike(2, 3.0))}
    assert detect(big, today=TODAY, min_impact=Decimal(500)) == []


def test_it_judges_zeros_as_days_without_cost():
    weekdays_only = (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0)
    # A key used on weekdays only: its idle weekends are its rhythm, and nothing fires.
    series = {KEY: daily(rhythm=weekdays_only)}
    assert detect(series, today=TODAY, since=TODAY - dt.timedelta(days=90)) == []
    # A key idle for months that suddenly spends $300 in a day: that fires.
    idle = [(d, Decimal("0.01") if d == last_days(60)[0] else Decimal(0)) for d in last_days(60)]
    idle[-1] = (idle[-1][0], Decimal(300))  # yesterday
    (episode,) = detect({KEY: idle}, today=TODAY)
    assert episode.peak.actual == Decimal(300)


def test_it_ignores_today_which_is_still_filling_up():
    series = {KEY: [*daily(), (TODAY, Decimal(100_000))]}
    assert detect(series, today=TODAY) == []


# --- short histories ---------------------------------------------------------------------------


def test_it_does_not_judge_a_group_younger_than_two_weeks():
    young = {KEY: daily(days=10, times=spike(1, 20.0))}
    assert detect(young, today=TODAY) == []


def test_it_judges_a_short_history_by_weekday():
    # 17 days: too short for the seasonal decomposition, enough for weekday medians.
    assert len(detect({KEY: daily(days=17, times=spike(1, 5.0))}, today=TODAY)) == 1
    saturdays = {d: 6.0 for d, _ in daily(days=17) if d.weekday() == 5}
    assert detect({KEY: daily(days=17, times=saturdays)}, today=TODAY) == []


# --- episodes over days ------------------------------------------------------------------------


def test_an_open_episode_is_updated_the_next_day_then_closed():
    spike_days = last_days(1)  # yesterday
    day1 = TODAY
    day2 = TODAY + dt.timedelta(days=1)
    day3 = TODAY + dt.timedelta(days=2)
    times = dict.fromkeys([*spike_days, day1], 5.0)  # the spike goes on today, then stops

    (first,) = detect({KEY: daily(today=day1, times=times)}, today=day1)
    (updated,) = detect({KEY: daily(days=121, today=day2, times=times)}, today=day2)
    (closed,) = detect({KEY: daily(days=122, today=day3, times=times)}, today=day3)

    assert (first.start, first.end, first.open) == (spike_days[0], spike_days[0], True)
    assert (updated.start, updated.end, updated.open) == (spike_days[0], day1, True)
    assert (closed.start, closed.end, closed.open) == (spike_days[0], day1, False)
    # A day's verdict doesn't change as days pass: the first day is judged the same each time.
    assert first.days[0] == updated.days[0] == closed.days[0]


def test_an_episode_under_way_is_followed_back_to_its_first_day():
    series = {KEY: daily(times=spike(5))}
    (episode,) = detect(series, today=TODAY, since=TODAY - dt.timedelta(days=2))
    assert [d.day for d in episode.days] == last_days(5)


def test_a_lasting_change_makes_one_episode_then_becomes_the_new_normal():
    since = last_days(40)[0]
    times = dict.fromkeys(last_days(40), 5.0)
    (episode,) = detect({KEY: daily(times=times)}, today=TODAY, since=since)
    assert episode.start == since
    assert not episode.open
    assert len(episode.days) <= LEVEL_DAYS // 2 + 1  # then the new level is the usual one


# --- marked expected ---------------------------------------------------------------------------


def test_marked_expected_days_do_not_fire_again():
    series = {KEY: daily(times=spike(3))}
    (episode,) = detect(series, today=TODAY)
    assert detect(series, today=TODAY, expected=episode.marked()) == []


def test_marked_expected_days_stay_out_of_the_baseline():
    # Eight days at 8 times the usual that people expected (a migration), then a day at 3 times.
    migration = last_days(9)[:-1]
    times = dict.fromkeys(migration, 8.0) | {TODAY - dt.timedelta(days=1): 3.0}
    series = {KEY: daily(times=times)}
    marked = {(KEY, d) for d in migration}

    # Unmarked, the migration's days weigh in the baseline the last day is judged against, and
    # hide it.
    unmarked = detect(series, today=TODAY)
    assert all(e.end < TODAY - dt.timedelta(days=1) for e in unmarked)
    # Marked, they stay out of it: the last day is judged against the normal weeks, and fires.
    (episode,) = detect(series, today=TODAY, expected=marked)
    assert [d.day for d in episode.days] == last_days(1)


# --- one cause, one episode --------------------------------------------------------------------


def _spread(share: float, times: dict[dt.date, float], seed: int) -> list:
    """A coarser group: `share` of it is the key's (with the key's spike), the rest others'."""
    key = daily(level=100 * share, times=times, seed=seed)
    rest = daily(level=100 * (1 - share), seed=seed + 100)
    return [(d, a + b) for (d, a), (_, b) in zip(key, rest, strict=True)]


def test_a_key_spike_makes_one_episode_with_its_project_and_model_as_evidence():
    times = spike(3)
    series = {
        KEY: daily(level=60, times=times, seed=1),
        PROJECT: _spread(0.6, times, seed=1),
        MODEL: _spread(0.6, times, seed=1),
    }
    related = {PROJECT: {KEY}, MODEL: {KEY, PROJECT}}

    (episode,) = detect(series, today=TODAY, related=related)

    assert episode.group == KEY
    assert {r.group for r in episode.related} == {PROJECT, MODEL}
    # Marking it expected marks the evidence too: nothing fires on its own afterwards.
    assert detect(series, today=TODAY, related=related, expected=episode.marked()) == []


def test_a_coarser_episode_that_the_key_does_not_feed_stays_its_own():
    times = spike(3)
    series = {KEY: daily(level=60, times=times), PROJECT: _spread(0.6, times, seed=1)}
    found = detect(series, today=TODAY, related={PROJECT: {("api_key_id", "key_other")}})
    assert {e.group for e in found} == {KEY, PROJECT}


def test_fold_needs_the_finer_episode_to_explain_half_the_coarser_one():
    day = TODAY - dt.timedelta(days=1)
    key = _episode(KEY, day, actual="150", expected="100")  # +50
    project = _episode(PROJECT, day, actual="1200", expected="1000")  # +200
    assert {e.group for e in fold([key, project])} == {KEY, PROJECT}
    bigger = _episode(KEY, day, actual="250", expected="100")  # +150 of the project's +200
    (root,) = fold([bigger, project])
    assert root.related == (project,)


def _episode(group, day, *, actual, expected) -> Episode:
    from dashboard.anomaly import Day

    return Episode(group, (Day(day, Decimal(actual), Decimal(expected), 9.0),), open=True)
