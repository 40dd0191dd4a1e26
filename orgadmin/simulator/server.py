"""Serve a `SimulatorApp` over HTTP with the standard library's threaded WSGI server."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from orgadmin.simulator.faults import ConnectionDropped
from orgadmin.simulator.quirks import Quirks

log = logging.getLogger(__name__)
DEFAULT_PORT = 8001
# How django-environ (and so the settings) spell true: `DEBUG` means the same in both entry points.
_TRUE = frozenset({"true", "on", "ok", "y", "yes", "1"})


class RefusedToServe(Exception):
    """The simulator won't start: with `DEBUG` off it could pass for the real API."""


class _Handler(ServerHandler):
    """Closes the socket without a byte of answer when the app drops the connection."""

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], ConnectionDropped):
            self.request_handler.close_connection = True
            with contextlib.suppress(OSError):
                self.request_handler.connection.shutdown(socket.SHUT_RDWR)
            return
        super().handle_error()

    def log_exception(self, exc_info: Any) -> None:
        if not isinstance(exc_info[1], ConnectionDropped):
            super().log_exception(exc_info)


class _RequestHandler(WSGIRequestHandler):
    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _Handler(
            self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per connection; threads don't keep the process alive."""

    daemon_threads = True
    allow_reuse_address = True


def make_server(app: Any, host: str = "127.0.0.1", port: int = 8001) -> ThreadingWSGIServer:
    """A threaded HTTP server for `app`; `port=0` picks a free port."""
    server = ThreadingWSGIServer((host, port), _RequestHandler)
    server.set_app(app)
    return server


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> ThreadingWSGIServer:
    """Start a server on a background thread (for tests); stop it with `server.shutdown()`."""
    server = make_server(app, host, port)
    threading.Thread(target=server.serve_forever, daemon=True, name="simulator").start()
    return server


def base_url(server: ThreadingWSGIServer) -> str:
    """The base URL to give the SDK, e.g. `http://127.0.0.1:8001/v1`."""
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/v1"


def configured_admin_key() -> str:
    """`SIMULATOR_ADMIN_KEY` as this process sees it ("" when unset).

    The one reading of it: the simulator (`run`) and `manage.py demo_setup`, which registers the
    demo connection, both use it, so they agree. Under Django the settings have already read
    `.env` into the environment without overriding it: the environment's key, else `.env`'s.
    """
    return os.environ.get("SIMULATOR_ADMIN_KEY", "").strip()


def debug_from_environment() -> bool:
    """`DEBUG` as this process's environment has it: what `python -m orgadmin.simulator`, which
    has no Django settings, goes by (off unless set, as in the settings)."""
    return os.environ.get("DEBUG", "").strip().lower() in _TRUE


def refusal(
    *,
    debug: bool,
    force: bool,
    key: str,
    default_key: str | None = None,
    api: str = "OpenAI Admin API",
    key_kind: str = "admin key",
    key_source: str = "SIMULATOR_ADMIN_KEY (or --admin-key)",
) -> str | None:
    """Why a simulator must not serve with this `DEBUG`, `--force` and key; None if it may.

    Shared by both simulators: `default_key` (the OpenAI one's unless given) is the public key
    that is never served outside DEBUG; `api`, `key_kind` and `key_source` word the refusal.
    """
    from orgadmin.simulator import DEFAULT_ADMIN_KEY

    if debug:
        return None
    if not force:
        return (
            f"Refusing to serve: DEBUG is off. The simulator is a fake {api} with "
            "made-up data, for the local demo and tests; a production dashboard must never reach "
            "it. Set DEBUG=true for local use, or pass --force if you really mean to serve it."
        )
    if key == (default_key or DEFAULT_ADMIN_KEY):
        return (
            f"Refusing to serve with the public default {key_kind} while DEBUG is off, even with "
            f"--force: anyone who has read the source knows it. Set {key_source} to a key of "
            "your own."
        )
    return None


def configured_port() -> int:
    """`SIMULATOR_PORT` as this process sees it (read like `configured_admin_key`), else 8001."""
    value = os.environ.get("SIMULATOR_PORT", "").strip()
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise ValueError(f"SIMULATOR_PORT must be a port number, not {value!r}.")
    return int(value)


def quirks_line(quirks: Quirks) -> str:
    """The startup line naming the live-API behaviours on."""
    on = []
    for name in Quirks.names():
        value = getattr(quirks, name)
        if value is True:
            on.append(name)
        elif value:
            on.append(f"{name}={value}")
    if not on:
        return "Live-API quirks: none (the spec's behaviour; --quirks live for the real API's)"
    return f"Live-API quirks: {', '.join(on)} (--quirks none for the spec's behaviour)"


def _about(app: Any, key: str, key_permissions: str | None, *, default_key: str) -> list[str]:
    """What the console says of the admin key and of the spikes planted."""
    if key == default_key:
        lines = [f"Admin key: {key} (set SIMULATOR_ADMIN_KEY to choose another)"]
    else:
        lines = ["Admin key: the one you gave (--admin-key or SIMULATOR_ADMIN_KEY)"]
    if key_permissions:
        lines.append(f"The admin key's permissions: {key_permissions}")
    for surge in app.surges:
        lines.append(
            f"Spike: key {surge.key_id} x{surge.factor:g} on the {surge.days} days to yesterday"
        )
    return lines


def run(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    scenario: str = "demo",
    seed: int = 0,
    fault_rate: float = 0.0,
    latency_ms: int = 0,
    admin_key: str | None = None,
    quirks: Quirks | None = None,
    key_permissions: str | None = None,
    surges: tuple[Any, ...] = (),
    debug: bool,
    force: bool = False,
    write: Any = print,
    warn: Any = None,
) -> None:
    """Build a scenario and serve it until interrupted (the management command's body).

    The key is `admin_key`, else `SIMULATOR_ADMIN_KEY`, else `DEFAULT_ADMIN_KEY`; the port is
    `port`, else `SIMULATOR_PORT`, else 8001; `quirks` defaults to none (the spec's behaviour).
    `key_permissions` restricts the key ("read_only", "audit_log=none,members=read", …).
    With `debug` off it raises `RefusedToServe`, unless `force`d, and never takes the default key.
    """
    from orgadmin.simulator import DEFAULT_ADMIN_KEY, FaultConfig, create_app

    key = admin_key or configured_admin_key() or DEFAULT_ADMIN_KEY
    reason = refusal(debug=debug, force=force, key=key)
    if reason:
        raise RefusedToServe(reason)
    if not debug:
        (warn or (lambda line: print(line, file=sys.stderr)))(
            "WARNING: serving the OpenAI Admin API simulator with DEBUG off (--force). It answers "
            "like the real API with made-up data: never point a production dashboard at it."
        )
    quirks = quirks or Quirks()
    app = create_app(
        scenario=scenario,
        seed=seed,
        admin_keys=[key],
        faults=FaultConfig(rate=fault_rate, latency_ms=latency_ms, seed=seed),
        quirks=quirks,
        key_permissions={key: key_permissions} if key_permissions else None,
        surges=surges,
    )
    server = make_server(app, host, configured_port() if port is None else port)
    write(f"OpenAI Admin API simulator: scenario {scenario!r}, seed {seed}, faults {fault_rate}")
    write(f"Base URL: {base_url(server)}")
    for line in _about(app, key, key_permissions, default_key=DEFAULT_ADMIN_KEY):
        write(line)
    write(quirks_line(quirks))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
