from __future__ import annotations

from django.urls import path

from orgadmin.views import (
    activity,
    connections,
    directory,
    groups,
    invites,
    keys,
    members,
    org_settings,
    project_settings,
    projects,
)

app_name = "orgadmin"

P = "projects/<str:project_id>/"

urlpatterns = [
    path("connections/", connections.connections, name="connections"),
    path("connections/<int:pk>/verify/", connections.connection_verify, name="connection_verify"),
    path("connections/<int:pk>/rename/", connections.connection_rename, name="connection_rename"),
    path("connections/<int:pk>/key/", connections.connection_key, name="connection_key"),
    path("connections/<int:pk>/delete/", connections.connection_delete, name="connection_delete"),
    path("switch-org/", connections.switch_org, name="switch_org"),
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
    path("members/invites/<str:invite_id>/revoke/", invites.invite_revoke, name="invite_revoke"),
    # Groups and roles.
    path("members/groups/", groups.groups, name="groups"),
    path("members/groups/new/", groups.group_create, name="group_create"),
    path("members/groups/<str:group_id>/", groups.group, name="group"),
    path("members/groups/<str:group_id>/rename/", groups.group_rename, name="group_rename"),
    path("members/groups/<str:group_id>/delete/", groups.group_delete, name="group_delete"),
    path("members/groups/<str:group_id>/users/add/", groups.group_user_add, name="group_user_add"),
    path(
        "members/groups/<str:group_id>/users/<str:user_id>/remove/",
        groups.group_user_remove,
        name="group_user_remove",
    ),
    path(
        "members/groups/<str:group_id>/roles/add/",
        groups.group_role_assign,
        name="group_role_assign",
    ),
    path(
        "members/groups/<str:group_id>/roles/<str:role_id>/remove/",
        groups.group_role_unassign,
        name="group_role_unassign",
    ),
    path("members/roles/", groups.roles, name="roles"),
    path("members/roles/new/", groups.role_create, name="role_create"),
    path("members/roles/<str:role_id>/edit/", groups.role_edit, name="role_edit"),
    path("members/roles/<str:role_id>/delete/", groups.role_delete, name="role_delete"),
    path("members/<str:user_id>/", members.member, name="member"),
    path("members/<str:user_id>/role/", members.member_role, name="member_role"),
    path("members/<str:user_id>/remove/", members.member_remove, name="member_remove"),
    path(
        "members/<str:user_id>/projects/add/",
        members.member_project_add,
        name="member_project_add",
    ),
    path("members/<str:user_id>/groups/add/", members.member_group_add, name="member_group_add"),
    path("members/<str:user_id>/roles/add/", members.member_role_assign, name="member_role_assign"),
    path(
        "members/<str:user_id>/roles/<str:role_id>/remove/",
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
    path(P + "users/<str:user_id>/role/", projects.project_user_role, name="project_user_role"),
    path(
        P + "users/<str:user_id>/remove/",
        projects.project_user_remove,
        name="project_user_remove",
    ),
    path(
        P + "service-accounts/new/",
        projects.service_account_create,
        name="service_account_create",
    ),
    path(
        P + "service-accounts/<str:account_id>/edit/",
        projects.service_account_edit,
        name="service_account_edit",
    ),
    path(
        P + "service-accounts/<str:account_id>/delete/",
        projects.service_account_delete,
        name="service_account_delete",
    ),
    path(
        P + "service-accounts/<str:account_id>/keys/new/",
        projects.service_account_key_create,
        name="service_account_key_create",
    ),
    path(
        P + "api-keys/<str:key_id>/delete/", projects.project_key_delete, name="project_key_delete"
    ),
    path(
        P + "rate-limits/<str:limit_id>/edit/",
        project_settings.rate_limit_edit,
        name="rate_limit_edit",
    ),
    path(P + "rate-limits/all/", project_settings.rate_limits_bulk, name="rate_limits_bulk"),
    path(
        P + "certificates/toggle/",
        project_settings.project_certificates_toggle,
        name="project_certificates_toggle",
    ),
    path(
        P + "spend-alerts/new/",
        org_settings.project_spend_alert_create,
        name="project_spend_alert_create",
    ),
    path(
        P + "spend-alerts/<str:alert_id>/edit/",
        org_settings.project_spend_alert_edit,
        name="project_spend_alert_edit",
    ),
    path(
        P + "spend-alerts/<str:alert_id>/delete/",
        org_settings.project_spend_alert_delete,
        name="project_spend_alert_delete",
    ),
    path(P + "spend-limit/", org_settings.project_spend_limit, name="project_spend_limit"),
    path(
        P + "spend-limit/delete/",
        org_settings.project_spend_limit_delete,
        name="project_spend_limit_delete",
    ),
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
        P + "groups/<str:group_id>/remove/",
        project_settings.project_group_remove,
        name="project_group_remove",
    ),
    # Tabs last: "<tab>" would otherwise catch the paths above.
    path(P + "<slug:tab>/", projects.project_tab, name="project_tab"),
    # Keys.
    path("keys/", keys.keys, name="keys"),
    path("keys/admin/", keys.admin_keys, name="admin_keys"),
    path("keys/admin/new/", keys.admin_key_create, name="admin_key_create"),
    path("keys/admin/<str:key_id>/delete/", keys.admin_key_delete, name="admin_key_delete"),
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
        "settings/certificates/<str:certificate_id>/rename/",
        org_settings.certificate_rename,
        name="certificate_rename",
    ),
    path(
        "settings/certificates/<str:certificate_id>/delete/",
        org_settings.certificate_delete,
        name="certificate_delete",
    ),
    path("settings/spend-alerts/new/", org_settings.spend_alert_create, name="spend_alert_create"),
    path(
        "settings/spend-alerts/<str:alert_id>/edit/",
        org_settings.spend_alert_edit,
        name="spend_alert_edit",
    ),
    path(
        "settings/spend-alerts/<str:alert_id>/delete/",
        org_settings.spend_alert_delete,
        name="spend_alert_delete",
    ),
    path("settings/spend-limit/", org_settings.spend_limit, name="spend_limit"),
    path(
        "settings/spend-limit/delete/",
        org_settings.spend_limit_delete,
        name="spend_limit_delete",
    ),
    path("settings/data-retention/", org_settings.org_retention, name="org_retention"),
    path("settings/<slug:tab>/", org_settings.org_settings_tab, name="org_settings_tab"),
    # Our own action log.
    path("activity/", activity.activity, name="activity"),
]
