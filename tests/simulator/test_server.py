"""Serving over HTTP: `python -m orgadmin.simulator` and the `simulate_openai` command."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from orgadmin.simulator import __main__ as cli
from orgadmin.simulator import server as server_module
from orgadmin.simulator.quirks import LIVE_REVISION_HOURS, Quirks
from orgadmin.simulator.server import base_url, serve_in_thread
from tests.simulator.support import KEY, make_app

ROOT = Path(__file__).resolve().parents[2]


def test_it_serves_the_sdk_over_http_with_request_ids() -> None:
    server = serve_in_thread(make_app())
    try:
        client = openai.OpenAI(admin_api_key=KEY, base_url=base_url(server), max_retries=0)
        response = client.admin.organization.projects.with_raw_response.list(limit=2)
        assert response.headers["x-request-id"].startswith("req_")
        assert len(response.parse().data) == 2
    finally:
        server.shutdown()
        server.server_close()


def test_it_runs_from_the_command_line_with_the_key_from_the_environment() -> None:
    env = {
        **os.environ,
        "SIMULATOR_ADMIN_KEY": "sk-admin-from-env-0000",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "orgadmin.simulator", "--port", "0", "--seed", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        url = next(line.split()[-1] for line in lines if line.startswith("Base URL:"))
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/v1")
        assert not any("sk-admin-from-env" in line for line in lines)  # keys stay off the screen
        client = openai.OpenAI(admin_api_key="sk-admin-from-env-0000", base_url=url)
        assert client.admin.organization.users.list(limit=1).data
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_it_offers_a_management_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import django
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command

    try:
        assert "orgadmin" in str(settings.INSTALLED_APPS)
    except ImproperlyConfigured:
        pytest.skip("Django settings are not configured in this run")
    django.setup()

    from orgadmin.management.commands import simulate_openai

    seen: dict[str, object] = {}
    monkeypatch.setattr(simulate_openai, "run", lambda **kwargs: seen.update(kwargs))
    call_command("simulate_openai", "--port", "8123", "--scenario", "large", "--faults", "0.1")
    assert seen["port"] == 8123
    assert seen["scenario"] == "large"
    assert seen["fault_rate"] == 0.1
    assert seen["admin_key"] is None  # taken from SIMULATOR_ADMIN_KEY, or the default
    assert seen["quirks"] == Quirks.live()  # the demo serves what the real API does
    assert (seen["debug"], seen["force"]) == (settings.DEBUG, False)

    call_command("simulate_openai", "--quirks", "none", "--strict-costs")
    assert seen["quirks"] == Quirks(strict_costs=True)


@pytest.mark.parametrize(
    ("argv", "quirks"),
    [
        ([], Quirks.live()),
        (["--strict-costs"], Quirks.live(strict_costs=True)),
        (["--quirks", "none"], Quirks()),
        (["--quirks", "none", "--strict-costs"], Quirks(strict_costs=True)),
    ],
)
def test_it_takes_the_quirks_from_the_command_line(monkeypatch, argv, quirks) -> None:
    monkeypatch.setenv("DEBUG", "true")
    seen: dict[str, object] = {}
    monkeypatch.setattr(cli, "run", lambda **kwargs: seen.update(kwargs))
    cli.main(argv)
    assert seen["quirks"] == quirks
    with pytest.raises(SystemExit):
        cli.main(["--quirks", "some"])


class _Server:
    def __init__(self, app, host: str, port: int) -> None:
        self.app, self.server_address = app, (host, port)

    def serve_forever(self) -> None:
        raise KeyboardInterrupt  # Ctrl-C at once

    def server_close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("quirks", "line"),
    [
        (
            Quirks.live(),
            "Live-API quirks: string_amounts, live_buckets, "
            f"revision_hours={LIVE_REVISION_HOURS}, live_audit_shapes "
            "(--quirks none for the spec's behaviour)",
        ),
        (
            Quirks(strict_costs=True),
            "Live-API quirks: strict_costs (--quirks none for the spec's behaviour)",
        ),
        (
            Quirks(),
            "Live-API quirks: none (the spec's behaviour; --quirks live for the real API's)",
        ),
    ],
)
def test_it_serves_the_quirks_it_was_given_and_says_which(monkeypatch, quirks, line) -> None:
    made: list[_Server] = []
    monkeypatch.setattr(
        server_module, "make_server", lambda *a: made.append(_Server(*a)) or made[-1]
    )
    lines: list[str] = []

    server_module.run(port=0, seed=2, quirks=quirks, debug=True, write=lines.append)

    assert made[0].app.quirks == quirks
    assert lines[1].startswith("Base URL: ")
    assert lines[-1] == line


def test_it_serves_concurrent_requests_consistently() -> None:
    app = make_app()
    server = serve_in_thread(app)
    try:
        url = base_url(server)

        def work(n: int) -> str:
            client = openai.OpenAI(admin_api_key=KEY, base_url=url, max_retries=0)
            org = client.admin.organization
            group = org.groups.create(name=f"Load {n}")
            org.usage.completions(start_time=1_789_000_000, limit=3)
            return group.id

        with ThreadPoolExecutor(max_workers=8) as pool:
            created = list(pool.map(work, range(16)))
        assert len(set(created)) == 16
        names = {g.name for g in app.store.groups.values()}
        assert {f"Load {n}" for n in range(16)} <= names
        assert len(app.store.audit.events()) == len(set(app.store.audit_event_ids()))
    finally:
        server.shutdown()
        server.server_close()


# --- it can't pass for production -------------------------------------------------------------


@pytest.fixture
def served(monkeypatch) -> list[_Server]:
    """The servers `run` would start, without serving; no SIMULATOR_ADMIN_KEY set."""
    made: list[_Server] = []
    monkeypatch.setattr(
        server_module, "make_server", lambda *a: made.append(_Server(*a)) or made[-1]
    )
    monkeypatch.delenv("SIMULATOR_ADMIN_KEY", raising=False)
    return made


@pytest.mark.parametrize("debug", [None, "false", "0", "no", ""])
def test_it_refuses_to_serve_from_the_command_line_with_debug_off(
    monkeypatch, capsys, served, debug
) -> None:
    if debug is None:
        monkeypatch.delenv("DEBUG", raising=False)
    else:
        monkeypatch.setenv("DEBUG", debug)
    with pytest.raises(SystemExit) as exited:
        cli.main(["--port", "0"])
    assert exited.value.code == 2
    assert "Refusing to serve: DEBUG is off" in capsys.readouterr().err
    assert not served


def test_it_refuses_its_public_default_key_outside_debug_even_when_forced(
    monkeypatch, capsys, served
) -> None:
    from orgadmin.simulator import DEFAULT_ADMIN_KEY

    monkeypatch.setenv("DEBUG", "false")
    for argv in (["--force"], ["--force", "--admin-key", DEFAULT_ADMIN_KEY]):
        with pytest.raises(SystemExit):
            cli.main([*argv, "--port", "0"])
        assert "public default admin key" in capsys.readouterr().err
    monkeypatch.setenv("SIMULATOR_ADMIN_KEY", DEFAULT_ADMIN_KEY)
    with pytest.raises(SystemExit):
        cli.main(["--force", "--port", "0"])
    assert not served


def test_it_serves_outside_debug_only_when_forced_with_its_own_key_and_says_so_loudly(
    monkeypatch, capsys, served
) -> None:
    from orgadmin.simulator import DEFAULT_ADMIN_KEY

    monkeypatch.setenv("DEBUG", "false")
    monkeypatch.setenv("SIMULATOR_ADMIN_KEY", "sk-admin-chosen-for-this-0000")
    cli.main(["--force", "--port", "0"])
    assert len(served) == 1
    out = capsys.readouterr()
    assert "WARNING: serving the OpenAI Admin API simulator with DEBUG off (--force)" in out.err
    assert "sk-admin-chosen" not in out.out + out.err
    store = served[0].app.store
    assert store.authenticate("sk-admin-chosen-for-this-0000", 0) is not None
    assert store.authenticate(DEFAULT_ADMIN_KEY, 0) is None


def test_it_serves_the_demo_with_debug_on_and_its_default_key(monkeypatch, capsys, served):
    """What the local demo and `make bench` do (DEBUG=true in `.env` or the environment)."""
    from orgadmin.simulator import DEFAULT_ADMIN_KEY

    monkeypatch.setenv("DEBUG", "true")
    cli.main(["--port", "0"])
    assert served[0].app.store.authenticate(DEFAULT_ADMIN_KEY, 0) is not None
    assert "WARNING" not in capsys.readouterr().err


def test_the_management_command_goes_by_the_settings_debug(settings, served) -> None:
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing to serve: DEBUG is off"):
        call_command("simulate_openai", "--port", "0")
    with pytest.raises(CommandError, match="public default admin key"):
        call_command("simulate_openai", "--port", "0", "--force")
    assert not served
    err = io.StringIO()
    call_command(
        "simulate_openai", "--port", "0", "--force", "--admin-key", "sk-admin-x-1", stderr=err
    )
    assert "WARNING: serving" in err.getvalue()
    settings.DEBUG = True
    call_command("simulate_openai", "--port", "0", stdout=io.StringIO())
    assert len(served) == 2
