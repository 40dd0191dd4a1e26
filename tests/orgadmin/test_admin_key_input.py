"""A pasted key with a character no API key has is refused beside its field, before any request."""

from __future__ import annotations

import html
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from orgadmin.models import ActionLog, Organization
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL

# What copying a key out of a document or a chat adds: an accent, a curly quote, an invisible
# character, a control character.
PASTED = {
    "accent": "sk-admin-caf\u00e9-0000000000000000000000wxyz",
    "curly quote": "\u201csk-admin-0000000000000000000000000wxyz\u201d",
    "zero-width space": "sk-admin-00000000000\u200b0000000000000wxyz",
    "no-break space": "sk-admin-00000000000\u00a00000000000000wxyz",
    "control character": "sk-admin-00000000000\x010000000000000wxyz",
}


class _Recorder:
    """Counts what reaches the simulator."""

    def __init__(self, app) -> None:
        self.app, self.calls = app, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.app(environ, start_response)


@pytest.fixture
def recorded(simulator, monkeypatch):
    import httpx

    from orgadmin.client import install_transport

    recorder = _Recorder(simulator)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=recorder)):
        yield recorder


@pytest.mark.parametrize("key", PASTED.values(), ids=PASTED.keys())
def test_it_refuses_a_key_with_a_character_no_key_has_on_the_connection_form(
    client_as, admin, recorded, key
):
    response = client_as(admin).post(
        reverse("orgadmin:connections"),
        {"name": "Acme", "base_url": SIM_BASE_URL, "admin_key": key},
    )

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "can't be part of an API key" in page
    assert 'id="id_admin_key_error"' in response.content.decode()  # beside its field
    assert key not in page  # never echoed back, not even in part
    assert key[9:20] not in page
    assert recorded.calls == 0  # nothing was sent
    assert not Organization.objects.exists()
    assert not ActionLog.objects.exists()


@pytest.mark.parametrize("key", PASTED.values(), ids=PASTED.keys())
def test_it_refuses_such_a_key_when_replacing_a_connections_key(
    client_as, admin, org, recorded, key
):
    before = org.admin_key_encrypted

    response = client_as(admin).post(
        reverse("orgadmin:connection_key", args=[org.pk]), {"admin_key": key}
    )

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "can't be part of an API key" in page
    assert key not in page
    assert recorded.calls == 0
    org.refresh_from_db()
    assert org.admin_key_encrypted == before


@pytest.mark.parametrize("key", PASTED.values(), ids=PASTED.keys())
def test_org_add_refuses_such_a_key_and_stores_nothing(db, monkeypatch, key):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", key)

    with pytest.raises(CommandError, match="can't be part of an API key") as refused:
        call_command("org_add", "--name", "Acme", "--base-url", SIM_BASE_URL, stdout=io.StringIO())

    assert key not in str(refused.value)
    assert not Organization.objects.exists()


def test_it_still_takes_a_well_formed_key(client_as, admin, recorded):
    response = client_as(admin).post(
        reverse("orgadmin:connections"),
        {"name": "Acme", "base_url": SIM_BASE_URL, "admin_key": f"  {SIM_ADMIN_KEY}\n"},
    )

    assert response.status_code == 302
    assert Organization.objects.get().admin_key == SIM_ADMIN_KEY


def test_it_answers_a_stored_key_no_header_can_carry_with_an_error_not_a_crash(
    client_as, admin, org, recorded
):
    """A connection registered before keys were checked: verifying it explains, never a 500."""
    from orgadmin import crypto

    Organization.objects.filter(pk=org.pk).update(
        admin_key_encrypted=crypto.encrypt("sk-admin-caf\u00e9-0000000000000000000000wxyz")
    )

    response = client_as(admin).post(reverse("orgadmin:connection_verify", args=[org.pk]))

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.status == "error"
    assert "Replace the key" in org.status_message
    assert recorded.calls == 0
