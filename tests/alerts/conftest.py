"""Real local receivers for alert channels: an SMTP server (aiosmtpd) and an HTTP server (the
standard library's, in a thread), each on a free port of 127.0.0.1, started by the test itself."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from orgadmin.access import Role
from tests.factories import OrganizationFactory, UserFactory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook
        self.envelopes.append(envelope)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@dataclass
class SMTPServer:
    port: int
    inbox: _Inbox


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SMTPServer(port, inbox)
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP receiver answering each POST with the next status of `script` (the last one
    once the script runs out), recording what it got."""

    url: str
    script: list[int]
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    port = free_port()
    state = Receiver(url=f"http://127.0.0.1:{port}/hooks/alerts", script=[200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            index = min(len(state.received) - 1, len(state.script) - 1)
            status = state.script[index]
            answer = b"ok" if status < 300 else b"receiver is down"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def alert_settings(settings):
    """Plain http to the local receiver; retries with no wait (Celery runs eagerly in tests)."""
    settings.ALERT_WEBHOOK_HTTP_HOSTS = ["127.0.0.1"]
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 5
    settings.ALERT_CHANNEL_FLAG_AFTER = 1
    return settings


@pytest.fixture
def acme(db):
    return OrganizationFactory(name="Acme")


@pytest.fixture
def admin_of_all(db):
    return UserFactory(username="alice-admin", role=Role.ADMIN)
