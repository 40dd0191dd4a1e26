"""A connection's base URL can't be turned against us: only allowed API hosts, over https, at
public addresses unless listed, and a host that isn't allowed never has its answer shown."""

from __future__ import annotations

import html
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import openai
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from orgadmin.client import OrgAPIError, api_errors, install_transport
from orgadmin.models import ActionLog, Organization
from orgadmin.simulator import create_app
from orgadmin.simulator.server import serve_in_thread
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.factories import OrganizationFactory

ROOT = Path(__file__).resolve().parents[2]
SECRET_BODY = "INTERNAL-ONLY: db_password=hunter2"


@pytest.fixture
def connects(monkeypatch) -> list[tuple[str, int]]:
    """Every socket connection this process tries: none gets through, each is recorded."""
    tried: list[tuple[str, int]] = []

    def connect(self, address):
        tried.append(address[:2])
        raise ConnectionRefusedError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    return tried


@pytest.fixture
def dns(monkeypatch) -> dict[str, list[str]]:
    """A DNS of our own: `dns["name"] = ["10.0.0.5"]`; other names resolve as usual."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            return real(host, port, *args, **kwargs)
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in table[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


class _Answering:
    """A WSGI app standing in for whatever answers at a URL: records calls, answers `body`."""

    def __init__(self, status: str = "500 Internal Server Error", headers=(), body=None) -> None:
        self.calls: list[str] = []
        self.status, self.headers = status, list(headers)
        self.body = body if body is not None else {"error": {"message": SECRET_BODY}}

    def __call__(self, environ, start_response):
        self.calls.append(environ["PATH_INFO"])
        start_response(
            self.status,
            [("Content-Type", "application/json"), ("x-request-id", "req_inside"), *self.headers],
        )
        return [json.dumps(self.body).encode()]


def _add(client, base_url: str):
    return client.post(
        reverse("orgadmin:connections"),
        {"name": "Acme", "base_url": base_url, "admin_key": SIM_ADMIN_KEY},
    )


def _page(response) -> str:
    return html.unescape(response.content.decode())


REFUSED = {
    # A ? or # would take over the path the SDK appends, e.g. to /internal?x=/organization/...
    "query": ("https://api.openai.com/internal?x=", "can't have a query"),
    "bare question mark": ("https://api.openai.com/v1?", "can't have a query"),
    "fragment": ("https://api.openai.com/v1#", "or a fragment"),
    "user info": ("https://user:pw@api.openai.com/v1", "user name or password"),
    "user info hiding the host": ("https://api.openai.com@10.0.0.5/v1", "user name or password"),
    "plain http with DEBUG off": ("http://api.openai.com/v1", "Use https"),
    "another port of an allowed host": ("https://api.openai.com:8443/v1", "not an allowed API"),
    "a host not listed": ("https://gateway.example.com/v1", "not an allowed API host"),
    "an internal service": ("http://127.0.0.1:6379/v1", "not an allowed API host"),
    "the cloud metadata service": ("http://169.254.169.254/latest", "not an allowed API host"),
    "IPv6 loopback": ("http://[::1]:8001/v1", "not an allowed API host"),
    "a private address": ("https://10.0.0.5/v1", "not an allowed API host"),
    "another port of the simulator": ("http://simulator.test:8080/v1", "not an allowed API"),
    "a lookalike host": ("https://api.openai.com.evil.example/v1", "not an allowed API host"),
}


@pytest.mark.parametrize(("base_url", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_it_refuses_a_base_url_beside_its_field_before_sending_anything(
    client_as, admin, simulator, connects, base_url, message
):
    response = _add(client_as(admin), base_url)

    assert response.status_code == 200
    assert message in _page(response)
    assert 'id="id_base_url_error"' in response.content.decode()
    assert connects == []  # not a single connection tried: the key went nowhere
    assert not Organization.objects.exists()
    assert not ActionLog.objects.exists()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address the name resolves to, not one we bind)
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
    ],
)
def test_it_refuses_an_allowed_name_that_resolves_to_a_local_address(
    client_as, admin, settings, dns, connects, address
):
    settings.ALLOWED_API_HOSTS = ["gateway.example.com"]
    dns["gateway.example.com"] = ["93.184.216.34", address]

    response = _add(client_as(admin), "https://gateway.example.com/v1")

    assert "resolves to a loopback, private or link-local address" in _page(response)
    assert connects == []
    assert not Organization.objects.exists()


def test_it_connects_to_a_private_address_only_when_the_list_names_it(
    client_as, admin, settings, dns, connects
):
    settings.ALLOWED_API_HOSTS = ["gateway.internal", "10.20.0.0/16"]
    dns["gateway.internal"] = ["10.20.1.2"]

    response = _add(client_as(admin), "https://gateway.internal/v1")

    # Past every check: the connection is tried, to the address that was checked.
    assert "Could not reach the OpenAI API" in _page(response)
    assert set(connects) == {("10.20.1.2", 443)}


def test_org_add_refuses_a_base_url_that_is_not_allowed(db, monkeypatch, connects):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", SIM_ADMIN_KEY)

    with pytest.raises(CommandError, match="not an allowed API host"):
        call_command(
            "org_add", "--name", "Acme", "--base-url", "http://127.0.0.1:6379/v1", "--verify",
            stdout=io.StringIO(),
        )  # fmt: skip

    assert not Organization.objects.exists()
    assert connects == []


# --- connections stored before these checks --------------------------------------------------


@pytest.mark.parametrize(
    "base_url",
    [
        "http://internal.example:8080/v1",
        "http://simulator.test/internal?x=",
        "https://user:pw@api.openai.com/v1",
    ],
)
def test_it_refuses_a_stored_connection_that_is_no_longer_allowed_and_never_shows_its_answer(
    client_as, admin, db, base_url
):
    org = OrganizationFactory(name="Old", base_url=base_url, admin_key=SIM_ADMIN_KEY)
    inside = _Answering()
    with install_transport(base_url, httpx.WSGITransport(app=inside)):
        client_as(admin).post(reverse("orgadmin:connection_verify", args=[org.pk]))
        page = client_as(admin).get(reverse("orgadmin:connections"))

    assert inside.calls == []  # refused before the request: the key never went there
    org.refresh_from_db()
    assert org.status == "error"
    assert "This connection's base URL is refused" in org.status_message
    assert "This connection's base URL is refused" in _page(page)
    assert SECRET_BODY not in _page(page)


def test_it_shows_only_the_status_and_request_id_of_an_answer_from_a_host_not_allowed(db):
    request = httpx.Request("GET", "http://internal.example:8080/v1/organization/projects")
    response = httpx.Response(
        500, json={"error": {"message": SECRET_BODY}}, headers={"x-request-id": "req_1"},
        request=request,
    )  # fmt: skip
    error = openai.InternalServerError(SECRET_BODY, response=response, body=response.json())

    with pytest.raises(OrgAPIError) as refused, api_errors():
        raise error

    assert SECRET_BODY not in str(refused.value)
    assert "HTTP 500" in str(refused.value)
    assert "request id req_1" in str(refused.value)


def test_it_still_shows_the_answer_of_an_allowed_api_host(db):
    request = httpx.Request("GET", f"{SIM_BASE_URL}/organization/projects")
    response = httpx.Response(400, json={"error": {"message": "Invalid 'limit'."}}, request=request)
    error = openai.BadRequestError("x", response=response, body=response.json()["error"])

    with pytest.raises(OrgAPIError) as refused, api_errors():
        raise error

    assert refused.value.message == "Invalid 'limit'."


def test_it_never_follows_a_redirect(client_as, admin, org, settings):
    """A redirect could lead anywhere (the metadata service, say): it is an error, not followed."""
    settings.OPENAI_MAX_RETRIES = 0
    redirecting = _Answering(
        "307 Temporary Redirect", [("Location", "http://169.254.169.254/latest/meta-data")], {}
    )
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=redirecting)):
        client_as(admin).post(reverse("orgadmin:connection_verify", args=[org.pk]))

    assert redirecting.calls == ["/v1/organization/projects"]  # one request, not two
    org.refresh_from_db()
    assert org.status == "error"


# --- the address is checked as each connection opens (DNS rebinding) ---------------------------


@pytest.fixture
def served():
    """The simulator over real HTTP on 127.0.0.1, counting the requests it gets."""
    app = _Counting(create_app(scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY]))
    server = serve_in_thread(app)
    yield app, server.server_address[1]
    server.shutdown()
    server.server_close()


class _Counting:
    def __init__(self, app) -> None:
        self.app, self.calls = app, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


def test_it_connects_only_to_an_address_checked_as_it_connects(
    client_as, admin, db, settings, dns, served
):
    app, port = served
    settings.ALLOWED_API_HOSTS = [f"http://rebound.test:{port}"]
    settings.OPENAI_MAX_RETRIES = 0
    org = OrganizationFactory(
        name="Rebound", base_url=f"http://rebound.test:{port}/v1", admin_key=SIM_ADMIN_KEY
    )
    # The name was public when it was added; now it answers with a loopback address.
    dns["rebound.test"] = ["127.0.0.1"]

    client_as(admin).post(reverse("orgadmin:connection_verify", args=[org.pk]))

    org.refresh_from_db()
    assert org.status == "error"
    assert "now resolves to a loopback, private or link-local address" in org.status_message
    assert app.calls == 0

    # Named by the list, the same address is reached: the socket goes to the address checked
    # (the system's own resolver has never heard of rebound.test).
    settings.ALLOWED_API_HOSTS = [f"http://rebound.test:{port}", "127.0.0.1"]
    client_as(admin).post(reverse("orgadmin:connection_verify", args=[org.pk]))

    org.refresh_from_db()
    assert org.status == "ok"
    assert app.calls >= 1  # the key's check, then Check again's one read per area


@pytest.mark.parametrize("entry", ["https://api.openai.com/v1", "user@gateway.example.com"])
def test_it_refuses_to_start_with_an_entry_it_cant_read(entry):
    """A mistyped ALLOWED_API_HOSTS stops the process at start, not at its first request."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "ALLOWED_API_HOSTS": f"api.openai.com,{entry}"},
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert (
        f"ALLOWED_API_HOSTS: '{entry}' is not a host, host:port or address range" in result.stderr
    )
