"""The load rig: gunicorn + PostgreSQL with the `large` scenario synced, loaded by wrk.

Used by the load bench (`make bench`: the Costs page against a signed-in view that does nothing,
50 connections for 60 s each) and by the short form in the CI service tier
(tests/services/test_load.py: a signed-in Admin browsing Costs, Usage, Members and the Audit
log). wrk runs in its own process on loopback. Every answer is checked by wrk's Lua script: it
counts as a success only if it is a 200 whose body holds the marker of a page asked for (so a
302 to the sign-in page, a 403 or a page without its data is an error).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
KEY = "sk-admin-load-test-000000000000000000000000"
DATABASE = "dash_p7_load"
# What only each real page holds: its chart or its results (not the sign-in page, not an error).
COSTS_MARKER = 'id="chart-costs"'
COSTS = [
    ("/costs/?preset=30d&group_by=line_item", COSTS_MARKER),
    ("/costs/?preset=90d&group_by=project_id", COSTS_MARKER),
]
PAGES = [
    *COSTS,
    ("/usage/?family=completions&preset=30d", 'id="chart-usage"'),
    ("/usage/?family=completions&preset=7d&bucket_width=1h", 'id="chart-usage"'),
    ("/members/", 'id="member-live"'),
    ("/members/?q=a", 'id="member-live"'),
    ("/audit-log/", 'id="results-title"'),
    ("/audit-log/?page=2", 'id="results-title"'),
]

WRK_SCRIPT = """
-- Each connection is a signed-in Admin going round the paths. An answer is a success only if
-- it is a 200 whose body holds one of the markers; `done` prints the figures.
local paths = {%(paths)s}
local markers = {%(markers)s}
local cookies = {%(cookies)s}
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  n = id
  cookie = cookies[(id - 1) %% #cookies + 1]
  good, wrong_status, wrong_body, statuses = 0, 0, 0, ""
end
function request()
  n = n + 1
  return wrk.format("GET", paths[n %% #paths + 1], {["Cookie"] = cookie})
end
local function is_the_page(body)
  for _, marker in ipairs(markers) do
    if string.find(body, marker, 1, true) then return true end
  end
  return false
end
function response(status, headers, body)
  if status ~= 200 then
    wrong_status = wrong_status + 1
    if #statuses < 200 then statuses = statuses .. status .. " " end
  elseif not is_the_page(body) then
    wrong_body = wrong_body + 1
  else
    good = good + 1
  end
end
function done(summary, latency, requests)
  local good_, status_, body_, seen = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    good_ = good_ + thread:get("good")
    status_ = status_ + thread:get("wrong_status")
    body_ = body_ + thread:get("wrong_body")
    seen = seen .. thread:get("statuses")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %%d, "seconds": %%.3f, "good": %%d, "wrong_status": %%d,'
    .. ' "wrong_body": %%d, "statuses": "%%s", "connect": %%d, "read": %%d, "write": %%d,'
    .. ' "timeout": %%d, "p50_ms": %%.1f, "p95_ms": %%.1f, "p99_ms": %%.1f, "max_ms": %%.1f,'
    .. ' "mean_ms": %%.1f}\\n',
    summary.requests, summary.duration / 1e6, good_, status_, body_, seen, e.connect, e.read,
    e.write, e.timeout, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str | None:
    """A database of our own on the PostgreSQL server that DATABASE_URL names."""
    url = os.environ.get("LOAD_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://dashboard:dashboard@127.0.0.1:5432/dashboard"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{DATABASE}"))


def _pg_up(url: str) -> bool:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres")).replace(
        "postgres://", "postgresql://", 1
    )
    try:
        with psycopg.connect(admin, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


class LoadRig:
    """The `large` simulator over HTTP, a PostgreSQL database synced from it, and gunicorn.

    `database_url`: the database to use, recreated (the load bench passes its own, see
    tests/benchmarks/conftest.py); by default `dash_p7_load` on DATABASE_URL's server.
    """

    def __init__(
        self, *, usage_days: int, audit_days: int, workers: int = 4, database_url: str = ""
    ) -> None:
        from orgadmin.simulator import create_app
        from orgadmin.simulator.server import base_url, serve_in_thread

        self.database_url = database_url or _database_url()
        need_service(shutil.which("wrk") is not None, "wrk is not installed (apt-get install wrk)")
        need_service(_pg_up(self.database_url), f"PostgreSQL is not reachable for {DATABASE}")
        self._recreate_database()
        self.tmp = Path(tempfile.mkdtemp(prefix="dash-load-"))
        self.port = _free_port()
        self.env = {
            **os.environ,
            "READ_DOT_ENV": "false",
            "DEBUG": "false",
            "HTTPS": "false",
            "VAR_DIR": str(self.tmp),
            "DATABASE_URL": self.database_url,
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "OPENAI_ADMIN_KEY": KEY,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        started = time.monotonic()
        # The in-process simulator logs every request: thousands of lines in `make bench -s`.
        logging.getLogger("orgadmin.simulator.server").setLevel(logging.WARNING)
        self.app = create_app(scenario="large", seed=0, admin_keys=[KEY])
        self.server = serve_in_thread(self.app)
        self.gunicorn: subprocess.Popen | None = None
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("collectstatic", "--noinput", "-v", "0")
        self.env["ALLOWED_API_HOSTS"] = base_url(self.server).removesuffix("/v1")
        self.manage("org_add", "--name", "Large", "--base-url", base_url(self.server))
        self.manage("sync_directory", "--org", "Large")
        self.manage("sync_usage", "--org", "Large", "--days", str(usage_days))
        self.manage("sync_audit_logs", "--org", "Large", "--days", str(audit_days))
        self.cookies = self._sessions(8)
        self.data = self.rows()
        self.setup_seconds = time.monotonic() - started
        self._start_gunicorn(workers)

    def _recreate_database(self) -> None:
        import psycopg

        parts = urlsplit(self.database_url.replace("postgres://", "postgresql://", 1))
        name = parts.path.lstrip("/")
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{name}"')

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def _sessions(self, n: int) -> list[str]:
        """Sign in n Admins (one per wrk thread); their session cookies."""
        code = (
            "from django.test import Client\n"
            "from orgadmin.access import Role\n"
            "from tests.factories import UserFactory\n"
            f"for i in range({n}):\n"
            "    c = Client()\n"
            "    c.force_login(UserFactory(username=f'load-admin-{i}', role=Role.ADMIN))\n"
            "    print('SESSION', c.cookies['sessionid'].value)\n"
        )
        out = self.manage("shell", "-c", code)
        return [line.split()[1] for line in out.splitlines() if line.startswith("SESSION ")]

    def _start_gunicorn(self, workers: int) -> None:
        # The project as dashboard.wsgi serves it, plus the bench's view that does nothing.
        self.gunicorn = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "tests.benchmarks.load_wsgi",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--threads", "4",
             "--timeout", "120", "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("gunicorn never listened")
        # Every page is itself for a signed-in Admin before the load starts: a 200, not a
        # redirect, with its marker (else the Lua script would count every answer as an error).
        from tests.benchmarks.load_wsgi import NOTHING_MARKER, NOTHING_PATH

        for path, marker in [*PAGES, (NOTHING_PATH, NOTHING_MARKER)]:
            status, body = self.get(path)
            assert status == 200, (path, status)
            assert marker in body, f"{path} has no {marker!r}: {body[:300]}"

    def get(self, path: str) -> tuple[int, str]:
        """One signed-in GET, redirects not followed: its status and body."""

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            headers={"Cookie": f"sessionid={self.cookies[0]}"},
        )
        try:
            with urllib.request.build_opener(NoRedirect).open(request, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def wrk(
        self,
        *,
        connections: int,
        seconds: int,
        threads: int = 4,
        pages: list[tuple[str, str]] = PAGES,
    ) -> dict:
        """`connections` signed-in clients going round `pages` (path, marker) for `seconds`."""
        lua = self.tmp / "load.lua"
        lua.write_text(
            WRK_SCRIPT
            % {
                "paths": ", ".join(json.dumps(path) for path, _ in pages),
                "markers": ", ".join(json.dumps(m) for m in sorted({m for _, m in pages})),
                "cookies": ", ".join(json.dumps(f"sessionid={c}") for c in self.cookies),
            }
        )
        load_average = os.getloadavg()[0]
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
             "--timeout", "60s", "-s", str(lua), f"http://127.0.0.1:{self.port}/"],
            capture_output=True, text=True, timeout=seconds + 120,
        )  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
        line = next(x for x in out.stdout.splitlines() if x.startswith("WRK "))
        result = json.loads(line[4:])
        result["rps"] = result["good"] / result["seconds"]
        result["connections"] = connections
        result["load_average"] = load_average  # the machine's 1-minute load as the run began
        result["errors"] = errors(result)
        return result

    def rows(self) -> dict[str, int]:
        code = (
            "import json\n"
            "from dashboard.models import USAGE_MODELS, CostBucket\n"
            "from orgadmin.models import AuditEvent, OrgUser\n"
            "print('JSON' + json.dumps({'usage rows': sum(m.objects.count() for m in"
            " USAGE_MODELS.values()), 'cost rows': CostBucket.objects.count(),"
            " 'audit events': AuditEvent.objects.count(), 'members': OrgUser.objects.count()}))\n"
        )
        return json.loads(self.manage("shell", "-c", code).split("JSON", 1)[1])

    def close(self) -> None:
        if self.gunicorn and self.gunicorn.poll() is None:
            self.gunicorn.terminate()
            try:
                self.gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.gunicorn.kill()
        self.server.shutdown()
        shutil.rmtree(self.tmp, ignore_errors=True)


def errors(result: dict) -> int:
    """Every answer that is not the page asked for, and every request that got no answer."""
    unanswered = sum(result[kind] for kind in ("connect", "read", "write", "timeout"))
    return result["wrong_status"] + result["wrong_body"] + unanswered


def report(title: str, rig: LoadRig, result: dict) -> str:
    statuses = sorted(set(result["statuses"].split()))
    return (
        f"{title}: {result['connections']} connections for {result['seconds']:.0f} s, "
        f"{result['good']} good answers of {result['requests']} ({result['rps']:.1f}/s), "
        f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
        f"p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms; "
        f"errors {result['errors']}: not 200 {result['wrong_status']}"
        f"{' (' + ', '.join(statuses) + ')' if statuses else ''}, "
        f"200 without the page {result['wrong_body']}, socket connect {result['connect']} "
        f"read {result['read']} write {result['write']} timeout {result['timeout']}; "
        f"data {rig.data}, set-up {rig.setup_seconds:.0f} s, "
        f"load average {result['load_average']:.1f} as it began"
    )


def assert_clean(result: dict) -> None:
    """Something was served, and every answer was the page asked for."""
    assert result["good"] > 0, result
    assert result["good"] + result["wrong_status"] + result["wrong_body"] == result["requests"]
    assert result["errors"] == 0, result
