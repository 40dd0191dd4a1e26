"""Models of the orgadmin app, one module per area, all importable from here."""

from __future__ import annotations

from orgadmin.models.audit import AuditEvent, AuditEventCount, AuditEventResource, AuditName
from orgadmin.models.core import (
    ActionLog,
    ApiCapability,
    KeyUnreadable,
    Organization,
    SyncLock,
    SyncRun,
    SyncWatermark,
    mask_key,
)
from orgadmin.models.directory import (
    CERTIFICATE_TOGGLE_MAX,
    RATE_LIMIT_FIELDS,
    AdminApiKey,
    Certificate,
    GroupMember,
    GroupRoleAssignment,
    Invite,
    OrgGroup,
    OrgRole,
    OrgSettings,
    OrgUser,
    Project,
    ProjectApiKey,
    ProjectCertificate,
    ProjectGroup,
    ProjectUser,
    RateLimit,
    ServiceAccount,
    SpendAlert,
    UserRoleAssignment,
)
from orgadmin.models.key_areas import KeyArea
from orgadmin.models.people import Invitation
from orgadmin.models.roles import GrantSource, RoleGrant

__all__ = [
    "CERTIFICATE_TOGGLE_MAX",
    "RATE_LIMIT_FIELDS",
    "ActionLog",
    "AdminApiKey",
    "ApiCapability",
    "AuditEvent",
    "AuditEventCount",
    "AuditEventResource",
    "AuditName",
    "Certificate",
    "GrantSource",
    "GroupMember",
    "GroupRoleAssignment",
    "Invitation",
    "Invite",
    "KeyArea",
    "KeyUnreadable",
    "OrgGroup",
    "OrgRole",
    "OrgSettings",
    "OrgUser",
    "Organization",
    "Project",
    "ProjectApiKey",
    "ProjectCertificate",
    "ProjectGroup",
    "ProjectUser",
    "RateLimit",
    "RoleGrant",
    "ServiceAccount",
    "SpendAlert",
    "SyncLock",
    "SyncRun",
    "SyncWatermark",
    "UserRoleAssignment",
    "mask_key",
]
