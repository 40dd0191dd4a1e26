"""Forms of the directory pages. Every input is parsed and checked here, against the spec's
enums and the cache, before anything is sent to the API."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from orgadmin.models import (
    RATE_LIMIT_FIELDS,
    Certificate,
    Invite,
    Organization,
    OrgGroup,
    OrgRole,
    OrgUser,
    Project,
    ProjectCertificate,
    RateLimit,
)
from orgadmin.services import TOGGLE_MAX, invite_conflict

# The spec's enums.
ORG_ROLES = [("reader", "Reader"), ("owner", "Owner")]
PROJECT_ROLES = [("member", "Member"), ("owner", "Owner")]
RESIDENCIES = [
    ("", "Default (global)"),
    ("US_STORAGE_PROCESSING", "United States (storage and processing)"),
    ("EU_STORAGE_PROCESSING", "Europe (storage and processing)"),
    ("JP_STORAGE", "Japan (storage)"),
    ("KR_STORAGE", "South Korea (storage)"),
    ("CA_STORAGE", "Canada (storage)"),
    ("SG_STORAGE", "Singapore (storage)"),
    ("IN_STORAGE", "India (storage)"),
    ("AU_STORAGE", "Australia (storage)"),
    ("GB_STORAGE", "United Kingdom (storage)"),
    ("AE_STORAGE", "United Arab Emirates (storage)"),
    ("AE_STORAGE_PROCESSING", "United Arab Emirates (storage and processing)"),
]
ORG_RETENTION = [
    ("zero_data_retention", "Zero data retention"),
    ("modified_abuse_monitoring", "Modified abuse monitoring"),
    ("enhanced_zero_data_retention", "Enhanced zero data retention"),
    ("enhanced_modified_abuse_monitoring", "Enhanced modified abuse monitoring"),
]
PROJECT_RETENTION = [
    ("organization_default", "Same as the organization"),
    ("none", "None (standard retention)"),
    *ORG_RETENTION,
]
MODEL_MODES = [("allow_list", "Allow only these models"), ("deny_list", "Deny these models")]
HOSTED_TOOLS = [
    ("file_search", "File search"),
    ("web_search", "Web search"),
    ("image_generation", "Image generation"),
    ("mcp", "Remote MCP servers"),
    ("code_interpreter", "Code interpreter"),
]
RATE_LIMIT_LABELS = {
    "max_requests_per_1_minute": "Requests / minute",
    "max_tokens_per_1_minute": "Tokens / minute",
    "max_images_per_1_minute": "Images / minute",
    "max_audio_megabytes_per_1_minute": "Audio MB / minute",
    "max_requests_per_1_day": "Requests / day",
    "batch_1_day_max_input_tokens": "Batch input tokens / day",
}
# The admin-key body allows 1 s to 365 days.
ADMIN_KEY_MAX_DAYS = 365
# Rate limits and amounts are stored as 64-bit integers.
INT64_MAX = 2**63 - 1
BULK_INVITE_MAX = 100
_EMAIL_IN_BRACKETS = re.compile(r"<([^<>\s]+)>")
_SEPARATORS = re.compile(r"[\s,;]+")
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-/]*$")
# Dotted names such as api.groups.read.
_PERMISSION = re.compile(r"^[a-z][a-z0-9_\-]*(\.[a-z0-9_\-]+)+$")


def _name(value: str) -> str:
    return " ".join(value.split())


# --- fields -------------------------------------------------------------------------------------


class WholeNumberField(forms.CharField):
    """A whole number ≥ 0, written with or without thousands separators (10,000 or 10 000)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if text in (None, ""):
            return None
        digits = re.sub(r"[,_\s]", "", text)
        if digits.startswith("-") and digits[1:].isdigit():
            raise ValidationError("Enter 0 or more; a limit can't be negative.")
        if not digits.isascii() or not digits.isdigit():
            raise ValidationError("Enter a whole number, like 10,000.")
        number = int(digits)
        if number > INT64_MAX:
            raise ValidationError("This number is too large.")
        return number


class DollarField(forms.CharField):
    """US dollars as typed ($1,234.56), returned in the API's unit: integer cents, exactly."""

    def __init__(self, *, min_cents: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)
        self.min_cents = min_cents
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if text in (None, ""):
            return None
        cleaned = re.sub(r"[\s,]", "", text).removeprefix("$").removeprefix("US$")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            raise ValidationError("Enter an amount in dollars, like 1,500 or 99.95.") from None
        if not amount.is_finite() or cleaned.lower().count("e"):
            raise ValidationError("Enter an amount in dollars, like 1,500 or 99.95.")
        if amount < 0:
            raise ValidationError("Enter an amount of $0 or more.")
        cents = amount * 100
        if cents != cents.to_integral_value():
            raise ValidationError("Use at most two decimals: the smallest unit is one cent.")
        cents_int = int(cents)
        if cents_int < self.min_cents:
            raise ValidationError(f"Enter at least ${Decimal(self.min_cents) / 100:.2f}.")
        if cents_int > INT64_MAX:
            raise ValidationError("This amount is too large.")
        return cents_int


def _emails(text: str) -> list[str]:
    """Email addresses from pasted text: one per line or separated by commas, semicolons or
    spaces; "Ann <ann@example.com>" works too. Order kept, duplicates dropped."""
    found = _EMAIL_IN_BRACKETS.findall(text)
    rest = _EMAIL_IN_BRACKETS.sub(" ", text)
    if found:
        # Names around bracketed addresses ("Ann Lee <ann@…>") are not addresses.
        tokens = [t for t in _SEPARATORS.split(rest) if "@" in t]
    else:
        tokens = [t for t in _SEPARATORS.split(rest) if t]
    seen: dict[str, str] = {}
    for email in [*found, *tokens]:
        email = email.strip().strip("\"'")
        seen.setdefault(email.lower(), email)
    return list(seen.values())


class EmailListField(forms.CharField):
    """Several email addresses, each checked; the error names the bad ones."""

    def __init__(self, *, max_count: int = BULK_INVITE_MAX, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}))
        super().__init__(**kwargs)
        self.max_count = max_count

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        emails = _emails(text)
        if self.required and not emails:
            raise ValidationError("Enter at least one email address.")
        bad = []
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                bad.append(email)
        if bad:
            raise ValidationError(
                "Not valid email addresses: "
                + ", ".join(f"“{b}”" for b in bad[:10])
                + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
                + "."
            )
        if len(emails) > self.max_count:
            raise ValidationError(f"At most {self.max_count} addresses at a time.")
        return emails


# --- members and invites --------------------------------------------------------------------


class MemberFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    role = forms.ChoiceField(required=False, choices=[("", "All roles"), *ORG_ROLES], label="Role")


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ORG_ROLES, label="Organization role")


def _active_projects(org: Organization) -> list[tuple[str, str]]:
    return list(
        Project.objects.filter(org=org, status=Project.Status.ACTIVE)
        .order_by("name")
        .values_list("openai_id", "name")
    )


class _InviteFields(forms.Form):
    role = forms.ChoiceField(
        choices=ORG_ROLES,
        initial="reader",
        label="Organization role",
        help_text="Readers use the API and see their projects; owners manage the organization.",
    )
    projects = forms.MultipleChoiceField(
        required=False,
        label="Projects",
        widget=forms.CheckboxSelectMultiple,
        help_text="They join these projects when they accept. Pick none to add them later.",
    )
    project_role = forms.ChoiceField(
        choices=PROJECT_ROLES, initial="member", label="Role in those projects"
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        self.fields["projects"].choices = _active_projects(org)

    def grants(self) -> list[tuple[str, str]]:
        role = self.cleaned_data["project_role"]
        return [(pid, role) for pid in self.cleaned_data.get("projects", [])]


class InviteForm(_InviteFields):
    field_order = ["email", "role", "projects", "project_role"]

    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={"invalid": "Enter a valid email address, like ann@example.com."},
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        conflict = invite_conflict(org=self.org, email=email)
        if conflict:
            raise ValidationError(conflict)
        return email


class BulkInviteForm(_InviteFields):
    field_order = ["emails", "role", "projects", "project_role"]

    emails = EmailListField(
        label="Email addresses",
        help_text="Paste up to 100: one per line, or separated by commas. "
        "“Ann Lee <ann@example.com>” works too.",
    )

    def clean_emails(self) -> list[str]:
        emails = self.cleaned_data["emails"]
        problems = [c for e in emails if (c := invite_conflict(org=self.org, email=e))]
        if problems:
            raise ValidationError([*problems, "Remove them from the list; nothing was sent."])
        return emails


class InviteFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("", "All"), *Invite.Status.choices], label="Status"
    )
    q = forms.CharField(required=False, max_length=200, label="Search")


def _user_by_email(org: Organization, value: str) -> OrgUser:
    email = value.strip()
    user = OrgUser.objects.filter(org=org, email__iexact=email).first()
    if user is None:
        user = OrgUser.objects.filter(org=org, openai_id=email).first()
    if user is None:
        raise ValidationError(
            f"No member of the organization has the email “{email}”. Invite them first."
        )
    return user


class UserPickField(forms.CharField):
    """An organization member, typed by email (the page suggests matches as you type)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("label", "Member")
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})


class ProjectUserAddForm(forms.Form):
    user = UserPickField(help_text="Type an email; members of the organization are suggested.")
    role = forms.ChoiceField(choices=PROJECT_ROLES, label="Project role", initial="member")

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_user(self) -> OrgUser:
        return _user_by_email(self.org, self.cleaned_data["user"])


class MemberProjectAddForm(forms.Form):
    """On a member's page: add them to a project."""

    project = forms.ChoiceField(
        label="Project", widget=forms.Select(attrs={"id": "add-project", "class": "compact"})
    )
    role = forms.ChoiceField(choices=PROJECT_ROLES, label="Project role", initial="member")

    def __init__(self, *args: Any, org: Organization, user: OrgUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        joined = set(
            Project.objects.filter(org=org, users__user_openai_id=user.openai_id).values_list(
                "openai_id", flat=True
            )
        )
        self.fields["project"].choices = [("", "Choose a project…")] + [
            (pid, name) for pid, name in _active_projects(org) if pid not in joined
        ]

    def clean_project(self) -> Project:
        project = Project.objects.filter(
            org=self.org, openai_id=self.cleaned_data["project"]
        ).first()
        if project is None:
            raise ValidationError("Choose a project.")
        return project


class ProjectRoleForm(forms.Form):
    role = forms.ChoiceField(choices=PROJECT_ROLES, label="Project role")


# --- groups and roles -----------------------------------------------------------------------


class GroupForm(forms.Form):
    name = forms.CharField(label="Group name", max_length=255)

    def clean_name(self) -> str:
        name = _name(self.cleaned_data["name"])
        if not name:
            raise ValidationError("Give the group a name.")
        return name


class GroupUserAddForm(forms.Form):
    user = UserPickField(help_text="Type an email; members of the organization are suggested.")

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org

    def clean_user(self) -> OrgUser:
        return _user_by_email(self.org, self.cleaned_data["user"])


class RoleAssignForm(forms.Form):
    role = forms.ChoiceField(label="Role", widget=forms.Select(attrs={"class": "compact"}))

    def __init__(
        self,
        *args: Any,
        org: Organization,
        exclude: set[str] = frozenset(),
        predefined: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        self.predefined = predefined
        roles = OrgRole.objects.filter(org=org).exclude(resource_type="api.project")
        if not predefined:
            # A member's predefined role is their base role (owner or reader), changed above.
            roles = roles.filter(predefined=False)
        self.fields["role"].choices = [("", "Choose a role…")] + [
            (r.openai_id, r.name) for r in roles if r.openai_id not in exclude
        ]

    def clean_role(self) -> OrgRole:
        roles = OrgRole.objects.filter(org=self.org, openai_id=self.cleaned_data["role"])
        if not self.predefined:
            roles = roles.filter(predefined=False)
        role = roles.first()
        if role is None:
            raise ValidationError("Choose a role.")
        return role


class RoleForm(forms.Form):
    name = forms.CharField(label="Role name", max_length=200)
    description = forms.CharField(
        label="Description", required=False, max_length=1000, widget=forms.Textarea({"rows": 2})
    )
    permissions = forms.MultipleChoiceField(
        label="Permissions", required=False, widget=forms.CheckboxSelectMultiple
    )
    extra_permissions = forms.CharField(
        label="Other permissions",
        required=False,
        widget=forms.Textarea({"rows": 2, "spellcheck": "false"}),
        help_text="One per line, like api.groups.read, for permissions not listed above.",
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = sorted(
            {
                p
                for perms in OrgRole.objects.filter(org=org).values_list("permissions", flat=True)
                for p in (perms or [])
            }
        )
        self.fields["permissions"].choices = [(p, p) for p in known]

    def clean_name(self) -> str:
        name = _name(self.cleaned_data["name"])
        if not name:
            raise ValidationError("Give the role a name.")
        return name

    def clean_extra_permissions(self) -> list[str]:
        tokens = [t for t in _SEPARATORS.split(self.cleaned_data["extra_permissions"]) if t]
        bad = [t for t in tokens if not _PERMISSION.match(t)]
        if bad:
            raise ValidationError(
                "Not permission names: "
                + ", ".join(f"“{b}”" for b in bad)
                + ". Permissions look like api.groups.read."
            )
        return tokens

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        perms = sorted({*data.get("permissions", []), *data.get("extra_permissions", [])})
        if "permissions" in data and "extra_permissions" in data and not perms:
            self.add_error("permissions", "Pick at least one permission.")
        data["all_permissions"] = perms
        return data


# --- projects -----------------------------------------------------------------------------------


class ProjectFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.ChoiceField(
        required=False,
        choices=[("active", "Active"), ("archived", "Archived"), ("all", "All")],
        label="Status",
    )


class ProjectCreateForm(forms.Form):
    name = forms.CharField(label="Project name", max_length=200)
    residency = forms.ChoiceField(
        label="Data residency",
        choices=RESIDENCIES,
        required=False,
        help_text="Where the project's data is stored; your organization must have access to it.",
    )

    def clean_name(self) -> str:
        name = _name(self.cleaned_data["name"])
        if not name:
            raise ValidationError("Give the project a name.")
        return name


class ProjectRenameForm(forms.Form):
    name = forms.CharField(label="Project name", max_length=200)

    def clean_name(self) -> str:
        name = _name(self.cleaned_data["name"])
        if not name:
            raise ValidationError("Give the project a name.")
        return name


class TypeToConfirmForm(forms.Form):
    """The person types the thing's name to confirm a destructive action."""

    confirm_name = forms.CharField(label="Type the name to confirm", required=False)

    def __init__(self, *args: Any, expected: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"].strip()
        if typed != self.expected:
            raise ValidationError(f"Type “{self.expected}” exactly to confirm.")
        return typed


class ServiceAccountCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, help_text="For example “ci-deploy”.")
    without_key = forms.BooleanField(
        required=False,
        label="Create without an API key",
        help_text="By default the service account gets a key, shown once.",
    )

    def clean_name(self) -> str:
        name = _name(self.cleaned_data["name"])
        if not name:
            raise ValidationError("Give the service account a name.")
        return name


class ServiceAccountEditForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    role = forms.ChoiceField(choices=PROJECT_ROLES, label="Project role")

    def clean_name(self) -> str:
        name = _name(self.cleaned_data["name"])
        if not name:
            raise ValidationError("Give the service account a name.")
        return name


class ServiceAccountKeyForm(forms.Form):
    name = forms.CharField(label="Key name", max_length=200, required=False)

    def clean_name(self) -> str:
        return _name(self.cleaned_data["name"])


class KeyFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    owner = forms.ChoiceField(
        required=False,
        choices=[("", "All owners"), ("user", "People"), ("service_account", "Service accounts")],
        label="Owner",
    )
    project = forms.CharField(required=False, max_length=100)


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
        if len(ids) > TOGGLE_MAX:
            raise ValidationError(
                f"Select at most {TOGGLE_MAX}; the API changes them all at once or none."
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
        if not _name(data.get("name", "")):
            data["name"] = _common_name(data["certificate"])
        else:
            data["name"] = _name(data["name"])
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
    return _name(value if isinstance(value, str) else value.decode(errors="replace"))[:200]


class CertificateRenameForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)

    def clean_name(self) -> str:
        name = _name(self.cleaned_data["name"])
        if not name:
            raise ValidationError("Give the certificate a name.")
        return name


# --- spend, permissions, retention ------------------------------------------------------------


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


class ModelPermissionsForm(forms.Form):
    mode = forms.ChoiceField(choices=MODEL_MODES, label="Rule", widget=forms.RadioSelect)
    model_ids = forms.CharField(
        label="Models",
        widget=forms.Textarea({"rows": 4, "spellcheck": "false"}),
        help_text="Model ids, one per line or separated by commas, like gpt-4o-mini.",
    )

    def clean_model_ids(self) -> list[str]:
        ids = list(dict.fromkeys(t for t in _SEPARATORS.split(self.cleaned_data["model_ids"]) if t))
        bad = [i for i in ids if not _MODEL_ID.match(i) or len(i) > 200]
        if bad:
            raise ValidationError("Not model ids: " + ", ".join(f"“{b}”" for b in bad[:10]) + ".")
        if not ids:
            raise ValidationError("List at least one model.")
        return ids


class HostedToolsForm(forms.Form):
    file_search = forms.BooleanField(required=False, label="File search")
    web_search = forms.BooleanField(required=False, label="Web search")
    image_generation = forms.BooleanField(required=False, label="Image generation")
    mcp = forms.BooleanField(required=False, label="Remote MCP servers")
    code_interpreter = forms.BooleanField(required=False, label="Code interpreter")


_ROLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{2,99}$")


class ProjectGroupAddForm(forms.Form):
    group = forms.ChoiceField(label="Group", widget=forms.Select(attrs={"class": "compact"}))
    role = forms.CharField(
        label="Project role id",
        max_length=100,
        help_text="The id of a project role, like role_01J1F8PROJ.",
        widget=forms.TextInput(
            attrs={"list": "project-role-ids", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args: Any, org: Organization, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.org = org
        linked = set(project.groups.values_list("group_openai_id", flat=True))
        self.fields["group"].choices = [("", "Choose a group…")] + [
            (g.openai_id, g.name)
            for g in OrgGroup.objects.filter(org=org).only("openai_id", "name")
            if g.openai_id not in linked
        ]
        # Project roles the cache knows, offered as suggestions (any role id may be typed).
        self.known_roles = list(
            OrgRole.objects.filter(org=org, resource_type="api.project").only("openai_id", "name")
        )

    def clean_group(self) -> OrgGroup:
        group = OrgGroup.objects.filter(org=self.org, openai_id=self.cleaned_data["group"]).first()
        if group is None:
            raise ValidationError("Choose a group.")
        return group

    def clean_role(self) -> str:
        role = self.cleaned_data["role"].strip()
        if not _ROLE_ID.match(role):
            raise ValidationError("Enter a project role id, like role_01J1F8PROJ.")
        return role


# --- admin keys and the action log --------------------------------------------------------------


class AdminKeyCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, help_text="For example “billing-export”.")
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=ADMIN_KEY_MAX_DAYS,
        help_text=f"1 to {ADMIN_KEY_MAX_DAYS}. Leave empty for a key that never expires.",
    )

    def clean_name(self) -> str:
        name = _name(self.cleaned_data["name"])
        if not name:
            raise ValidationError("Give the key a name.")
        return name

    def expires_in_seconds(self) -> int | None:
        days = self.cleaned_data.get("expires_in_days")
        return days * 86400 if days else None


class ActivityFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "All outcomes"), ("ok", "Succeeded"), ("error", "Failed")],
        label="Outcome",
    )
