"""Settings of the organization and of a project: certificates, spend alerts and limits, data
retention and rate limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from django import forms
from django.core.exceptions import ValidationError

from orgadmin.forms.fields import (
    DollarField,
    EmailListField,
    WholeNumberField,
    name_required,
    one_line,
)
from orgadmin.models import (
    CERTIFICATE_TOGGLE_MAX,
    RATE_LIMIT_FIELDS,
    Certificate,
    Organization,
    OrgSettings,
    Project,
    ProjectCertificate,
    RateLimit,
)

# An organization has its own policy: no default to follow, and no opting out of one.
ORG_RETENTION = [
    (value, label)
    for value, label in OrgSettings.Retention.choices
    if value not in (OrgSettings.Retention.ORGANIZATION_DEFAULT, OrgSettings.Retention.NONE)
]
PROJECT_RETENTION = Project.Retention.choices
RATE_LIMIT_LABELS = {
    "max_requests_per_1_minute": "Requests / minute",
    "max_tokens_per_1_minute": "Tokens / minute",
    "max_images_per_1_minute": "Images / minute",
    "max_audio_megabytes_per_1_minute": "Audio MB / minute",
    "max_requests_per_1_day": "Requests / day",
    "batch_1_day_max_input_tokens": "Batch input tokens / day",
}


# --- certificates -------------------------------------------------------------------------------


class CertificateToggleForm(forms.Form):
    certificate_ids = forms.MultipleChoiceField(label="Certificates")
    action = forms.ChoiceField(
        label="Action", choices=[("activate", "Activate"), ("deactivate", "Deactivate")]
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["certificate_ids"].choices = choices
        self.fields["certificate_ids"].error_messages["required"] = "Select certificates first."

    def clean_certificate_ids(self) -> list[str]:
        ids = self.cleaned_data["certificate_ids"]
        if len(ids) > CERTIFICATE_TOGGLE_MAX:
            raise ValidationError(
                f"Select at most {CERTIFICATE_TOGGLE_MAX}; the API changes them all at once or "
                "none."
            )
        return ids


def org_certificate_choices(org: Organization) -> list[tuple[str, str]]:
    return [
        (c.openai_id, c.name or c.openai_id)
        for c in Certificate.objects.filter(org=org).only("openai_id", "name")
    ]


def project_certificate_choices(project: Project) -> list[tuple[str, str]]:
    return [
        (c.certificate_openai_id, c.name or c.certificate_openai_id)
        for c in ProjectCertificate.objects.filter(project=project).only(
            "certificate_openai_id", "name"
        )
    ]


class CertificateUploadForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=200,
        required=False,
        help_text="Leave empty to use the certificate's common name.",
    )
    pem_file = forms.FileField(label="PEM file", required=False)
    pem = forms.CharField(
        label="…or paste the PEM",
        required=False,
        widget=forms.Textarea(
            {"rows": 6, "spellcheck": "false", "placeholder": "-----BEGIN CERTIFICATE-----"}
        ),
    )

    # Larger than any real certificate; keeps a wrong upload from filling memory.
    MAX_BYTES = 64 * 1024

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("pem_file")
        text = (data.get("pem") or "").strip()
        if upload is not None:
            if upload.size > self.MAX_BYTES:
                self.add_error("pem_file", "This file is too large to be a certificate.")
                return data
            try:
                text = upload.read().decode("ascii").strip()
            except UnicodeDecodeError:
                self.add_error(
                    "pem_file",
                    "This is not a PEM file (it isn't text). Convert a DER certificate with "
                    "`openssl x509 -inform der -in cert.der -out cert.pem`.",
                )
                return data
        if not text:
            self.add_error("pem", "Choose a PEM file or paste the certificate.")
            return data
        field = "pem_file" if upload is not None else "pem"
        try:
            data["certificate"], data["pem_text"] = _parse_pem(text)
        except ValidationError as exc:
            self.add_error(field, exc)
            return data
        if not one_line(data.get("name", "")):
            data["name"] = _common_name(data["certificate"])
        else:
            data["name"] = one_line(data["name"])
        return data


def _parse_pem(text: str) -> tuple[x509.Certificate, str]:
    if "PRIVATE KEY" in text:
        raise ValidationError(
            "This contains a private key. Upload only the certificate, and keep the key secret."
        )
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValidationError(
            "This is not a PEM certificate: it should start with -----BEGIN CERTIFICATE-----."
        )
    try:
        certificates = x509.load_pem_x509_certificates(text.encode("ascii", "ignore"))
    except ValueError:
        raise ValidationError(
            "This PEM doesn't parse as an X.509 certificate. Check that it was copied whole."
        ) from None
    if len(certificates) != 1:
        raise ValidationError(
            f"This PEM holds {len(certificates)} certificates. Upload them one at a time."
        )
    certificate = certificates[0]
    if certificate.not_valid_after_utc < dt.datetime.now(tz=dt.UTC):
        raise ValidationError(
            f"This certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d}."
        )
    return certificate, text


def _common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else ""
    return one_line(value if isinstance(value, str) else value.decode(errors="replace"))[:200]


class CertificateRenameForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)

    def clean_name(self) -> str:
        return name_required(self.cleaned_data["name"], thing="certificate")


# --- spend and retention ------------------------------------------------------------------------


class SpendAlertForm(forms.Form):
    amount = DollarField(
        label="Alert when monthly spend reaches (USD)", help_text="For example 1,500 or 99.95."
    )
    recipients = EmailListField(
        label="Email to",
        max_count=50,
        widget=forms.TextInput({"spellcheck": "false"}),
        help_text="One or more addresses, separated by commas.",
    )
    subject_prefix = forms.CharField(
        label="Subject prefix", required=False, max_length=100, help_text="Optional."
    )


class SpendLimitForm(forms.Form):
    amount = DollarField(
        label="Hard limit per month (USD)",
        min_cents=1,
        help_text="Requests are refused once the month's spend reaches it.",
    )


class RetentionForm(forms.Form):
    retention_type = forms.ChoiceField(label="Data retention")

    def __init__(self, *args: Any, project: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["retention_type"].choices = PROJECT_RETENTION if project else ORG_RETENTION


# --- rate limits --------------------------------------------------------------------------------


class RateLimitForm(forms.Form):
    """The limits one model has (some models don't have all six)."""

    def __init__(self, *args: Any, limit: RateLimit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit
        for name in RATE_LIMIT_FIELDS:
            current = getattr(limit, name)
            if current is None:
                continue
            self.fields[name] = WholeNumberField(
                label=f"{RATE_LIMIT_LABELS[name]} for {limit.model}", initial=f"{current}"
            )

    def changes(self) -> dict[str, int]:
        """Only the limits whose value differs from the cached one."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value is not None and value != getattr(self.limit, name)
        }


class RateLimitBulkForm(forms.Form):
    field = forms.ChoiceField(
        label="Limit", choices=[(f, RATE_LIMIT_LABELS[f]) for f in RATE_LIMIT_FIELDS]
    )
    value = WholeNumberField(label="Value for every model")
