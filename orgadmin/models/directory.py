"""The directory cache: what the Admin API says the organization holds, as of the last sync.

Every row is keyed on its natural key (the OpenAI id within its organization or project), so a
sync upserts and never duplicates, and deletes what the API no longer lists. Pages read only
these tables; `sync_directory` and the mutation services write them.
"""

from __future__ import annotations

from django.db import models

from orgadmin.models.core import Organization


class OrgUser(models.Model):
    """A member of the organization (`GET /organization/users`)."""

    class Role(models.TextChoices):
        """An organization role (the spec's enum), in the order forms offer them."""

        READER = "reader", "Reader"
        OWNER = "owner", "Owner"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    openai_id = models.CharField(max_length=100)
    email = models.CharField(max_length=254, blank=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=40, blank=True)
    added_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email", "openai_id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "openai_id"], name="orguser_natural_key")
        ]
        indexes = [models.Index(fields=["org", "email"]), models.Index(fields=["org", "role"])]

    def __str__(self) -> str:
        return self.email or self.name or self.openai_id

    @property
    def label(self) -> str:
        """How a person is named on the page: their name, else their email."""
        return self.name or self.email or self.openai_id


class Invite(models.Model):
    """An invitation to the organization (`GET /organization/invites`)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    openai_id = models.CharField(max_length=100)
    email = models.CharField(max_length=254)
    role = models.CharField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices)
    created_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # [{"id": "proj_…", "role": "member"|"owner"}] as the API lists them.
    projects = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "openai_id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "openai_id"], name="invite_natural_key")
        ]
        indexes = [models.Index(fields=["org", "status", "email"])]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"


class SpendLimitFields(models.Model):
    """A hard spend limit and a data-retention policy: both the org and a project have one."""

    class Retention(models.TextChoices):
        """Data-retention policies (the spec's enum); the first two are a project's only."""

        ORGANIZATION_DEFAULT = "organization_default", "Same as the organization"
        NONE = "none", "None (standard retention)"
        ZERO_DATA_RETENTION = "zero_data_retention", "Zero data retention"
        MODIFIED_ABUSE_MONITORING = "modified_abuse_monitoring", "Modified abuse monitoring"
        ENHANCED_ZERO_DATA_RETENTION = (
            "enhanced_zero_data_retention",
            "Enhanced zero data retention",
        )
        ENHANCED_MODIFIED_ABUSE_MONITORING = (
            "enhanced_modified_abuse_monitoring",
            "Enhanced modified abuse monitoring",
        )

    # None means "no hard limit". Amounts are the API's unit: integer cents.
    spend_limit_cents = models.BigIntegerField(null=True, blank=True)
    spend_limit_currency = models.CharField(max_length=10, blank=True)
    spend_limit_interval = models.CharField(max_length=20, blank=True)
    spend_limit_enforcement = models.CharField(max_length=20, blank=True)
    data_retention = models.CharField(max_length=60, blank=True)
    settings_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class OrgSettings(SpendLimitFields):
    """Organization-wide settings read from the API: hard spend limit and data retention."""

    org = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"settings of org {self.org_id}"


class Project(SpendLimitFields):
    """A project, active or archived, with its own settings (`GET /organization/projects`)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    class HostedTool(models.TextChoices):
        """The hosted tools a project can turn on or off: the keys of `hosted_tools`."""

        FILE_SEARCH = "file_search", "File search"
        WEB_SEARCH = "web_search", "Web search"
        IMAGE_GENERATION = "image_generation", "Image generation"
        MCP = "mcp", "Remote MCP servers"
        CODE_INTERPRETER = "code_interpreter", "Code interpreter"

    class Residency(models.TextChoices):
        """Where a project's data lives (the spec's enum); blank is the global default."""

        GLOBAL = "", "Default (global)"
        US_STORAGE_PROCESSING = "US_STORAGE_PROCESSING", "United States (storage and processing)"
        EU_STORAGE_PROCESSING = "EU_STORAGE_PROCESSING", "Europe (storage and processing)"
        JP_STORAGE = "JP_STORAGE", "Japan (storage)"
        KR_STORAGE = "KR_STORAGE", "South Korea (storage)"
        CA_STORAGE = "CA_STORAGE", "Canada (storage)"
        SG_STORAGE = "SG_STORAGE", "Singapore (storage)"
        IN_STORAGE = "IN_STORAGE", "India (storage)"
        AU_STORAGE = "AU_STORAGE", "Australia (storage)"
        GB_STORAGE = "GB_STORAGE", "United Kingdom (storage)"
        AE_STORAGE = "AE_STORAGE", "United Arab Emirates (storage)"
        AE_STORAGE_PROCESSING = (
            "AE_STORAGE_PROCESSING",
            "United Arab Emirates (storage and processing)",
        )

    class ModelPermissionsMode(models.TextChoices):
        """How `model_ids` is read; blank `model_permissions_mode`: no rule, every model."""

        ALLOW_LIST = "allow_list", "Allow only these models"
        DENY_LIST = "deny_list", "Deny these models"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    openai_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, default=Status.ACTIVE)
    created_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    residency = models.CharField(max_length=60, blank=True)
    # Model permissions: blank mode means none are configured (every model allowed).
    model_permissions_mode = models.CharField(max_length=20, blank=True)
    model_ids = models.JSONField(default=list, blank=True)
    # {"file_search": true, "web_search": false, …}; empty until the first sync.
    hosted_tools = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name", "openai_id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "openai_id"], name="project_natural_key")
        ]
        indexes = [models.Index(fields=["org", "status", "name"])]

    def __str__(self) -> str:
        return self.name or self.openai_id

    @property
    def is_archived(self) -> bool:
        return self.status == self.Status.ARCHIVED


class ProjectUser(models.Model):
    """An org user's membership of a project, with their project role."""

    class Role(models.TextChoices):
        """A project role (the spec's enum), in the order forms offer them."""

        MEMBER = "member", "Member"
        OWNER = "owner", "Owner"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="users")
    user_openai_id = models.CharField(max_length=100)
    email = models.CharField(max_length=254, blank=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=40)
    added_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["email", "user_openai_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user_openai_id"], name="projectuser_natural_key"
            )
        ]
        indexes = [models.Index(fields=["user_openai_id"])]

    def __str__(self) -> str:
        return f"{self.email or self.user_openai_id} in {self.project_id}"

    @property
    def label(self) -> str:
        return self.name or self.email or self.user_openai_id


class ServiceAccount(models.Model):
    """A project's service account (its API keys are ProjectApiKey rows owned by it)."""

    Role = ProjectUser.Role  # a service account holds a project role, like a person

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="service_accounts")
    openai_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "openai_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "openai_id"], name="serviceaccount_natural_key"
            )
        ]
        indexes = [models.Index(fields=["openai_id"])]

    def __str__(self) -> str:
        return self.name or self.openai_id


class ProjectApiKey(models.Model):
    """A project API key, owned by a user or a service account. Only its redacted value."""

    class OwnerType(models.TextChoices):
        USER = "user", "User"
        SERVICE_ACCOUNT = "service_account", "Service account"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    openai_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    redacted_value = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    owner_type = models.CharField(max_length=20, blank=True)
    owner_id = models.CharField(max_length=100, blank=True)
    owner_name = models.CharField(max_length=200, blank=True)
    owner_email = models.CharField(max_length=254, blank=True)
    owner_project_access = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at", "openai_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "openai_id"], name="projectkey_natural_key")
        ]
        indexes = [
            models.Index(fields=["org", "openai_id"]),
            models.Index(fields=["org", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.name or self.redacted_value or self.openai_id

    @property
    def owner_label(self) -> str:
        return self.owner_name or self.owner_email or self.owner_id


class AdminApiKey(models.Model):
    """An organization admin API key. The full value is never stored, only the redacted one."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    openai_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    redacted_value = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    owner_type = models.CharField(max_length=40, blank=True)
    owner_id = models.CharField(max_length=100, blank=True)
    owner_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "openai_id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "openai_id"], name="adminkey_natural_key")
        ]

    def __str__(self) -> str:
        return self.name or self.redacted_value or self.openai_id


class Certificate(models.Model):
    """A certificate uploaded to the organization, and whether it is active org-wide."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    openai_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    valid_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "openai_id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "openai_id"], name="certificate_natural_key")
        ]

    def __str__(self) -> str:
        return self.name or self.openai_id


class ProjectCertificate(models.Model):
    """A certificate as a project sees it: whether it is active for that project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="certificates")
    certificate_openai_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    valid_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "certificate_openai_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "certificate_openai_id"], name="projectcert_natural_key"
            )
        ]
        indexes = [models.Index(fields=["certificate_openai_id"])]

    def __str__(self) -> str:
        return self.name or self.certificate_openai_id


# How many certificates the API activates or deactivates in one (atomic) call.
CERTIFICATE_TOGGLE_MAX = 10

# The limits a project rate limit can carry; the last four exist only for the models they fit.
RATE_LIMIT_FIELDS: tuple[str, ...] = (
    "max_requests_per_1_minute",
    "max_tokens_per_1_minute",
    "max_images_per_1_minute",
    "max_audio_megabytes_per_1_minute",
    "max_requests_per_1_day",
    "batch_1_day_max_input_tokens",
)


class RateLimit(models.Model):
    """A project's rate limits for one model."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="rate_limits")
    openai_id = models.CharField(max_length=100)
    model = models.CharField(max_length=200)
    max_requests_per_1_minute = models.BigIntegerField(null=True, blank=True)
    max_tokens_per_1_minute = models.BigIntegerField(null=True, blank=True)
    max_images_per_1_minute = models.BigIntegerField(null=True, blank=True)
    max_audio_megabytes_per_1_minute = models.BigIntegerField(null=True, blank=True)
    max_requests_per_1_day = models.BigIntegerField(null=True, blank=True)
    batch_1_day_max_input_tokens = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["model", "openai_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "openai_id"], name="ratelimit_natural_key")
        ]

    def __str__(self) -> str:
        return f"{self.model} limits of {self.project_id}"

    def values(self) -> list[tuple[str, int | None]]:
        return [(f, getattr(self, f)) for f in RATE_LIMIT_FIELDS]


class SpendAlert(models.Model):
    """A spend alert of the organization (project is null) or of one project. Cents."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="spend_alerts"
    )
    openai_id = models.CharField(max_length=100)
    threshold_cents = models.BigIntegerField()
    currency = models.CharField(max_length=10, default="USD")
    interval = models.CharField(max_length=20, default="month")
    recipients = models.JSONField(default=list, blank=True)
    subject_prefix = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["threshold_cents", "openai_id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "openai_id"], name="spendalert_natural_key")
        ]

    def __str__(self) -> str:
        return f"alert at {self.threshold_cents}¢"


class OrgRole(models.Model):
    """A role of the organization, predefined or custom (`GET /organization/roles`)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    openai_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    permissions = models.JSONField(default=list, blank=True)
    resource_type = models.CharField(max_length=60, blank=True)
    predefined = models.BooleanField(default=False)

    class Meta:
        ordering = ["-predefined", "name", "openai_id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "openai_id"], name="orgrole_natural_key")
        ]

    def __str__(self) -> str:
        return self.name


class UserRoleAssignment(models.Model):
    """An organization role assigned directly to a user."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user_openai_id = models.CharField(max_length=100)
    role_openai_id = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "user_openai_id", "role_openai_id"], name="userrole_natural_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role_openai_id} → {self.user_openai_id}"


class OrgGroup(models.Model):
    """A group of users (`GET /organization/groups`)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    openai_id = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(null=True, blank=True)
    is_scim_managed = models.BooleanField(default=False)
    group_type = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["name", "openai_id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "openai_id"], name="orggroup_natural_key")
        ]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    """A user in a group."""

    group = models.ForeignKey(OrgGroup, on_delete=models.CASCADE, related_name="members")
    user_openai_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["email", "user_openai_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user_openai_id"], name="groupmember_natural_key"
            )
        ]
        indexes = [models.Index(fields=["user_openai_id"])]

    def __str__(self) -> str:
        return f"{self.email or self.user_openai_id} in {self.group_id}"


class GroupRoleAssignment(models.Model):
    """An organization role assigned to a group."""

    group = models.ForeignKey(OrgGroup, on_delete=models.CASCADE, related_name="roles")
    role_openai_id = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "role_openai_id"], name="grouprole_natural_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role_openai_id} → group {self.group_id}"


class ProjectGroup(models.Model):
    """A group that has access to a project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="groups")
    group_openai_id = models.CharField(max_length=100)
    group_name = models.CharField(max_length=255, blank=True)
    group_type = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["group_name", "group_openai_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "group_openai_id"], name="projectgroup_natural_key"
            )
        ]

    def __str__(self) -> str:
        return self.group_name or self.group_openai_id
