"""Service tier: the usage sync through a real Celery worker on Redis, against the simulator over
HTTP, with faults on purpose and a worker killed mid-run. It must converge to the simulator's
exact totals every time, with no duplicates.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from orgadmin.simulator import FaultConfig, create_app
from orgadmin.simulator.server import base_url, serve_in_thread

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
KEY = "sk-admin-reliability-0000000000000000000000"
HOUR, DAY = 3600, 86400

TOTALS = """
import json
from django.db.models import Count, Sum
from dashboard.families import FAMILIES
from dashboard.models import USAGE_MODELS, CostBucket
from orgadmin.models import SyncRun
from orgadmin.sync.runs import watermark_get
from orgadmin.models import Organization
import datetime as dt
cutoff = dt.datetime.fromtimestamp({cutoff}, dt.UTC)
org = Organization.objects.get()
out = {{"usage": {{}}, "low": {{}}, "runs": list(SyncRun.objects.filter(kind="usage")
       .order_by("started_at").values_list("status", flat=True))}}
for slug, model in USAGE_MODELS.items():
    rows = model.objects.filter(bucket_start__lt=cutoff)
    sums = rows.aggregate(**{{m: Sum(m) for m in FAMILIES[slug].metric_names}})
    out["usage"][slug] = {{k: int(v or 0) for k, v in sums.items()}}
    low = watermark_get(org=org, endpoint=FAMILIES[slug].endpoint + "#from")
    out["low"][slug] = low.timestamp()
    if slug == "vector_stores":
        per_day = (rows.values("bucket_start__date")
                   .annotate(level=Sum("usage_bytes"), hours=Count("bucket_start", distinct=True)))
        out["usage"][slug] = {{"usage_bytes": sum(r["level"] // r["hours"] for r in per_day)}}
costs = CostBucket.objects.filter(day__lt=cutoff.date())
out["costs"] = str(costs.aggregate(t=Sum("amount"))["t"])
out["cost_low"] = watermark_get(org=org, endpoint="costs#from").timestamp()
print("JSON" + json.dumps(out))
"""


def _broker_db() -> int:
    """Redis databases 12 and 13, or two lower per pytest-xdist worker (gw1: 10 and 11), so that
    two rigs at once never take each other's tasks; 14 and 15 are test_celery_worker's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    number = 12 - 2 * int(worker or 0)
    assert number >= 2, "more pytest-xdist workers than this shared Redis has databases for"
    return number


class Rig:
    """A simulator served over HTTP, a worker database, a Redis broker and Celery workers."""

    def __init__(
        self, tmp_path: Path, redis_url: str, faults: FaultConfig, days: int, **env: str
    ) -> None:
        self.app = create_app(scenario="demo", seed=0, admin_keys=[KEY], faults=faults)
        broker_db = _broker_db()
        self.server = serve_in_thread(self.app)
        self.env = {
            **os.environ,
            "READ_DOT_ENV": "false",
            "DEBUG": "false",
            "VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CELERY_BROKER_URL": f"{redis_url}/{broker_db}",
            "CELERY_RESULT_BACKEND": f"{redis_url}/{broker_db + 1}",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            # The test queues each run itself.
            "FIRST_SYNC_ON_WORKER_START": "false",
            "USAGE_BACKFILL_DAYS": str(days),
            "USAGE_SYNC_MAX_RETRIES": "6",
            "USAGE_SYNC_TIMEOUT": "10",
            "SYNC_LEASE_SECONDS": "4",
            "OPENAI_ADMIN_KEY": KEY,
            # The simulator on loopback, named as an operator would name a local one.
            "ALLOWED_API_HOSTS": base_url(self.server).removesuffix("/v1"),
            **env,
        }
        self.database_url = self.env["DATABASE_URL"]
        self.workers: list[subprocess.Popen] = []
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("org_add", "--name", "Simulator", "--base-url", base_url(self.server))
        subprocess.run(
            [str(VENV_BIN / "celery"), "-A", "dashboard", "purge", "-f"],
            cwd=ROOT, env=self.env, capture_output=True, check=False,
        )  # fmt: skip

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def start_worker(self) -> subprocess.Popen:
        worker = subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "dashboard", "worker", "-P", "solo", "-l", "WARNING"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.workers.append(worker)
        return worker

    def enqueue(self, *, wait: bool = True) -> str:
        code = (
            "import django; django.setup()\n"
            "from dashboard.tasks import sync_usage\n"
            "from orgadmin.models import Organization\n"
            "r = sync_usage.delay(Organization.objects.get().pk)\n"
            + ("print('RESULT', r.get(timeout=600))\n" if wait else "print('RESULT queued')\n")
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT, env={**self.env, "DJANGO_SETTINGS_MODULE": "dashboard.settings"},
            capture_output=True, text=True, timeout=700,
        )  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout.split("RESULT", 1)[1].strip()

    def sync_until_it_succeeds(self, attempts: int = 6) -> list[str]:
        results = []
        for _ in range(attempts):
            results.append(self.enqueue())
            if results[-1] == "succeeded":
                return results
            time.sleep(5)  # "busy": a dead run's lease runs out; "failed": the next run resumes
        pytest.fail(f"the sync never succeeded: {results}")

    def query(self, sql: str) -> list[tuple]:
        """Read the worker's database directly (SQLite or PostgreSQL)."""
        if self.database_url.startswith("sqlite:///"):
            import sqlite3

            with sqlite3.connect(self.database_url.removeprefix("sqlite:///")) as db:
                return db.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.database_url.replace("postgres://", "postgresql://")) as db:
            return db.execute(sql).fetchall()

    def wait_for_progress(self, timeout: float = 120) -> None:
        """Until the running sync has written some rows."""
        deadline = time.monotonic() + timeout
        progress = "SELECT rows_written FROM orgadmin_syncrun WHERE status = 'running'"
        while time.monotonic() < deadline:
            rows = self.query(progress)
            if rows and rows[0][0] > 0:
                return
            time.sleep(0.2)
        pytest.fail("the sync never got going")

    def totals(self, cutoff: int) -> dict:
        out = self.manage("shell", "-c", TOTALS.format(cutoff=cutoff))
        return json.loads(out.split("JSON", 1)[1])

    def close(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
        self.server.shutdown()


def _assert_converged(rig: Rig, cutoff: int) -> None:
    """Every complete hour and day before `cutoff` matches the simulator's ground truth."""
    got = rig.totals(cutoff)
    store = rig.app.store
    for slug, sums in got["usage"].items():
        truth = store.usage_totals(slug, int(got["low"][slug]), cutoff)
        for metric, value in sums.items():
            assert value == truth.get(metric, 0), f"{slug}.{metric}: {value} != {truth[metric]}"
    day_cutoff = cutoff // DAY * DAY
    cost_truth = store.cost_total(int(got["cost_low"]), day_cutoff)
    assert Decimal(got["costs"] if got["costs"] != "None" else 0) == cost_truth
    return got


def test_it_converges_with_a_fifth_of_the_requests_failing(tmp_path, redis_url):
    faults = FaultConfig(rate=0.2, seed=7, retry_after=1, slow_ms=1500)
    rig = Rig(tmp_path, redis_url, faults, days=6)
    try:
        cutoff = int(time.time()) // HOUR * HOUR
        rig.start_worker()
        results = rig.sync_until_it_succeeds()
        assert sum(rig.app.fault_counts.values()) > 0
        got = _assert_converged(rig, cutoff)
        assert got["runs"][-1] == "succeeded"
        # Again, with the faults still on: nothing moves (idempotent upserts, no duplicates).
        before = rig.totals(cutoff)
        rig.sync_until_it_succeeds()
        assert rig.totals(cutoff)["usage"] == before["usage"]
        assert rig.totals(cutoff)["costs"] == before["costs"]
        print(f"results {results}, faults {rig.app.fault_counts}")
    finally:
        rig.close()


def test_it_converges_after_a_worker_is_killed_mid_run(tmp_path, redis_url):
    # Slow answers so that the run is surely under way when the worker dies.
    rig = Rig(tmp_path, redis_url, FaultConfig(latency_ms=250), days=20)
    try:
        cutoff = int(time.time()) // HOUR * HOUR
        worker = rig.start_worker()
        assert rig.enqueue(wait=False) == "queued"
        deadline = time.monotonic() + 120
        progress = "SELECT rows_written FROM orgadmin_syncrun WHERE status = 'running'"
        import sqlite3

        while time.monotonic() < deadline:
            with sqlite3.connect(tmp_path / "db.sqlite3") as db:
                row = db.execute(progress).fetchone()
            if row and row[0] > 0:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the sync never got going")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        with sqlite3.connect(tmp_path / "db.sqlite3") as db:
            assert db.execute("SELECT status FROM orgadmin_syncrun").fetchone()[0] == "running"

        rig.start_worker()
        rig.sync_until_it_succeeds()

        got = _assert_converged(rig, cutoff)
        # The killed run is marked abandoned by the run that took over; the last one succeeded.
        assert got["runs"][0] == "abandoned"
        assert got["runs"][-1] == "succeeded"
    finally:
        rig.close()
