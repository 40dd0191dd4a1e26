"""Organization settings: admin API keys, certificates, spend, data retention."""

from __future__ import annotations

import html
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from orgadmin.models import ActionLog, AdminApiKey, Certificate, OrgSettings, SpendAlert
from tests.orgadmin.conftest import HX, changed, logged
from tests.orgadmin.pem import make_pem, make_private_key_pem


def text(response) -> str:
    return html.unescape(response.content.decode())


def _dump() -> str:
    with connection.cursor() as cursor:
        out = []
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the schema
            out.append(repr(cursor.fetchall()))
    return "\n".join(out)


# --- admin API keys -------------------------------------------------------------------------------


def test_it_creates_an_admin_key_and_shows_it_once(as_admin, synced, store, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, the SDK's and httpx's included
    response = as_admin.post(
        reverse("orgadmin:admin_key_create"),
        {"name": "billing-export", "expires_in_days": "30"},
        headers=HX,
    )
    key = next(k for k in store.admin_keys.values() if k.name == "billing-export")
    body = text(response)
    assert f'value="{key.value}"' in body
    assert "no-store" in response["Cache-Control"]
    assert changed(response)
    assert key.expires_at - key.created_at == 30 * 86400
    cached = AdminApiKey.objects.get(openai_id=key.id)
    assert cached.redacted_value == key.redacted_value
    logged("admin_api_key.create")
    assert key.value not in _dump()
    assert key.value not in caplog.text
    assert key.value not in text(as_admin.get(reverse("orgadmin:admin_keys")))


def test_it_creates_a_key_that_never_expires(as_admin, synced, store):
    as_admin.post(reverse("orgadmin:admin_key_create"), {"name": "forever"})
    assert next(k for k in store.admin_keys.values() if k.name == "forever").expires_at is None


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "greater than or equal to 1"),
        ("366", "less than or equal to 365"),
        ("soon", "Enter a whole number"),
    ],
)
def test_it_checks_the_expiry_before_sending(as_admin, synced, store, days, message):
    count = len(store.admin_keys)
    response = as_admin.post(
        reverse("orgadmin:admin_key_create"), {"name": "x", "expires_in_days": days}, headers=HX
    )
    assert message in text(response)
    assert len(store.admin_keys) == count


def test_it_deletes_an_admin_key_and_warns_about_the_dashboards_own(as_admin, synced, store):
    page = text(as_admin.get(reverse("orgadmin:admin_keys")))
    assert "It looks like the key this dashboard uses" in page  # our key is listed
    key = next(k for k in store.admin_keys.values() if not synced.admin_key.endswith(k.value[-4:]))
    response = as_admin.post(reverse("orgadmin:admin_key_delete", args=[key.id]), headers=HX)
    assert changed(response)
    assert key.id not in store.admin_keys
    assert not AdminApiKey.objects.filter(openai_id=key.id).exists()
    logged("admin_api_key.delete")


# --- certificates ---------------------------------------------------------------------------------


def test_it_uploads_a_pasted_pem_after_parsing_it(as_admin, synced, store):
    pem = make_pem("mtls.acme.example")
    response = as_admin.post(reverse("orgadmin:certificate_upload"), {"name": "", "pem": pem})
    assert response.status_code == 302
    cert = next(c for c in store.certificates.values() if c.name == "mtls.acme.example")
    assert cert.active is False  # an upload doesn't activate
    assert Certificate.objects.get(openai_id=cert.id).name == "mtls.acme.example"
    logged("certificate.create")


def test_it_uploads_a_pem_file(as_admin, synced, store):
    upload = SimpleUploadedFile(
        "client.pem", make_pem("file.example").encode(), "application/x-pem-file"
    )
    response = as_admin.post(
        reverse("orgadmin:certificate_upload"), {"name": "From a file", "pem_file": upload}
    )
    assert response.status_code == 302
    assert any(c.name == "From a file" for c in store.certificates.values())


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (
            "hello",
            "This is not a PEM certificate: it should start with -----BEGIN CERTIFICATE-----.",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----",
            "This PEM doesn't parse as an X.509 certificate.",
        ),
        ("private", "This contains a private key."),
        ("expired", "This certificate expired on"),
        ("two", "This PEM holds 2 certificates. Upload them one at a time."),
        ("", "Choose a PEM file or paste the certificate."),
    ],
)
def test_it_refuses_a_pem_that_does_not_parse_beside_the_field(
    as_admin, synced, store, pem, message
):
    pem = {
        "private": make_private_key_pem(),
        "expired": make_pem(expired=True),
        "two": make_pem() + make_pem(),
    }.get(pem, pem)
    count = len(store.certificates)
    response = as_admin.post(reverse("orgadmin:certificate_upload"), {"pem": pem})
    body = text(response)
    assert message in body
    assert 'aria-invalid="true"' in body or "Choose a PEM file" in body
    assert len(store.certificates) == count
    assert not ActionLog.objects.exists()


def test_it_activates_renames_deactivates_and_deletes_a_certificate(as_admin, synced, store):
    as_admin.post(reverse("orgadmin:certificate_upload"), {"name": "Rotating", "pem": make_pem()})
    cert = next(c for c in store.certificates.values() if c.name == "Rotating")
    toggle = reverse("orgadmin:certificates_toggle")

    response = as_admin.post(
        toggle, {"certificate_ids": [cert.id], "action": "activate"}, headers=HX
    )
    assert changed(response)
    assert cert.active is True
    assert Certificate.objects.get(openai_id=cert.id).active is True
    logged("certificates.activate")

    refused = as_admin.post(reverse("orgadmin:certificate_delete", args=[cert.id]), headers=HX)
    assert "is still active for the organization. Deactivate it everywhere first." in text(refused)
    assert cert.id in store.certificates

    as_admin.post(reverse("orgadmin:certificate_rename", args=[cert.id]), {"name": "Rotated"})
    assert store.certificates[cert.id].name == "Rotated"
    assert Certificate.objects.get(openai_id=cert.id).name == "Rotated"
    logged("certificate.update")

    as_admin.post(toggle, {"certificate_ids": [cert.id], "action": "deactivate"}, headers=HX)
    assert store.certificates[cert.id].active is False
    logged("certificates.deactivate")

    as_admin.post(reverse("orgadmin:certificate_delete", args=[cert.id]), headers=HX)
    assert cert.id not in store.certificates
    assert not Certificate.objects.filter(openai_id=cert.id).exists()
    logged("certificate.delete")


def test_it_toggles_at_most_ten_certificates_at_once(as_admin, synced, store):
    for n in range(6):
        as_admin.post(
            reverse("orgadmin:certificate_upload"), {"name": f"c{n}", "pem": make_pem(f"c{n}")}
        )
    ids = list(Certificate.objects.values_list("openai_id", flat=True))
    assert len(ids) > 10
    response = as_admin.post(
        reverse("orgadmin:certificates_toggle"),
        {"certificate_ids": ids, "action": "activate"},
        headers=HX,
    )
    assert "Select at most 10; the API changes them all at once or none." in text(response)


def test_it_names_the_missing_action_when_toggling_certificates(as_admin, synced, store):
    cert_id = Certificate.objects.values_list("openai_id", flat=True).first()
    before = {c.id: c.active for c in store.certificates.values()}
    response = as_admin.post(
        reverse("orgadmin:certificates_toggle"), {"certificate_ids": [cert_id]}, headers=HX
    )
    assert text(response) == "Action: This field is required."
    assert not changed(response)
    assert {c.id: c.active for c in store.certificates.values()} == before


# --- spend and retention -----------------------------------------------------------------------


def test_it_sets_the_organizations_hard_limit_and_alerts(as_admin, synced, store):
    response = as_admin.post(reverse("orgadmin:spend_limit"), {"amount": "50000"}, headers=HX)
    assert changed(response)
    assert store.spend_limit.threshold_amount == 5000000
    assert OrgSettings.objects.get(org=synced).spend_limit_cents == 5000000
    logged("spend_limit.update")

    as_admin.post(
        reverse("orgadmin:spend_alert_create"),
        {"amount": "19.99", "recipients": "cfo@example.com"},
        headers=HX,
    )
    alert = next(a for a in store.spend_alerts.values() if a.threshold_amount == 1999)
    assert SpendAlert.objects.get(openai_id=alert.id).project is None
    logged("spend_alert.create")
    page = text(as_admin.get(reverse("orgadmin:org_settings_tab", args=["spend"])))
    assert "$50,000.00" in page
    assert "$19.99" in page

    as_admin.post(
        reverse("orgadmin:spend_alert_edit", args=[alert.id]),
        {"amount": "20", "recipients": "cfo@example.com"},
        headers=HX,
    )
    assert store.spend_alerts[alert.id].threshold_amount == 2000
    logged("spend_alert.update")
    as_admin.post(reverse("orgadmin:spend_alert_delete", args=[alert.id]), headers=HX)
    assert alert.id not in store.spend_alerts
    logged("spend_alert.delete")

    as_admin.post(reverse("orgadmin:spend_limit_delete"), headers=HX)
    assert store.spend_limit is None
    assert OrgSettings.objects.get(org=synced).spend_limit_cents is None
    logged("spend_limit.delete")


def test_it_converts_dollars_to_cents_exactly(as_admin, synced, store):
    # 0.29 * 100 is 28.999999999999996 in floating point; the API must get 29.
    as_admin.post(reverse("orgadmin:spend_limit"), {"amount": "0.29"}, headers=HX)
    assert store.spend_limit.threshold_amount == 29
    as_admin.post(reverse("orgadmin:spend_limit"), {"amount": "$1,000,000.07"}, headers=HX)
    assert store.spend_limit.threshold_amount == 100000007


def test_it_sets_the_organizations_data_retention(as_admin, synced, store):
    response = as_admin.post(
        reverse("orgadmin:org_retention"),
        {"retention_type": "enhanced_zero_data_retention"},
        headers=HX,
    )
    assert changed(response)
    assert store.data_retention == "enhanced_zero_data_retention"
    assert OrgSettings.objects.get(org=synced).data_retention == "enhanced_zero_data_retention"
    logged("data_retention.update")
    bad = as_admin.post(
        reverse("orgadmin:org_retention"), {"retention_type": "organization_default"}, headers=HX
    )
    assert "Select a valid choice." in text(bad)  # a project-only value
    assert f'hx-post="{reverse("orgadmin:org_retention")}"' in text(bad)
