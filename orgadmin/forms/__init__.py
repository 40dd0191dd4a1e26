"""Forms, one module per area. Every input is parsed and checked here, against the spec's enums
(the models' choices) and the cache, before anything is sent to the API.

Import them from this package: `from orgadmin.forms import InviteForm`.
"""

from __future__ import annotations

from orgadmin.forms.audit import ActivityFilterForm, AuditFilterForm
from orgadmin.forms.connections import (
    KEY_CHARACTER_ERROR,
    ConnectionForm,
    ConnectionKeyForm,
    RenameConnectionForm,
    SwitchOrganizationForm,
)
from orgadmin.forms.fields import (
    DollarField,
    EmailListField,
    TypeToConfirmForm,
    UserPickField,
    WholeNumberField,
)
from orgadmin.forms.groups import GroupForm, GroupUserAddForm
from orgadmin.forms.keys import (
    AdminKeyCreateForm,
    KeyFilterForm,
    ServiceAccountCreateForm,
    ServiceAccountEditForm,
    ServiceAccountKeyForm,
)
from orgadmin.forms.members import (
    BulkInviteForm,
    InviteFilterForm,
    InviteForm,
    MemberFilterForm,
    MemberProjectAddForm,
    UserRoleForm,
)
from orgadmin.forms.projects import (
    HostedToolsForm,
    ModelPermissionsForm,
    ProjectCreateForm,
    ProjectFilterForm,
    ProjectGroupAddForm,
    ProjectRenameForm,
    ProjectRoleForm,
    ProjectUserAddForm,
)
from orgadmin.forms.roles import RoleAssignForm, RoleForm
from orgadmin.forms.settings import (
    RATE_LIMIT_LABELS,
    CertificateRenameForm,
    CertificateToggleForm,
    CertificateUploadForm,
    RateLimitBulkForm,
    RateLimitForm,
    RetentionForm,
    SpendAlertForm,
    SpendLimitForm,
    org_certificate_choices,
    project_certificate_choices,
)
from orgadmin.forms.sign_in import SignInForm

__all__ = [
    "KEY_CHARACTER_ERROR",
    "RATE_LIMIT_LABELS",
    "ActivityFilterForm",
    "AdminKeyCreateForm",
    "AuditFilterForm",
    "BulkInviteForm",
    "CertificateRenameForm",
    "CertificateToggleForm",
    "CertificateUploadForm",
    "ConnectionForm",
    "ConnectionKeyForm",
    "DollarField",
    "EmailListField",
    "GroupForm",
    "GroupUserAddForm",
    "HostedToolsForm",
    "InviteFilterForm",
    "InviteForm",
    "KeyFilterForm",
    "MemberFilterForm",
    "MemberProjectAddForm",
    "ModelPermissionsForm",
    "ProjectCreateForm",
    "ProjectFilterForm",
    "ProjectGroupAddForm",
    "ProjectRenameForm",
    "ProjectRoleForm",
    "ProjectUserAddForm",
    "RateLimitBulkForm",
    "RateLimitForm",
    "RenameConnectionForm",
    "RetentionForm",
    "RoleAssignForm",
    "RoleForm",
    "ServiceAccountCreateForm",
    "ServiceAccountEditForm",
    "ServiceAccountKeyForm",
    "SignInForm",
    "SpendAlertForm",
    "SpendLimitForm",
    "SwitchOrganizationForm",
    "TypeToConfirmForm",
    "UserPickField",
    "UserRoleForm",
    "WholeNumberField",
    "org_certificate_choices",
    "project_certificate_choices",
]
