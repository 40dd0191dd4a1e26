"""Service tier: the usage sync keeps its promises when the infrastructure under it restarts.

- The Redis broker restarts while a worker runs the sync.
- The PostgreSQL server restarts while a worker runs the sync.

Each uses a server of its own (a redis-server on its own port, a PostgreSQL cluster in a temporary
directory), started and stopped here, so no other test's (or person's) connections are touched.
Afterwards the synced totals equal the simulator's ground truth: nothing lost, nothing duplicated,
no half-written run left as if it had succeeded.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from orgadmin.simulator import FaultConfig
from tests.conftest import need_service, only_in_the_service_tier
from tests.services.test_usage_reliability import HOUR, Rig, _assert_converged

pytestmark = pytest.mark.services


@pytest.fixture(autouse=True)
def _slow():
    only_in_the_service_tier()


REDIS_PORT = int(os.environ.get("TEST_OWN_REDIS_PORT", "6390"))
PG_PORT = int(os.environ.get("TEST_OWN_POSTGRES_PORT", "5440"))


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_port(port: int, *, open_: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _port_open(port) != open_:
        if time.monotonic() > deadline:
            pytest.fail(f"port {port} never became {'open' if open_ else 'closed'}")
        time.sleep(0.1)


class OwnRedis:
    """A redis-server on its own port with an append-only file, as docker-compose runs it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
             "--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "always",
             "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_port(REDIS_PORT, open_=True)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # a clean shutdown: the append-only file is complete
            self.process.wait(timeout=30)
        _wait_port(REDIS_PORT, open_=False)


@pytest.fixture
def own_redis(tmp_path):
    need_service(shutil.which("redis-server") is not None, "redis-server is not installed")
    need_service(not _port_open(REDIS_PORT), f"port {REDIS_PORT} is taken")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    path = found[-1] if found else shutil.which("initdb")
    return Path(path).parent if path else None


class OwnPostgres:
    """A PostgreSQL cluster in a temporary directory, on its own port (as the `postgres` user
    when we run as root, which initdb refuses to be)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="dash-p7-pg-"))
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")
        self.data = self.dir / "data"
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        assert out.returncode == 0, out.stdout + out.stderr

    def start(self) -> None:
        options = f"-p {PG_PORT} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                 str(self.dir / "log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{PG_PORT}/{database}"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres").replace("postgres://", "postgresql://"),
                             autocommit=True) as db:  # fmt: skip
            db.execute(f'CREATE DATABASE "{name}"')

    def remove(self) -> None:
        with contextlib.suppress(AssertionError):  # already stopped
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_postgres():
    bin_dir = _pg_bin()
    need_service(bin_dir is not None, "PostgreSQL's initdb is not installed")
    need_service(not _port_open(PG_PORT), f"port {PG_PORT} is taken")
    server = OwnPostgres(bin_dir)
    server.start()
    server.create_database("dash_p7_restart")
    yield server
    server.remove()


def _finish(rig: Rig, cutoff: int) -> dict:
    """Let the run under way end, then sync until a run succeeds; return the converged totals."""
    deadline = time.monotonic() + 300
    while rig.query("SELECT 1 FROM orgadmin_syncrun WHERE status = 'running'"):
        if time.monotonic() > deadline:
            break  # a run that died holding the lease: the next one takes over once it expires
        time.sleep(0.5)
    rig.sync_until_it_succeeds(attempts=10)
    got = _assert_converged(rig, cutoff)
    assert got["runs"][-1] == "succeeded"
    assert "running" not in got["runs"], got["runs"]
    return got


def test_it_converges_when_the_broker_restarts_mid_run(tmp_path, own_redis):
    broker = f"redis://127.0.0.1:{REDIS_PORT}"
    rig = Rig(
        tmp_path, broker, FaultConfig(latency_ms=250), days=20,
        CELERY_BROKER_URL=f"{broker}/0", CELERY_RESULT_BACKEND=f"{broker}/1",
    )  # fmt: skip
    try:
        cutoff = int(time.time()) // HOUR * HOUR
        worker = rig.start_worker()
        assert rig.enqueue(wait=False) == "queued"
        rig.wait_for_progress()
        own_redis.stop()
        time.sleep(3)  # the worker notices: its connection to the broker is gone
        own_redis.start()

        got = _finish(rig, cutoff)
        # The same worker reconnected and ran the later syncs: nobody had to restart it.
        assert worker.poll() is None
        assert len(rig.workers) == 1
        print(f"broker restart: runs {got['runs']}")
    finally:
        rig.close()


def test_it_converges_when_the_database_restarts_mid_run(tmp_path, redis_url, own_postgres):
    rig = Rig(
        tmp_path, redis_url, FaultConfig(latency_ms=250), days=20,
        DATABASE_URL=own_postgres.url("dash_p7_restart"),
    )  # fmt: skip
    try:
        cutoff = int(time.time()) // HOUR * HOUR
        worker = rig.start_worker()
        assert rig.enqueue(wait=False) == "queued"
        rig.wait_for_progress()
        own_postgres.stop()  # fast: every open connection is cut mid-transaction
        time.sleep(3)
        own_postgres.start()

        got = _finish(rig, cutoff)
        assert worker.poll() is None  # the worker reconnected by itself
        print(f"database restart: runs {got['runs']}")
    finally:
        rig.close()
