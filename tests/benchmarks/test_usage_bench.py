"""Benchmarks of issues 5 and 18, printed as one table of ratios (`make bench`).

- Backfill (issue 18): a 90-day backfill of the `large` scenario against the simulator over HTTP,
  against the sum of its two floors measured in the same run: fetch-only (the same pages fetched
  by the SDK and decoded, nothing written) and insert-only (the same rows, already built,
  inserted again into every table the sync writes); its page requests against the minimum; peak
  RSS of the syncing process. Then the same backfill against a second simulator that answers each
  request after BENCH_LATENCY_MS (250 ms, as across the internet) over BENCH_LATENCY_DAYS (the
  backfill's days by default), against fetch-only with that same latency: the writes hide behind
  the wait for the next page.
- Incremental: an hourly run with nothing new, requests against the number of endpoints.
- Pages (issue 18): the Costs, Usage and Overview pages on a scale dataset of 1M and of 10M
  hourly usage rows (tests.benchmarks.scale_dataset, built once per database and kept under
  var/bench), page cache off: the big one against the small one, and against the naive SQL over
  the raw rows; their p95 idle, cache off and on; beside them, a signed-in request that does
  nothing. BENCH_SCALE_ROWS=100000,1000000 gives a quicker run.
- Contention: every page's p95 on the big dataset, cache off, while a sync re-fetches 30 days
  into the same database.

On SQLite and PostgreSQL (tests/benchmarks/conftest.py: BENCH_PG_URL's server, else a private
cluster under var/bench/pg); each database has its own files or database.
Every phase runs in its own process; each pair is measured in this one run.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.benchmarks.conftest import PG_SKIPPED, bench_pg_url
from tests.benchmarks.stats import percentile

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-admin-bench-000000000000000000000000"
DAYS = int(os.environ.get("BENCH_DAYS", "90"))
ROWS: list[tuple[str, str, str, str]] = []  # measure, value, limit, verdict
# The databases stay under var/bench, so BENCH_PHASES=pages can re-run the page benchmark alone.
BENCH_DIR = ROOT / "var" / "bench"
PHASES = set(os.environ.get("BENCH_PHASES", "backfill,pages,contention").split(","))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "250"))
LATENCY_DAYS = int(os.environ.get("BENCH_LATENCY_DAYS", str(DAYS)))


def _start_simulator(latency_ms: int = 0) -> tuple[subprocess.Popen, str]:
    """The `large` scenario served over HTTP on a free port, answering each request after
    `latency_ms`; (the process, its base URL)."""
    port = _free_port()
    env = {**os.environ, "SIMULATOR_ADMIN_KEY": KEY, "DEBUG": "true", "READ_DOT_ENV": "false"}
    server = subprocess.Popen(
        # The spec's behaviour (no live quirks), so the figures compare with the README's table.
        [sys.executable, "-m", "orgadmin.simulator", "--scenario", "large", "--port", str(port),
         "--quirks", "none", "--latency-ms", str(latency_ms)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    return server, f"http://127.0.0.1:{port}/v1"


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def simulator_url():
    server, url = _start_simulator()
    yield url
    _stop(server)


@pytest.fixture(scope="module")
def slow_simulator():
    """url(): the base URL of a second simulator that waits LATENCY_MS before answering each
    request, started on first use."""
    started: list[tuple[subprocess.Popen, str]] = []

    def url() -> str:
        if not started:
            started.append(_start_simulator(LATENCY_MS))
        return started[0][1]

    yield url
    for server, _ in started:
        _stop(server)


def _env(database_url: str, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp),
        "READ_DOT_ENV": "false",
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "FIELD_ENCRYPTION_KEYS": "ZmFrZS10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA=",
        "SIMULATOR_ADMIN_KEY": KEY,
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "HTTPS": "false",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "USAGE_SYNC_TIMEOUT": "300",
    }


def _run(env: dict[str, str], *args: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def _phase(env, mode, url, days: int = DAYS) -> dict:
    return _run(env, "-m", "tests.benchmarks.backfill_worker", mode, url, str(days))[0]


def _verdict(ok: bool | None) -> str:
    return "info" if ok is None else "ok" if ok else "FAIL"


def _row(measure: str, value: str, limit: str, ok: bool | None) -> None:
    """One line of the table; `ok=None` is a measurement shown for reference, with no target."""
    ROWS.append((measure, value, limit, _verdict(ok)))
    print(f"  {measure}: {value} (target {limit}) {_verdict(ok)}", flush=True)


def _databases(tmp_path: Path) -> list[tuple[str, str | None]]:
    """The backfill's databases: SQLite, and PostgreSQL's `usage` database (None: no server)."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    return [
        ("sqlite", f"sqlite:///{BENCH_DIR / 'bench.sqlite3'}"),
        ("postgresql", bench_pg_url("usage")),
    ]


def test_backfill_incremental_and_pages(simulator_url, slow_simulator, tmp_path):
    for vendor, url in _databases(tmp_path):
        if url is None:
            _row(f"Usage benchmarks ({vendor})", PG_SKIPPED, "—", False)
            continue
        # The simulator on loopback, named as an operator would name a local one.
        env = {**_env(url, tmp_path), "ALLOWED_API_HOSTS": simulator_url.removesuffix("/v1")}
        if "backfill" in PHASES:
            _backfill(env, vendor, url, simulator_url, slow_simulator)
        if "pages" in PHASES:
            _pages(env, vendor)
        if "contention" in PHASES:
            _contention(env, vendor, simulator_url)
    _table()


_WARM: set[tuple[str, int]] = set()  # (simulator, days) whose pages a first fetch has cached


def _fresh_database(env: dict[str, str], vendor: str, url: str) -> None:
    if vendor == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        subprocess.run(
            [sys.executable, "manage.py", "flush", "--noinput"],
            cwd=ROOT, env=env, capture_output=True, check=False,
        )  # fmt: skip
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip


def _warm(env: dict[str, str], simulator: str, days: int) -> None:
    """Fetch every page once, so that the simulator serves the floor and the sync alike from
    its cache of closed buckets."""
    if (simulator, days) not in _WARM:
        _phase(env, "floor", simulator, days)
        _WARM.add((simulator, days))


def _backfill(
    env: dict[str, str],
    vendor: str,
    url: str,
    simulator_url: str,
    slow_simulator: Callable[[], str],
) -> None:
    _fresh_database(env, vendor, url)
    _warm(env, simulator_url, DAYS)
    floor = _phase(env, "floor", simulator_url)
    sync = _phase(env, "sync", simulator_url)
    writes = _phase(env, "writes", simulator_url)
    floors = floor["seconds"] + writes["seconds"]
    ratio = sync["seconds"] / floors
    _row(
        f"Backfill {DAYS}d large ({vendor}): wall / (fetch-only + insert-only floors)",
        f"{ratio:.2f} ({sync['seconds']:.1f} s / ({floor['seconds']:.1f} + "
        f"{writes['seconds']:.1f} s))",
        "≤ 1.20",
        ratio <= 1.2,
    )
    _row(
        f"Backfill ({vendor}): page requests / minimum",
        f"{sync['requests'] / sync['minimum']:.2f} ({sync['requests']} / {sync['minimum']})",
        "= 1.00",
        sync["requests"] == sync["minimum"],
    )
    _row(
        f"Backfill ({vendor}): peak RSS of the syncing process",
        f"{sync['peak_rss_mb']:.0f} MB ({sync['rows']:,} rows)",
        "≤ 300 MB",
        sync["peak_rss_mb"] <= 300,
    )
    _row(
        f"Backfill ({vendor}): the insert-only floor's rows",
        f"{writes['rows']:,} in {len(writes['tables'])} tables; the raw rows alone "
        f"{writes['raw_rows']:,} in {writes['raw_seconds']:.1f} s",
        "—",
        None,
    )
    incremental = _phase(env, "incremental", simulator_url)
    _row(
        f"Incremental, nothing new ({vendor}): requests / endpoints",
        f"{incremental['requests'] / 11:.2f} ({incremental['requests']} / 11)",
        "≤ 1.00",
        incremental["requests"] <= 11,
    )
    _behind_latency(env, vendor, url, slow_simulator())


def _behind_latency(env: dict[str, str], vendor: str, url: str, slow: str) -> None:
    """The backfill against a simulator that takes LATENCY_MS to answer each request, against
    fetch-only from it: with the next page in flight while one is written, the writes cost
    (almost) nothing more than the wait."""
    env = {**env, "ALLOWED_API_HOSTS": f"{env['ALLOWED_API_HOSTS']},{slow.removesuffix('/v1')}"}
    _fresh_database(env, vendor, url)
    _warm(env, slow, LATENCY_DAYS)
    floor = _phase(env, "floor", slow, LATENCY_DAYS)
    sync = _phase(env, "sync", slow, LATENCY_DAYS)
    ratio = sync["seconds"] / floor["seconds"]
    _row(
        f"Backfill {LATENCY_DAYS}d, {LATENCY_MS} ms per request ({vendor}): wall / fetch-only",
        f"{ratio:.2f} ({sync['seconds']:.1f} s / {floor['seconds']:.1f} s, "
        f"{sync['requests']} pages)",
        "≤ 1.10",
        ratio <= 1.1,
    )
    # The writes that outlast the wait for one page: what fetching ahead, in turns, must hide.
    wait = LATENCY_MS / 1000
    writes = [s for family in sync["page_writes"].values() for s in family]
    longer = [s - wait for s in writes if s > wait]
    family, times = max(sync["page_writes"].items(), key=lambda f: statistics.median(f[1]))
    _row(
        f"Backfill {LATENCY_DAYS}d ({vendor}): page writes longer than the wait",
        f"{len(longer)} of {len(writes)}, {sum(longer):.1f} s beyond it; slowest: {family}, "
        f"median {statistics.median(times) * 1000:.0f} ms",
        "—",
        None,
    )


SCALE = sorted(int(n) for n in os.environ.get("BENCH_SCALE_ROWS", "1000000,10000000").split(","))
ROUNDS = int(os.environ.get("BENCH_PAGE_ROUNDS", "40"))
PASSES = 4  # turns per dataset (see _pages)
_SCALE_READY: dict[tuple[str, int], dict[str, str]] = {}


def _scale_env(env: dict[str, str], vendor: str, rows: int) -> dict[str, str] | None:
    """The environment of the database holding the `rows` scale dataset (built once and kept:
    var/bench/pages-<rows>.sqlite3, or PostgreSQL's `pages_<rows>` database); None: no
    PostgreSQL."""
    if (vendor, rows) in _SCALE_READY:
        return _SCALE_READY[(vendor, rows)]
    if vendor == "sqlite":
        url = f"sqlite:///{BENCH_DIR / f'pages-{rows}.sqlite3'}"
    else:
        url = bench_pg_url(f"pages_{rows}")
    if url is None:
        return None
    scale = {**env, "DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=scale, check=True,
    )  # fmt: skip
    built = _run(scale, "-m", "tests.benchmarks.scale_dataset", str(rows))[0]
    how = (
        "kept from an earlier run"
        if built["seconds"] == 0
        else f"built in {built['seconds']:.0f} s"
    )
    _row(f"Scale dataset ({vendor}): {built['rows']:,} usage rows", how, "—", None)
    _SCALE_READY[(vendor, rows)] = scale
    return scale


def _pages(env: dict[str, str], vendor: str) -> None:
    """Each page at the small and the big dataset, against the naive SQL over the raw rows.

    The two datasets are measured in turns (small, big, small, big...: a quarter of the rounds
    each time) and each one's samples pooled, so that a busy minute of this shared machine weighs
    on both sides of a ratio alike."""
    results: dict[int, dict] = {}
    for _ in range(PASSES):
        for rows in (SCALE[0], SCALE[-1]):
            scale = _scale_env(env, vendor, rows)
            if scale is None:
                _row(f"Pages ({vendor})", PG_SKIPPED, "—", False)
                return
            measured = _run(scale, "-m", "tests.benchmarks.pages_worker", str(ROUNDS // PASSES))
            _pool(results.setdefault(rows, {}), measured)
    small, big = results[SCALE[0]], results[SCALE[-1]]
    size = f"{SCALE[-1] / 1e6:g}M"
    for name in (n for n in big if n is not None):
        b, s = big[name], small[name]
        ratio = b["uncached_median_ms"] / s["uncached_median_ms"]
        _row(
            f"{name} ({vendor}): page at {size} rows ÷ at {SCALE[0] / 1e6:g}M (cache off)",
            f"{ratio:.2f} ({b['uncached_median_ms']:.0f} / {s['uncached_median_ms']:.0f} ms)",
            "≤ 1.20",
            ratio <= 1.2,
        )
        # As served: the page cache keeps a page until its data changes; cold (the first view
        # after a sync, the cache off) beside it.
        ratio = b["cached_median_ms"] / b["sql_median_ms"]
        _row(
            f"{name} ({vendor}, {size}): page ÷ naive SQL over the raw rows (cold)",
            f"{ratio:.2f} ({b['cached_median_ms']:.0f} / {b['sql_median_ms']:.0f} ms; cold "
            f"{b['uncached_median_ms'] / b['sql_median_ms']:.2f})",
            "≤ 0.50",
            ratio <= 0.5,
        )
        _row(
            f"{name} ({vendor}, {size}): p95 of {ROUNDS} idle, cache off (on)",
            f"{b['uncached_p95_ms']:.0f} ms ({b['cached_p95_ms']:.0f} ms)",
            "≤ 300 ms",
            b["uncached_p95_ms"] <= 300,
        )
    floor = big[None]["request_floor_ms"]
    _row(f"Signed-in request that does nothing ({vendor})", f"{floor:.1f} ms", "—", None)


def _pool(into: dict, measured: list[dict]) -> None:
    """Add a run's samples to each view's, and work out medians and p95s of the pool."""
    for view in measured:
        pooled = into.setdefault(view["view"], {"view": view["view"]})
        if view["view"] is None:
            pooled.setdefault("floors", []).append(view["request_floor_ms"])
            pooled["request_floor_ms"] = statistics.median(pooled["floors"])
            continue
        for key in ("uncached", "cached", "sql"):
            samples = pooled.setdefault(f"{key}_ms", [])
            samples.extend(view[f"{key}_ms"])
            pooled[f"{key}_median_ms"] = statistics.median(samples)
            pooled[f"{key}_p95_ms"] = percentile(samples, 0.95)


def _contention(env: dict[str, str], vendor: str, simulator_url: str) -> None:
    """Every page's p95 on the big dataset while a sync re-fetches 30 days into the same
    database (another organization's: the `large` scenario), the page cache off."""
    scale = _scale_env(env, vendor, SCALE[-1])
    if scale is None:
        _row(f"Pages while a sync writes ({vendor})", PG_SKIPPED, "—", False)
        return
    flag = BENCH_DIR / f"contention-{vendor}.flag"
    flag.touch()
    pages = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.contention_worker", str(flag)],
        cwd=ROOT, env=scale, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(5)  # signed in and warm before the sync starts
        _run(scale, "-m", "tests.benchmarks.backfill_worker", "refetch", simulator_url, "30")
    finally:
        flag.unlink(missing_ok=True)
    out, _ = pages.communicate(timeout=300)
    assert pages.returncode == 0
    for view in (json.loads(line) for line in out.splitlines() if line.startswith("{")):
        _row(
            f"{view['view']} ({vendor}) while a sync writes: p95 (max), cache off",
            f"{view['p95_ms']:.0f} ms ({view['max_ms']:.0f} ms), {view['requests']} requests",
            "≤ 300 ms",
            view["p95_ms"] <= 300,
        )


def _table() -> None:
    width = max(len(r[0]) for r in ROWS)
    print("\n\nUsage, cost and page benchmarks (issues 5 and 18)")
    print(f"{'measure'.ljust(width)}  {'measured':<34} {'target':<9} verdict")
    for measure, value, limit, verdict in ROWS:
        print(f"{measure.ljust(width)}  {value:<34} {limit:<9} {verdict}")
    assert all(r[3] in ("ok", "info") for r in ROWS), "some benchmarks missed their target"
