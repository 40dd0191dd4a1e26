from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from orgadmin import crypto
from orgadmin.client import KeyUnreadable, admin_key_well_formed, connection_badge
from orgadmin.providers import PROVIDERS, Capability, provider_named
from orgadmin.providers import Provider as ProviderInfo


def mask_key(value: str) -> str:
    """Show only the kind and the last four characters of a key: `sk-admin-…abcd`, `xai-…abcd`."""
    value = value.strip()
    tail = value[-4:] if len(value) >= 12 else ""
    prefix = next((p.key_prefix for p in PROVIDERS.values() if value.startswith(p.key_prefix)), "")
    return f"{prefix}…{tail}"


class Organization(models.Model):
    """A connection to one OpenAI organization (through an admin key) or one xAI team (through
    a management key). What its provider's API can do is `capabilities` (orgadmin.providers)."""

    class Provider(models.TextChoices):
        OPENAI = "openai", "OpenAI"
        XAI = "xai", "xAI"

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", "Not verified yet"
        OK = "ok", "Connected"
        ERROR = "error", "Error"
        KEY_UNREADABLE = "key_unreadable", "Re-enter the key"

    name = models.CharField("display name", max_length=100, unique=True)
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.OPENAI)
    base_url = models.URLField("base URL", max_length=300, default=settings.DEFAULT_OPENAI_BASE_URL)
    # The provider's own id of what the key manages: the xAI team id, from the management key's
    # validation (empty for OpenAI, whose admin key names its organization itself).
    account_id = models.CharField(max_length=100, blank=True)
    # Fernet token of the admin (or management) key; never the key itself.
    admin_key_encrypted = models.TextField(editable=False)
    admin_key_masked = models.CharField(max_length=40, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNVERIFIED)
    status_message = models.TextField(blank=True)
    status_request_id = models.CharField(max_length=100, blank=True)
    # What the admin key was refused, by area (orgadmin.areas): "none" (it may not read the
    # area) or "read" (it may only read it). A summary of the KeyArea rows, kept with them by
    # orgadmin.services.key_areas, so that pages know it without a query.
    key_limits = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        # The capabilities behind the three roles (see orgadmin/access.py).
        permissions = [
            ("manage_organization", "Manage the organization (Admin)"),
            ("view_directory", "See members, invites, keys and settings"),
            ("view_projects", "See projects"),
            ("view_audit_log", "Read the audit log and the action log"),
            ("view_spend", "Read usage and costs, and export them"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def admin_key(self) -> str:
        """The decrypted key. Raises KeyUnreadable (an OrgAPIError, to show as it is) when no
        configured key can decrypt it."""
        try:
            return crypto.decrypt(self.admin_key_encrypted)
        except crypto.InvalidToken:
            raise KeyUnreadable from None

    @property
    def provider_info(self) -> ProviderInfo:
        return provider_named(self.provider)

    @property
    def capabilities(self) -> dict[str, bool]:
        """What this connection's API can do, by `Capability` value: `{% if
        current_org.capabilities.members %}` in a template."""
        return dict.fromkeys(self.provider_info.capabilities, True)

    def has_capability(self, capability: Capability) -> bool:
        return capability in self.provider_info.capabilities

    @property
    def api_badge(self) -> str:
        """The badge its name wears: "Simulator" or "Gateway" unless it is a vendor's own API."""
        return connection_badge(self.base_url)

    def set_admin_key(self, value: str) -> None:
        """Encrypt and store a new admin key (the caller saves); ValueError if no header can
        carry it (forms and `org_add` refuse such a key first, with a message)."""
        value = value.strip()
        if not admin_key_well_formed(value):
            raise ValueError("An admin key is visible ASCII characters only.")
        self.admin_key_encrypted = crypto.encrypt(value)
        self.admin_key_masked = mask_key(value)

    def key_may_read(self, area: str) -> bool:
        """False when the API refused this connection's key a read of the area."""
        return (self.key_limits or {}).get(area) != "none"

    def key_may_write(self, area: str) -> bool:
        """False when the API refused this connection's key a read or a change of the area."""
        return area not in (self.key_limits or {})

    @property
    def key_readable(self) -> bool:
        try:
            crypto.decrypt(self.admin_key_encrypted)
        except crypto.InvalidToken:
            return False
        return True


class SyncRun(models.Model):
    """One run of a sync job (directory, usage or audit log) for one organization."""

    class Kind(models.TextChoices):
        DIRECTORY = "directory", "Directory"
        USAGE = "usage", "Usage and costs"
        AUDIT_LOG = "audit_log", "Audit log"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partly synced"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned (the worker stopped)"
        # The admin key may read none of what this kind syncs: nothing failed, nothing stored.
        NOT_PERMITTED = "not_permitted", "Not permitted by this key"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    requests_made = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # A partial run's streams that failed: [{"stream", "label", "error", "status", "request_id"}].
    failures = models.JSONField(default=list, blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["org", "kind", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync of {self.org} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def stored_data(self) -> bool:
        """True when the run ended having stored what it fetched (all of it, or some streams)."""
        return self.status in (self.Status.SUCCEEDED, self.Status.PARTIAL)


class SyncLock(models.Model):
    """A lease that keeps two runs of one kind for one organization from overlapping.

    A run holds it until it finishes or its lease expires, so a killed worker never blocks
    the next run for longer than one lease.
    """

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=SyncRun.Kind.choices)
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "kind"], name="one_lock_per_org_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} lock of org {self.org_id}"


class SyncWatermark(models.Model):
    """How far a sync has got for one endpoint, so the next run resumes from there."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=100)
    value = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "endpoint"], name="one_watermark_per_endpoint")
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} @ {self.value:%Y-%m-%d %H:%M}"


class ApiCapability(models.Model):
    """The optional parameters one endpoint of a connection's API refused (HTTP 400).

    The spec lists them, but a live server may not take them all (costs grouped by API key, for
    one). The sync leaves them out while they are refused, and asks again once `checked_at` is
    older than API_CAPABILITY_RECHECK_HOURS.
    """

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=100)  # e.g. "costs", "usage/completions"
    # Refused options: "group_by:api_key_id" for a grouping, the parameter name for a filter.
    refused = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField()
    message = models.TextField(blank=True)  # the API's words, for the pages
    request_id = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "endpoint"], name="one_capability_per_endpoint")
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} refuses {', '.join(self.refused) or 'nothing'}"

    @property
    def refused_groupings(self) -> list[str]:
        """The dimensions the endpoint refuses to group by, in the order they were refused."""
        return [o.removeprefix("group_by:") for o in self.refused if o.startswith("group_by:")]


class ActionLog(models.Model):
    """What a person did through this dashboard, with the API's request id and the outcome."""

    class Outcome(models.TextChoices):
        OK = "ok", "Succeeded"
        ERROR = "error", "Failed"

    org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    org_name = models.CharField(max_length=100, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)  # e.g. "invite.create", "connection.verify"
    resource_type = models.CharField(max_length=40, blank=True)
    resource_id = models.CharField(max_length=200, blank=True)
    summary = models.CharField(max_length=500)
    request_id = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_name}: {self.summary} ({self.outcome})"
