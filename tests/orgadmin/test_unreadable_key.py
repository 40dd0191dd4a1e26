"""A connection whose key can no longer be decrypted (the encryption key was replaced, not
rotated): every page still answers, and the person is told to re-enter the key."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from orgadmin.client import KeyUnreadable, OrgAPIError, admin_client
from orgadmin.models import ActionLog, Organization
from orgadmin.sync.directory import directory_sync
from tests.conftest import SIM_ADMIN_KEY
from tests.orgadmin.test_bad_input import _samples
from tests.orgadmin.test_connections import OTHER_FERNET_KEY
from tests.test_access_matrix import ACCESS, url_patterns

REFRESHES = ["orgadmin:directory_refresh", "orgadmin:audit_sync", "usage_sync"]


def test_no_page_fails_when_the_key_cant_be_decrypted(client_as, admin, org, simulator):
    directory_sync(org=org)  # a cache from before the key was lost
    samples = {**_samples(simulator.store), "pk": org.pk, "fmt": "csv"}
    samples["event_id"] = "audit_log-unreadable"
    c = client_as(admin)
    with override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_FERNET_KEY]):
        for name in REFRESHES:  # a sync asked for by hand, inline (eager Celery) or not
            for headers in ({}, {"HX-Request": "true"}):
                response = c.post(reverse(name), headers=headers)
                assert response.status_code < 500, (name, response.status_code)
        for name, pattern in url_patterns().items():
            if "GET" not in ACCESS[name].methods or name == "login":
                continue
            url = reverse(name, kwargs={k: samples[k] for k in pattern.pattern.converters})
            for headers in ({}, {"HX-Request": "true"}):
                response = c.get(url, headers=headers)
                assert response.status_code < 500, (url, response.status_code)
        # A change needs the key: refused before anything is sent, and said so.
        user = next(u for u in simulator.store.users.values() if u.role == "reader")
        response = c.post(
            reverse("orgadmin:member_role", args=[user.id]),
            {"role": "owner"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code < 500
        assert "Re-enter" in response.content.decode()
        assert simulator.store.users[user.id].role == "reader"

        c.post(reverse("orgadmin:connection_verify", args=[org.pk]))
        org.refresh_from_db()
        assert org.status == Organization.Status.KEY_UNREADABLE
        page = c.get(reverse("orgadmin:connections")).content.decode()
        assert "Re-enter the key" in page
        form = c.get(reverse("orgadmin:connection_key", args=[org.pk]))
        assert form.status_code == 200
        assert 'name="admin_key"' in form.content.decode()

        # Entering it again (encrypted with the new key) brings the connection back.
        response = c.post(
            reverse("orgadmin:connection_key", args=[org.pk]), {"admin_key": SIM_ADMIN_KEY}
        )
        assert response.status_code == 302
        org.refresh_from_db()
        assert org.admin_key == SIM_ADMIN_KEY
        assert org.status == Organization.Status.OK
    assert not ActionLog.objects.filter(action="member.role", outcome="ok").exists()


def test_the_client_raises_it_as_an_api_error_no_retry_fixes(org):
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_FERNET_KEY]),
        pytest.raises(OrgAPIError) as caught,
    ):
        admin_client(org)
    assert isinstance(caught.value, KeyUnreadable)
    assert caught.value.code == "key_unreadable"
    assert "Re-enter" in caught.value.message
    assert not caught.value.retryable
    assert caught.value.account_wide
