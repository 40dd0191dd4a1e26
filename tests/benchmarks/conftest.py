"""What every benchmark shares: a PostgreSQL database of its own, with no set-up.

`bench_pg_url("audit")` is the URL of a database that only the audit bench uses (created when
missing, kept between runs, so a dataset built once stays):

- on the server of BENCH_PG_URL when that is set (`…/dash_bench` gives `dash_bench_audit`);
- otherwise on a private cluster under var/bench/pg, made with the PostgreSQL binaries of this
  machine (/usr/lib/postgresql/*/bin) on first use, started on a free loopback port when a
  session first needs it and stopped when the last session using it ends (several `make bench`
  or pytest runs may share it; `bench_<name>` databases);
- `None` when neither is there: the bench then reports its PostgreSQL rows as
  `PG_SKIPPED` instead of passing them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import secrets
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / "var" / "bench"
PG_DIR = BENCH_DIR / "pg"
PG_SKIPPED = "skipped: no PostgreSQL"
PG_BINARIES = Path("/usr/lib/postgresql")


def bench_pg_url(name: str) -> str | None:
    """The URL of the PostgreSQL database dedicated to the `name` bench ("usage", "audit",
    "load"...), created if missing; None when there is no PostgreSQL to use."""
    server = os.environ.get("BENCH_PG_URL") or _cluster.url()
    if not server:
        return None
    parts = urlsplit(server.replace("postgres://", "postgresql://", 1))
    database = f"{parts.path.lstrip('/') or 'bench'}_{name}"
    _create_database(parts, database)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _create_database(parts, database: str) -> None:
    import psycopg

    # Any database of the server will do to create another: the one named, else `postgres`.
    errors = []
    for maintenance in (parts.path, "/postgres"):
        try:
            with psycopg.connect(
                urlunsplit(parts._replace(path=maintenance)), autocommit=True, connect_timeout=5
            ) as db:
                exists = db.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [database]
                ).fetchone()
                if not exists:
                    db.execute(f'CREATE DATABASE "{database}"')
                return
        except psycopg.OperationalError as error:
            errors.append(str(error).strip())
    pytest.fail(f"PostgreSQL at {parts.hostname}:{parts.port} refused us: {errors}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Cluster:
    """A private PostgreSQL cluster under var/bench/pg, started on demand.

    Every session using it holds a shared lock on var/bench/pg.users; the session that ends
    last (it alone can take that lock exclusively) stops it. Starting and stopping both happen
    under var/bench/pg.lock, so no session starts using it while another stops it.
    """

    def __init__(self) -> None:
        self.port: int | None = None
        self.tried = False
        self.using: TextIO | None = None

    def bin(self, program: str) -> Path | None:
        """The program of the installed PostgreSQL that made the cluster (else the newest)."""
        versions = sorted(
            (p.parent.parent.name for p in PG_BINARIES.glob("*/bin/initdb")),
            key=lambda v: float(v) if v.replace(".", "").isdigit() else 0.0,
        )
        made_by = PG_DIR / "PG_VERSION"
        if made_by.exists() and made_by.read_text().strip() in versions:
            versions.append(made_by.read_text().strip())
        return PG_BINARIES / versions[-1] / "bin" / program if versions else None

    def owner(self) -> str | None:
        """Who runs the server: ourselves, or `postgres` when we are root (initdb and the
        server refuse root); None when we are root and there is no `postgres` user."""
        if os.geteuid() != 0:
            return pwd.getpwuid(os.geteuid()).pw_name
        with contextlib.suppress(KeyError):
            return pwd.getpwnam("postgres").pw_name
        return None

    def run(self, *args: str | Path) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.owner(), "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def url(self) -> str | None:
        if self.port is None and not self.tried:
            self.tried = True
            if self.bin("initdb") is not None and self.owner() is not None:
                BENCH_DIR.mkdir(parents=True, exist_ok=True)
                with open(BENCH_DIR / "pg.lock", "w") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)  # one session creates or starts it
                    # Held for the session: the last session out alone can lock it exclusively.
                    self.using = open(BENCH_DIR / "pg.users", "w")  # noqa: SIM115
                    fcntl.flock(self.using, fcntl.LOCK_SH)
                    self.start()
        if self.port is None:
            return None
        password = quote((BENCH_DIR / "pg.password").read_text().strip(), safe="")
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/bench"

    def start(self) -> None:
        if os.geteuid() == 0:
            self.traversable(PG_DIR.parent)
        if not (PG_DIR / "PG_VERSION").exists():
            self.init()
        status = self.run(self.bin("pg_ctl"), "-D", PG_DIR, "status")
        if status.returncode == 0:  # started by another session, which may still use it
            self.port = int((PG_DIR / "postmaster.pid").read_text().splitlines()[3])
            return
        port = _free_port()
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        started = self.run(
            self.bin("pg_ctl"), "-D", PG_DIR, "-l", PG_DIR / "server.log", "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        if started.returncode != 0:
            log = PG_DIR / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            pytest.fail(f"the bench's PostgreSQL did not start: {started.stderr}\n{tail}")
        self.port = port

    def init(self) -> None:
        """initdb with a random password for `postgres` (kept in var/bench/pg.password, yours
        alone), reachable over loopback TCP only."""
        password_file = BENCH_DIR / "pg.password"
        if not password_file.exists():
            password_file.touch(mode=0o600)
            password_file.write_text(secrets.token_urlsafe(24))
        PG_DIR.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam(self.owner())
            os.chown(PG_DIR, owner.pw_uid, owner.pw_gid)
        # initdb reads the password from a file that its user can open (not our stdin pipe).
        with tempfile.NamedTemporaryFile("w", prefix="bench-pg-") as pwfile:
            pwfile.write(password_file.read_text().strip() + "\n")
            pwfile.flush()
            if os.geteuid() == 0:
                os.chown(pwfile.name, owner.pw_uid, owner.pw_gid)
            made = self.run(
                self.bin("initdb"), "-D", PG_DIR, "-U", "postgres", "--auth=scram-sha-256",
                f"--pwfile={pwfile.name}", "--encoding=UTF8", "--locale=C.UTF-8",
            )  # fmt: skip
        if made.returncode != 0:
            pytest.fail(f"initdb failed for var/bench/pg: {made.stdout}{made.stderr}")

    @staticmethod
    def traversable(folder: Path) -> None:
        """As root the server runs as `postgres`, which must pass through var/ and var/bench to
        reach its folder: both get the others' execute bit (not read: no listing), also after
        `make setup` made var/ 0700 again."""
        for path in (folder, *folder.parents):
            if path == ROOT.parent:
                break
            mode = path.stat().st_mode
            if not mode & stat.S_IXOTH:
                path.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)

    def stop(self) -> None:
        """Stop the cluster if this session used it and no other session still does."""
        if self.using is None:
            return
        with open(BENCH_DIR / "pg.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                fcntl.flock(self.using, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # another session still uses it: the last one out stops it
            else:
                self.run(self.bin("pg_ctl"), "-D", PG_DIR, "-m", "fast", "-w", "stop")
            self.using.close()
        self.using, self.port = None, None


_cluster = _Cluster()


@pytest.fixture(scope="session", autouse=True)
def _stop_the_private_cluster() -> Iterator[None]:
    """The private cluster stops when the last session that used it ends."""
    yield
    _cluster.stop()
