"""Surges: a spike or a weekly job planted on one key, on top of the demo's own numbers."""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal

import pytest

from orgadmin.simulator import create_app
from orgadmin.simulator.__main__ import add_arguments
from orgadmin.simulator.usage.surges import Surge
from tests.simulator.support import DAY, KEY, NOW, TODAY, make_app


def _cost(app, day: int, *, key_id: str | None = None):
    """One UTC day's cost (`day` days after 1970), of one key or of everything."""
    filters = {"api_key_ids": [key_id]} if key_id else {}
    return app.store.usage.cost_total(day * DAY, (day + 1) * DAY, now=NOW, filters=filters)


def _spiked(surge: Surge):
    return create_app(scenario="demo", seed=0, admin_keys=[KEY], now=lambda: NOW, surges=[surge])


def test_a_spike_multiplies_the_busiest_keys_costs_on_the_days_to_yesterday_only():
    plain = make_app()
    app = _spiked(Surge(factor=5.0, days=3))
    (surge,) = app.surges
    key = surge.key_id
    today = TODAY // DAY

    for day in range(today - 10, today):
        before, after = _cost(plain, day, key_id=key), _cost(app, day, key_id=key)
        if day >= today - 3:
            assert after == pytest.approx(5 * before, rel=Decimal("0.01"))
        else:
            assert after == before
    # Everything else costs what it did: the spike is the key's extra only.
    extra = sum(
        _cost(app, d, key_id=key) - _cost(plain, d, key_id=key) for d in range(today - 3, today)
    )
    total = sum(_cost(app, d) - _cost(plain, d) for d in range(today - 3, today))
    assert total == extra
    # It was the busiest key over the 4 weeks before.
    spent = {
        k: plain.store.usage.cost_total(
            (today - 28) * DAY, today * DAY, now=NOW, filters={"api_key_ids": [k]}
        )
        for k in plain.store.api_keys
    }
    assert max(spent, key=spent.__getitem__) == key


def test_a_spike_leaves_a_raised_rate_limit_in_the_audit_log():
    app = _spiked(Surge(factor=5.0, days=2))
    key = app.store.api_keys[app.surges[0].key_id]
    (event,) = [e for e in app.store.audit.events() if e["id"].startswith("audit_log-surge")]
    assert event["type"] == "rate_limit.updated"
    assert event["project"]["id"] == key.project_id
    assert event["effective_at"] // DAY == TODAY // DAY - 2  # the spike's first morning
    limit_id = event["rate_limit.updated"]["id"]
    raised = event["rate_limit.updated"]["changes_requested"]["max_requests_per_1_minute"]
    limit = app.store.projects[key.project_id].rate_limits[limit_id]
    assert limit.limits["max_requests_per_1_minute"] == raised


def test_a_weekly_job_surges_every_such_weekday_and_no_other():
    plain = make_app()
    app = _spiked(Surge(factor=6.0, weekday=5))
    key = app.surges[0].key_id
    for day in range(TODAY // DAY - 21, TODAY // DAY):
        saturday = dt.datetime.fromtimestamp(day * DAY, dt.UTC).weekday() == 5
        before, after = _cost(plain, day, key_id=key), _cost(app, day, key_id=key)
        assert after == (pytest.approx(6 * before, rel=Decimal("0.01")) if saturday else before)
    assert not [e for e in app.store.audit.events() if e["id"].startswith("audit_log-surge")]


def test_the_command_line_plants_a_spike():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args([]).spike == ()
    assert parser.parse_args(["--spike", "5x3"]).spike == (Surge(factor=5.0, days=3),)
    assert parser.parse_args(["--spike", "8"]).spike == (Surge(factor=8.0, days=3),)
    with pytest.raises(SystemExit):
        parser.parse_args(["--spike", "lots"])
