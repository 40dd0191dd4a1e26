"""Load: 50 signed-in Admins browse Costs, Usage, Members and the Audit log for 60 seconds.

gunicorn (4 workers × 4 threads) + PostgreSQL with the `large` scenario synced (directory,
90 days of usage and costs, 90 days of audit log); wrk in its own process on loopback. Zero
non-2xx answers and zero socket errors; `make bench` prints p50, p95 and p99.

    make bench   (or: .venv/bin/pytest tests/benchmarks/test_load_bench.py -s -q)

Needs PostgreSQL (DATABASE_URL's server; database `dash_p7_load` is recreated) and wrk.
"""

from __future__ import annotations

import os

from tests.benchmarks.load import LoadRig, assert_clean, report

CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS", "50"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))


def test_fifty_users_browse_for_a_minute_without_an_error():
    rig = LoadRig(usage_days=90, audit_days=90)
    try:
        result = rig.wrk(connections=CONNECTIONS, seconds=SECONDS)
        print("\n" + report("load", rig, result))
        assert_clean(result)
    finally:
        rig.close()
