"""Service tier: the load test's short form (see tests/benchmarks/test_load_bench.py for the
full minute). gunicorn + PostgreSQL with the `large` scenario synced, browsed by wrk from its own
process: every answer is a 200 holding the page asked for (no redirect to sign-in, no error
page), and no socket errors."""

from __future__ import annotations

import pytest

from tests.benchmarks.load import LoadRig, assert_clean, report
from tests.conftest import only_in_the_service_tier

pytestmark = pytest.mark.services


def test_it_serves_concurrent_users_without_an_error():
    only_in_the_service_tier()
    rig = LoadRig(usage_days=30, audit_days=30)
    try:
        result = rig.wrk(connections=20, seconds=12)
        print("\n" + report("load (short)", rig, result))
        assert_clean(result)
    finally:
        rig.close()
