"""Load: the Costs page against a signed-in view that does nothing, 50 connections for 60 s each.

gunicorn (4 workers × 4 threads, tests/benchmarks/load_wsgi.py: the project plus the do-nothing
view) + PostgreSQL with the `large` scenario synced (directory, 90 days of usage and costs,
90 days of audit log); wrk in its own process on loopback (C, its own threads: it keeps the
connections busy with less CPU than the server spends on any Django request, so the server, not
the load generator, is what saturates). Same rig, one after the other, warmed up the same way:

- the request floor: the do-nothing view (the same middleware and VIEW_SPEND check as Costs);
- the Costs page (30 days by line item and 90 days by project, in turn).

Targets: Costs req/s ÷ floor req/s ≥ 0.5, and 0 errors over both runs, an error being any
answer but a 200 holding the page's marker (a 302 to sign-in, a 403, a 500, a page without its
chart) and any request without an answer. p50 and p95 are wrk's, over every request of a run.

    make bench   (or: .venv/bin/pytest tests/benchmarks/test_load_bench.py -s -q)
    LOAD_SECONDS=10 LOAD_WARMUP_SECONDS=2 ...   a short run while developing

PostgreSQL: the bench's own database `…_load` (see conftest.py: BENCH_PG_URL's server, else a
private cluster under var/bench/pg), recreated each run. Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import os

import pytest

from tests.benchmarks.conftest import PG_SKIPPED, bench_pg_url
from tests.benchmarks.load import COSTS, LoadRig, report
from tests.benchmarks.load_wsgi import NOTHING_MARKER, NOTHING_PATH

CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS", "50"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
WARMUP_SECONDS = int(os.environ.get("LOAD_WARMUP_SECONDS", "5"))
DAYS = int(os.environ.get("LOAD_DAYS", "90"))
TARGET_RATIO = 0.5


def test_costs_page_serves_at_least_half_the_request_floor_without_an_error():
    url = bench_pg_url("load")
    if url is None:
        pytest.skip(f"load: {PG_SKIPPED}")
    rig = LoadRig(usage_days=DAYS, audit_days=DAYS, database_url=url)
    try:
        runs = {}
        for name, pages in (
            ("signed-in view that does nothing", [(NOTHING_PATH, NOTHING_MARKER)]),
            ("Costs page", COSTS),
        ):
            warmup = rig.wrk(connections=CONNECTIONS, seconds=WARMUP_SECONDS, pages=pages)
            runs[name] = rig.wrk(connections=CONNECTIONS, seconds=SECONDS, pages=pages)
            runs[name]["errors"] += warmup["errors"]  # an error while warming up is one too
            print(f"\n{report(name, rig, runs[name])}")
        _table(runs)
    finally:
        rig.close()


def _table(runs: dict[str, dict]) -> None:
    floor, costs = runs["signed-in view that does nothing"], runs["Costs page"]
    ratio = costs["rps"] / floor["rps"]
    errors = floor["errors"] + costs["errors"]
    rows = [
        ("Costs page: req/s", f"{costs['rps']:.1f}", "—", "info"),
        ("signed-in view that does nothing: req/s", f"{floor['rps']:.1f}", "—", "info"),
        (
            "Costs req/s ÷ nothing req/s",
            f"{ratio:.3f}",
            f"≥ {TARGET_RATIO}",
            "ok" if ratio >= TARGET_RATIO else "FAIL",
        ),
        ("errors (both runs, warm-ups included)", str(errors), "0", "ok" if not errors else "FAIL"),
    ]
    for name, run in runs.items():
        rows.append(
            (
                f"{name}: p50 / p95 latency",
                f"{run['p50_ms']:.0f} / {run['p95_ms']:.0f} ms",
                "—",
                "info",
            )
        )
    width = max(len(r[0]) for r in rows)
    print(f"\n\nLoad: {CONNECTIONS} connections for {SECONDS} s each, gunicorn + PostgreSQL, wrk")
    print(f"{'measure'.ljust(width)}  {'measured':<16} {'target':<7} verdict")
    for measure, value, target, verdict in rows:
        print(f"{measure.ljust(width)}  {value:<16} {target:<7} {verdict}")
    assert ratio >= TARGET_RATIO, f"Costs serves {ratio:.3f}× the request floor's req/s"
    assert errors == 0, f"{errors} errors: {runs}"
