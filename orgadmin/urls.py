from __future__ import annotations

import re

from django.urls import URLPattern, path, register_converter

from orgadmin.audit import MAX_ID_LENGTH
from orgadmin.views import (
    activity,
    audit_log,
    billing,
    connections,
    directory,
    groups,
    invites,
    keys,
    members,
    org_settings,
    people,
    people_accept,
    project_settings,
    projects,
    team_keys,
)


class ApiId:
    """An OpenAI id in a URL, never a path: `.`, `..` (also typed as `%2E%2E`), a NUL or anything
    else no API id looks like is a 404 before any view runs. (The SDK refuses dot segments with a
    ValueError, PostgreSQL a NUL: both were a 500.)

    The shape is every id the API hands out: a letter or digit, then letters, digits and `_-.:`,
    as in `user-abc`, `proj_abc`, `group_01JB...` (a ULID) and rate limits named after a model,
    `rl-gpt-4.1` or `rl-ft:gpt-4o-mini:acme::id`. The regex is str's own, so a link to an odd id
    the API did send still reverses (and answers 404) instead of failing the page that lists it.
    """

    regex = "[^/]+"
    shape = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}")

    def to_python(self, value: str) -> str:
        if not self.shape.fullmatch(value):
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        return value


DOT_SEGMENTS = frozenset({".", ".."})


class AuditEventId:
    """An audit event's id as the API sent it, `/` included: looked up in our table only, which
    holds no NUL (PostgreSQL refuses one: a 500) and no id longer than MAX_ID_LENGTH. A dot
    segment (`.`, `..`, or one of them between slashes) is a path, never an id: a 404, even to
    htmx, whose drawer would otherwise say "this event is gone" for what a browser normalises."""

    regex = ".+"
    control = re.compile(r"[\x00-\x1f\x7f]")

    def to_python(self, value: str) -> str:
        if len(value) > MAX_ID_LENGTH or self.control.search(value):
            raise ValueError(value)
        if DOT_SEGMENTS.intersection(value.split("/")):
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        return value


class LinkToken:
    """The secret of an invitation link (or "invitation", once it sits in the session): URL-safe
    base64 only, so `..` and other paths never reach the view (404)."""

    regex = "[A-Za-z0-9_-]{1,200}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ApiId, "api_id")
register_converter(LinkToken, "link_token")
register_converter(AuditEventId, "audit_event_id")

app_name = "orgadmin"

P = "projects/<api_id:project_id>/"


def _spend_urls(prefix: str, name_prefix: str) -> list[URLPattern]:
    """The spend alerts and hard limit of the organization (under settings/, named
    `spend_alert_create`, …) or of a project (`project_spend_alert_create`, …): the same views,
    which get a project_id from the project's URLs."""
    return [
        path(prefix + route, view, name=name_prefix + name)
        for route, view, name in [
            ("spend-alerts/new/", org_settings.spend_alert_create, "spend_alert_create"),
            (
                "spend-alerts/<api_id:alert_id>/edit/",
                org_settings.spend_alert_edit,
                "spend_alert_edit",
            ),
            (
                "spend-alerts/<api_id:alert_id>/delete/",
                org_settings.spend_alert_delete,
                "spend_alert_delete",
            ),
            ("spend-limit/", org_settings.spend_limit, "spend_limit"),
            ("spend-limit/delete/", org_settings.spend_limit_delete, "spend_limit_delete"),
        ]
    ]


urlpatterns = [
    path("connections/", connections.connections, name="connections"),
    path("connections/<int:pk>/verify/", connections.connection_verify, name="connection_verify"),
    path("connections/<int:pk>/rename/", connections.connection_rename, name="connection_rename"),
    path("connections/<int:pk>/key/", connections.connection_key, name="connection_key"),
    path("connections/<int:pk>/delete/", connections.connection_delete, name="connection_delete"),
    path("switch-org/", connections.switch_org, name="switch_org"),
    path("audit-log/", audit_log.audit_log, name="audit_log"),
    path("audit-log/export.csv", audit_log.audit_export_csv, name="audit_export_csv"),
    path("audit-log/export.jsonl", audit_log.audit_export_jsonl, name="audit_export_jsonl"),
    path("audit-log/events/<audit_event_id:event_id>/", audit_log.audit_event, name="audit_event"),
    path("audit-log/sync/", audit_log.audit_sync, name="audit_sync"),
    path("audit-log/sync/status/", audit_log.audit_sync_status, name="audit_sync_status"),
    # The directory cache.
    path("directory/refresh/", directory.directory_refresh, name="directory_refresh"),
    path("directory/status/", directory.directory_status, name="directory_status"),
    path("directory/suggest/", directory.member_suggestions, name="member_suggestions"),
    # Members, and (before members/<user_id>/) invites, groups and roles.
    path("members/", members.members, name="members"),
    # Invites.
    path("members/invites/", invites.invites, name="invites"),
    path("members/invites/new/", invites.invite_create, name="invite_create"),
    path("members/invites/bulk/", invites.invite_bulk, name="invite_bulk"),
    path("members/invites/<api_id:invite_id>/revoke/", invites.invite_revoke, name="invite_revoke"),
    # Groups and roles.
    path("members/groups/", groups.groups, name="groups"),
    path("members/groups/new/", groups.group_create, name="group_create"),
    path("members/groups/<api_id:group_id>/", groups.group, name="group"),
    path("members/groups/<api_id:group_id>/rename/", groups.group_rename, name="group_rename"),
    path("members/groups/<api_id:group_id>/delete/", groups.group_delete, name="group_delete"),
    path(
        "members/groups/<api_id:group_id>/users/add/", groups.group_user_add, name="group_user_add"
    ),
    path(
        "members/groups/<api_id:group_id>/users/<api_id:user_id>/remove/",
        groups.group_user_remove,
        name="group_user_remove",
    ),
    path(
        "members/groups/<api_id:group_id>/roles/add/",
        groups.group_role_assign,
        name="group_role_assign",
    ),
    path(
        "members/groups/<api_id:group_id>/roles/<api_id:role_id>/remove/",
        groups.group_role_unassign,
        name="group_role_unassign",
    ),
    path("members/roles/", groups.roles, name="roles"),
    path("members/roles/new/", groups.role_create, name="role_create"),
    path("members/roles/<api_id:role_id>/edit/", groups.role_edit, name="role_edit"),
    path("members/roles/<api_id:role_id>/delete/", groups.role_delete, name="role_delete"),
    path("members/<api_id:user_id>/", members.member, name="member"),
    path("members/<api_id:user_id>/role/", members.member_role, name="member_role"),
    path("members/<api_id:user_id>/remove/", members.member_remove, name="member_remove"),
    path(
        "members/<api_id:user_id>/projects/add/",
        members.member_project_add,
        name="member_project_add",
    ),
    path("members/<api_id:user_id>/groups/add/", members.member_group_add, name="member_group_add"),
    path(
        "members/<api_id:user_id>/roles/add/", members.member_role_assign, name="member_role_assign"
    ),
    path(
        "members/<api_id:user_id>/roles/<api_id:role_id>/remove/",
        members.member_role_unassign,
        name="member_role_unassign",
    ),
    # Projects.
    path("projects/", projects.projects, name="projects"),
    path("projects/new/", projects.project_create, name="project_create"),
    path(P, projects.project, name="project"),
    path(P + "rename/", projects.project_rename, name="project_rename"),
    path(P + "archive/", projects.project_archive, name="project_archive"),
    path(P + "users/add/", projects.project_user_add, name="project_user_add"),
    path(P + "users/<api_id:user_id>/role/", projects.project_user_role, name="project_user_role"),
    path(
        P + "users/<api_id:user_id>/remove/",
        projects.project_user_remove,
        name="project_user_remove",
    ),
    path(
        P + "service-accounts/new/",
        projects.service_account_create,
        name="service_account_create",
    ),
    path(
        P + "service-accounts/<api_id:account_id>/edit/",
        projects.service_account_edit,
        name="service_account_edit",
    ),
    path(
        P + "service-accounts/<api_id:account_id>/delete/",
        projects.service_account_delete,
        name="service_account_delete",
    ),
    path(
        P + "service-accounts/<api_id:account_id>/keys/new/",
        projects.service_account_key_create,
        name="service_account_key_create",
    ),
    path(
        P + "api-keys/<api_id:key_id>/delete/",
        projects.project_key_delete,
        name="project_key_delete",
    ),
    path(
        P + "rate-limits/<api_id:limit_id>/edit/",
        project_settings.rate_limit_edit,
        name="rate_limit_edit",
    ),
    path(P + "rate-limits/all/", project_settings.rate_limits_bulk, name="rate_limits_bulk"),
    path(
        P + "certificates/toggle/",
        project_settings.project_certificates_toggle,
        name="project_certificates_toggle",
    ),
    *_spend_urls(P, "project_"),
    path(
        P + "model-permissions/",
        project_settings.project_model_permissions,
        name="project_model_permissions",
    ),
    path(
        P + "model-permissions/delete/",
        project_settings.project_model_permissions_delete,
        name="project_model_permissions_delete",
    ),
    path(P + "hosted-tools/", project_settings.project_hosted_tools, name="project_hosted_tools"),
    path(P + "data-retention/", project_settings.project_retention, name="project_retention"),
    path(P + "groups/add/", project_settings.project_group_add, name="project_group_add"),
    path(
        P + "groups/<api_id:group_id>/remove/",
        project_settings.project_group_remove,
        name="project_group_remove",
    ),
    # Tabs last: "<tab>" would otherwise catch the paths above.
    path(P + "<slug:tab>/", projects.project_tab, name="project_tab"),
    # Keys.
    path("keys/", keys.keys, name="keys"),
    path("keys/admin/", keys.admin_keys, name="admin_keys"),
    path("keys/admin/new/", keys.admin_key_create, name="admin_key_create"),
    path("keys/admin/<api_id:key_id>/delete/", keys.admin_key_delete, name="admin_key_delete"),
    # An xAI team's API keys (orgadmin.providers: Capability.TEAM_KEYS), read live.
    path("team-keys/", team_keys.team_keys, name="team_keys"),
    path("team-keys/new/", team_keys.team_key_create, name="team_key_create"),
    path("team-keys/<api_id:key_id>/edit/", team_keys.team_key_edit, name="team_key_edit"),
    path("team-keys/<api_id:key_id>/disable/", team_keys.team_key_disable, name="team_key_disable"),
    path("team-keys/<api_id:key_id>/enable/", team_keys.team_key_enable, name="team_key_enable"),
    path("team-keys/<api_id:key_id>/rotate/", team_keys.team_key_rotate, name="team_key_rotate"),
    path("team-keys/<api_id:key_id>/delete/", team_keys.team_key_delete, name="team_key_delete"),
    path(
        "team-keys/<api_id:key_id>/propagation/",
        team_keys.team_key_propagation,
        name="team_key_propagation",
    ),
    # Organization settings.
    path("settings/", org_settings.org_settings, name="org_settings"),
    path(
        "settings/certificates/upload/",
        org_settings.certificate_upload,
        name="certificate_upload",
    ),
    path(
        "settings/certificates/toggle/",
        org_settings.certificates_toggle,
        name="certificates_toggle",
    ),
    path(
        "settings/certificates/<api_id:certificate_id>/rename/",
        org_settings.certificate_rename,
        name="certificate_rename",
    ),
    path(
        "settings/certificates/<api_id:certificate_id>/delete/",
        org_settings.certificate_delete,
        name="certificate_delete",
    ),
    *_spend_urls("settings/", ""),
    path("settings/data-retention/", org_settings.org_retention, name="org_retention"),
    path("settings/<slug:tab>/", org_settings.org_settings_tab, name="org_settings_tab"),
    # People who may sign in to this dashboard, their roles and invitations (not OpenAI's).
    path("people/", people.people, name="people"),
    path("people/invite/", people.people_invite, name="people_invite"),
    path(
        "people/invitations/<int:invitation_id>/resend/",
        people.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "people/invitations/<int:invitation_id>/revoke/",
        people.invitation_revoke,
        name="invitation_revoke",
    ),
    path("people/<int:person_id>/roles/add/", people.person_role_add, name="person_role_add"),
    path(
        "people/<int:person_id>/roles/<int:grant_id>/remove/",
        people.person_role_remove,
        name="person_role_remove",
    ),
    path("people/<int:person_id>/deactivate/", people.person_deactivate, name="person_deactivate"),
    path("people/<int:person_id>/reactivate/", people.person_reactivate, name="person_reactivate"),
    path(
        "people/<int:person_id>/password-reset/",
        people.person_password_reset,
        name="person_password_reset",
    ),
    # The link in an invitation's mail: public.
    path("people/accept/<link_token:token>/", people_accept.people_accept, name="people_accept"),
    # Our own action log.
    path("activity/", activity.activity, name="activity"),
    path("activity/export.csv", activity.activity_export_csv, name="activity_export"),
    # An xAI team's billing (orgadmin.providers: Capability.BILLING); it never buys credits.
    path("billing/", billing.billing, name="billing"),
    path("billing/soft-limit/", billing.billing_soft_limit, name="billing_soft_limit"),
    path("billing/invoices.csv", billing.billing_export, name="billing_export"),
]
