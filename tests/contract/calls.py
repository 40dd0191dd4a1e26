"""One call through the official SDK for every spec operation, keyed by `operationId`.

Each function may first set up state through the SDK; the contract test checks the *last*
exchange, which must be the operation named by the key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openai.resources.admin.organization.organization import Organization

from tests.simulator.support import DAY, NOW, TODAY, Ids

Call = Callable[[Organization, Ids], Any]
CERT_PEM = """-----BEGIN CERTIFICATE-----
MIIBMDCB46ADAgECAgkAlT9I8aCfdrYwBQYDK2VwMD4xKDAmBgNVBAMMH2NvbnRy
YWN0LXRlc3QuaGVsaW9sYWJzLmV4YW1wbGUxEjAQBgNVBAoMCUhlbGlvbGFiczAe
Fw0yNjAxMDEwMDAwMDBaFw0yODAxMDEwMDAwMDBaMD4xKDAmBgNVBAMMH2NvbnRy
YWN0LXRlc3QuaGVsaW9sYWJzLmV4YW1wbGUxEjAQBgNVBAoMCUhlbGlvbGFiczAq
MAUGAytlcAMhAJ5vCEKxaLvRaQyJygAz64msgZrCeqLgd1JPLWvOyia4MAUGAytl
cANBABpgbMOZGw7z3a+bx0FehjJg2YQFUKzHlcOdejahrpvih1LzvjUvw7Lmva7X
6r4dpmUazDUueIsn2B08IqaKcQk=
-----END CERTIFICATE-----
"""
CHANNEL = {"type": "email", "recipients": ["ops@heliolabs.example"], "subject_prefix": "[spend]"}
USAGE_WINDOW = {"start_time": TODAY - 6 * DAY, "end_time": TODAY + DAY}


def _usage(family: str, **extra: Any) -> Call:
    def call(org: Organization, ids: Ids) -> Any:
        method = getattr(org.usage, family)
        return method(**USAGE_WINDOW, limit=7, project_ids=[ids.project], **extra)

    return call


def _with_group_role(org: Organization, ids: Ids) -> None:
    org.groups.roles.create(ids.group, role_id=ids.custom_role)


def _with_project_group(org: Organization, ids: Ids) -> None:
    org.projects.groups.create(ids.project, group_id=ids.group, role=ids.project_role)


def _with_project_limit(org: Organization, ids: Ids) -> None:
    org.projects.spend_limit.update(
        ids.project, threshold_amount=50_000, currency="USD", interval="month"
    )


CALLS: dict[str, Call] = {
    # admin API keys
    "admin-api-keys-list": lambda org, ids: org.admin_api_keys.list(limit=2, order="desc"),
    "admin-api-keys-create": lambda org, ids: org.admin_api_keys.create(
        name="CI key", expires_in_seconds=30 * DAY
    ),
    "admin-api-keys-get": lambda org, ids: org.admin_api_keys.retrieve(ids.admin_key),
    "admin-api-keys-delete": lambda org, ids: org.admin_api_keys.delete(ids.admin_key),
    # audit logs
    "list-audit-logs": lambda org, ids: org.audit_logs.list(
        effective_at={"gte": NOW - 90 * DAY, "lt": NOW},
        event_types=["login.succeeded", "api_key.created"],
        limit=5,
    ),
    # certificates
    "listOrganizationCertificates": lambda org, ids: org.certificates.list(limit=3, order="asc"),
    "uploadCertificate": lambda org, ids: org.certificates.create(
        certificate=CERT_PEM, name="Contract test"
    ),
    "activateOrganizationCertificates": lambda org, ids: org.certificates.activate(
        certificate_ids=[ids.certificate]
    ),
    "deactivateOrganizationCertificates": lambda org, ids: org.certificates.deactivate(
        certificate_ids=[ids.active_certificate]
    ),
    "getCertificate": lambda org, ids: org.certificates.retrieve(
        ids.certificate, include=["content"]
    ),
    "modifyCertificate": lambda org, ids: org.certificates.update(ids.certificate, name="Renamed"),
    "deleteCertificate": lambda org, ids: org.certificates.delete(ids.certificate),
    "listProjectCertificates": lambda org, ids: org.projects.certificates.list(ids.project),
    "activateProjectCertificates": lambda org, ids: org.projects.certificates.activate(
        ids.project, certificate_ids=[ids.certificate]
    ),
    "deactivateProjectCertificates": lambda org, ids: org.projects.certificates.deactivate(
        ids.project, certificate_ids=[ids.certificate]
    ),
    # costs and usage
    "usage-costs": lambda org, ids: org.usage.costs(
        **USAGE_WINDOW,
        group_by=["project_id", "line_item"],
        project_ids=[ids.project],
        api_key_ids=[ids.key, ids.sa_key],
        limit=7,
    ),
    "usage-completions": _usage("completions", group_by=["model", "batch", "service_tier"]),
    "usage-embeddings": _usage("embeddings", group_by=["model"]),
    "usage-moderations": _usage("moderations", bucket_width="1h", group_by=["api_key_id"]),
    "usage-images": _usage("images", group_by=["size", "source"]),
    "usage-audio-speeches": _usage("audio_speeches", group_by=["user_id"]),
    "usage-audio-transcriptions": _usage("audio_transcriptions", group_by=["model"]),
    "usage-vector-stores": _usage("vector_stores", group_by=["project_id"]),
    "usage-code-interpreter-sessions": _usage("code_interpreter_sessions"),
    "usage-file-search-calls": _usage("file_search_calls", group_by=["vector_store_id"]),
    "usage-web-search-calls": _usage("web_search_calls", group_by=["context_level"]),
    # data retention
    "retrieve-organization-data-retention": lambda org, ids: org.data_retention.retrieve(),
    "update-organization-data-retention": lambda org, ids: org.data_retention.update(
        retention_type="zero_data_retention"
    ),
    "retrieve-project-data-retention": lambda org, ids: org.projects.data_retention.retrieve(
        ids.project
    ),
    "update-project-data-retention": lambda org, ids: org.projects.data_retention.update(
        ids.project, retention_type="none"
    ),
    # groups
    "list-groups": lambda org, ids: org.groups.list(limit=2),
    "create-group": lambda org, ids: org.groups.create(name="Contract testers"),
    "retrieve-group": lambda org, ids: org.groups.retrieve(ids.group),
    "update-group": lambda org, ids: org.groups.update(ids.group, name="Renamed group"),
    "delete-group": lambda org, ids: org.groups.delete(ids.group),
    "list-group-role-assignments": lambda org, ids: (
        _with_group_role(org, ids),
        org.groups.roles.list(ids.group, limit=10, order="asc"),
    ),
    "assign-group-role": lambda org, ids: org.groups.roles.create(
        ids.group, role_id=ids.custom_role
    ),
    "retrieve-group-role": lambda org, ids: (
        _with_group_role(org, ids),
        org.groups.roles.retrieve(ids.custom_role, group_id=ids.group),
    ),
    "unassign-group-role": lambda org, ids: (
        _with_group_role(org, ids),
        org.groups.roles.delete(ids.custom_role, group_id=ids.group),
    ),
    "list-group-users": lambda org, ids: org.groups.users.list(ids.group, limit=5),
    "add-group-user": lambda org, ids: org.groups.users.create(ids.group, user_id=ids.owner),
    "retrieve-group-user": lambda org, ids: (
        org.groups.users.create(ids.group, user_id=ids.owner),
        org.groups.users.retrieve(ids.owner, group_id=ids.group),
    ),
    "remove-group-user": lambda org, ids: (
        org.groups.users.create(ids.group, user_id=ids.owner),
        org.groups.users.delete(ids.owner, group_id=ids.group),
    ),
    # invites
    "list-invites": lambda org, ids: org.invites.list(limit=5),
    "inviteUser": lambda org, ids: org.invites.create(
        email="new.hire@heliolabs.example",
        role="reader",
        projects=[{"id": ids.project, "role": "member"}],
    ),
    "retrieve-invite": lambda org, ids: org.invites.retrieve(ids.invite),
    "delete-invite": lambda org, ids: org.invites.delete(ids.invite),
    # projects
    "list-projects": lambda org, ids: org.projects.list(limit=5, include_archived=True),
    "create-project": lambda org, ids: org.projects.create(name="New bets", residency="GLOBAL"),
    "retrieve-project": lambda org, ids: org.projects.retrieve(ids.project),
    "modify-project": lambda org, ids: org.projects.update(ids.project, name="Renamed project"),
    "archive-project": lambda org, ids: org.projects.archive(ids.project),
    "list-project-api-keys": lambda org, ids: org.projects.api_keys.list(
        ids.project, limit=5, owner_project_access="any"
    ),
    "retrieve-project-api-key": lambda org, ids: org.projects.api_keys.retrieve(
        ids.key, project_id=ids.project
    ),
    "delete-project-api-key": lambda org, ids: org.projects.api_keys.delete(
        ids.key, project_id=ids.project
    ),
    "list-project-groups": lambda org, ids: (
        _with_project_group(org, ids),
        org.projects.groups.list(ids.project, limit=5),
    ),
    "add-project-group": _with_project_group,
    "retrieve-project-group": lambda org, ids: (
        _with_project_group(org, ids),
        org.projects.groups.retrieve(ids.group, project_id=ids.project, group_type="group"),
    ),
    "remove-project-group": lambda org, ids: (
        _with_project_group(org, ids),
        org.projects.groups.delete(ids.group, project_id=ids.project),
    ),
    "retrieve-project-hosted-tool-permissions": lambda org, ids: (
        org.projects.hosted_tool_permissions.retrieve(ids.project)
    ),
    "update-project-hosted-tool-permissions": lambda org, ids: (
        org.projects.hosted_tool_permissions.update(
            ids.project, web_search={"enabled": False}, mcp={"enabled": False}
        )
    ),
    "retrieve-project-model-permissions": lambda org, ids: org.projects.model_permissions.retrieve(
        ids.project
    ),
    "update-project-model-permissions": lambda org, ids: org.projects.model_permissions.update(
        ids.project, mode="allow_list", model_ids=["gpt-4.1-mini-2025-04-14"]
    ),
    "delete-project-model-permissions": lambda org, ids: org.projects.model_permissions.delete(
        ids.project
    ),
    "list-project-rate-limits": lambda org, ids: org.projects.rate_limits.list_rate_limits(
        ids.project, limit=5
    ),
    "update-project-rate-limits": lambda org, ids: org.projects.rate_limits.update_rate_limit(
        ids.rate_limit, project_id=ids.project, max_requests_per_1_minute=100
    ),
    "list-project-service-accounts": lambda org, ids: org.projects.service_accounts.list(
        ids.project, limit=5
    ),
    "create-project-service-account": lambda org, ids: org.projects.service_accounts.create(
        ids.project, name="release-bot"
    ),
    "retrieve-project-service-account": lambda org, ids: org.projects.service_accounts.retrieve(
        ids.service_account, project_id=ids.project
    ),
    "update-project-service-account": lambda org, ids: org.projects.service_accounts.update(
        ids.service_account, project_id=ids.project, name="renamed-bot", role="owner"
    ),
    "delete-project-service-account": lambda org, ids: org.projects.service_accounts.delete(
        ids.service_account, project_id=ids.project
    ),
    "CreateanAPIkeyforaserviceaccount": lambda org, ids: (
        org.projects.service_accounts.api_keys.create(
            ids.service_account, project_id=ids.project, name="deploy", scopes=["api.all"]
        )
    ),
    "list-project-spend-alerts": lambda org, ids: org.projects.spend_alerts.list(
        ids.project_alert_project, limit=5
    ),
    "create-project-spend-alert": lambda org, ids: org.projects.spend_alerts.create(
        ids.project,
        threshold_amount=25_000,
        currency="USD",
        interval="month",
        notification_channel=CHANNEL,
    ),
    "retrieve-project-spend-alert": lambda org, ids: org.projects.spend_alerts.retrieve(
        ids.project_alert, project_id=ids.project_alert_project
    ),
    "update-project-spend-alert": lambda org, ids: org.projects.spend_alerts.update(
        ids.project_alert,
        project_id=ids.project_alert_project,
        threshold_amount=30_000,
        currency="USD",
        interval="month",
        notification_channel=CHANNEL,
    ),
    "delete-project-spend-alert": lambda org, ids: org.projects.spend_alerts.delete(
        ids.project_alert, project_id=ids.project_alert_project
    ),
    "list-project-users": lambda org, ids: org.projects.users.list(ids.project, limit=5),
    "create-project-user": lambda org, ids: org.projects.users.create(
        ids.project, user_id=ids.non_member, role="member"
    ),
    "retrieve-project-user": lambda org, ids: org.projects.users.retrieve(
        ids.member, project_id=ids.project
    ),
    "modify-project-user": lambda org, ids: org.projects.users.update(
        ids.member, project_id=ids.project, role="owner"
    ),
    "delete-project-user": lambda org, ids: org.projects.users.delete(
        ids.member, project_id=ids.project
    ),
    "Getprojectspendlimit": lambda org, ids: (
        _with_project_limit(org, ids),
        org.projects.spend_limit.retrieve(ids.project),
    ),
    "Updateprojectspendlimit": _with_project_limit,
    "Deleteprojectspendlimit": lambda org, ids: (
        _with_project_limit(org, ids),
        org.projects.spend_limit.delete(ids.project),
    ),
    # roles
    "list-roles": lambda org, ids: org.roles.list(limit=3, order="desc"),
    "create-role": lambda org, ids: org.roles.create(
        role_name="Usage Reader", permissions=["api.usage.read"], description="Reads usage"
    ),
    "retrieve-role": lambda org, ids: org.roles.retrieve(ids.custom_role),
    "update-role": lambda org, ids: org.roles.update(
        ids.custom_role, permissions=["api.usage.read", "api.keys.read"], role_name="Renamed"
    ),
    "delete-role": lambda org, ids: org.roles.delete(ids.custom_role),
    # organization spend alerts and limit
    "list-organization-spend-alerts": lambda org, ids: org.spend_alerts.list(limit=2),
    "create-organization-spend-alert": lambda org, ids: org.spend_alerts.create(
        threshold_amount=900_000, currency="USD", interval="month", notification_channel=CHANNEL
    ),
    "retrieve-organization-spend-alert": lambda org, ids: org.spend_alerts.retrieve(ids.alert),
    "update-organization-spend-alert": lambda org, ids: org.spend_alerts.update(
        ids.alert,
        threshold_amount=700_000,
        currency="USD",
        interval="month",
        notification_channel=CHANNEL,
    ),
    "delete-organization-spend-alert": lambda org, ids: org.spend_alerts.delete(ids.alert),
    "Getorganizationspendlimit": lambda org, ids: org.spend_limit.retrieve(),
    "Updateorganizationspendlimit": lambda org, ids: org.spend_limit.update(
        threshold_amount=5_000_000, currency="USD", interval="month"
    ),
    "Deleteorganizationspendlimit": lambda org, ids: org.spend_limit.delete(),
    # users and user roles
    "list-users": lambda org, ids: org.users.list(limit=5),
    "retrieve-user": lambda org, ids: org.users.retrieve(ids.user),
    "modify-user": lambda org, ids: org.users.update(ids.user, role="owner"),
    "delete-user": lambda org, ids: org.users.delete(ids.user),
    "list-user-role-assignments": lambda org, ids: org.users.roles.list(ids.user, limit=10),
    "assign-user-role": lambda org, ids: org.users.roles.create(ids.user, role_id=ids.custom_role),
    "retrieve-user-role": lambda org, ids: (
        org.users.roles.create(ids.user, role_id=ids.custom_role),
        org.users.roles.retrieve(ids.custom_role, user_id=ids.user),
    ),
    "unassign-user-role": lambda org, ids: (
        org.users.roles.create(ids.user, role_id=ids.custom_role),
        org.users.roles.delete(ids.custom_role, user_id=ids.user),
    ),
}
