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

log = logging.getLogger(__name__)


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


def run(
    *,
    host: str = "127.0.0.1",
    port: int = 8001,
    scenario: str = "demo",
    seed: int = 0,
    fault_rate: float = 0.0,
    latency_ms: int = 0,
    admin_key: str | None = None,
    write: Any = print,
) -> None:
    """Build a scenario and serve it until interrupted (the management command's body)."""
    from orgadmin.simulator import DEFAULT_ADMIN_KEY, FaultConfig, create_app

    key = admin_key or os.environ.get("SIMULATOR_ADMIN_KEY") or DEFAULT_ADMIN_KEY
    app = create_app(
        scenario=scenario,
        seed=seed,
        admin_keys=[key],
        faults=FaultConfig(rate=fault_rate, latency_ms=latency_ms, seed=seed),
    )
    server = make_server(app, host, port)
    write(f"OpenAI Admin API simulator: scenario {scenario!r}, seed {seed}, faults {fault_rate}")
    write(f"Base URL: {base_url(server)}")
    if key == DEFAULT_ADMIN_KEY:
        write(f"Admin key: {key} (set SIMULATOR_ADMIN_KEY to choose another)")
    else:
        write("Admin key: the one you gave (SIMULATOR_ADMIN_KEY or --admin-key)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
