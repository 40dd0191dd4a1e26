"""Mutations change later reads and append the matching audit event, as the real API does."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai.resources.admin.organization.organization import Organization

from orgadmin.simulator import SimulatorApp
from tests.simulator.support import DAY, KEY, NOW, TODAY, Ids, make_app, make_client, scenario_ids


@pytest.fixture
def app() -> SimulatorApp:
    return make_app()


@pytest.fixture
def ids(app: SimulatorApp) -> Ids:
    return scenario_ids(app)


@pytest.fixture
def org(app: SimulatorApp) -> Organization:
    return make_client(app).admin.organization


def latest_event(org: Any, type_: str) -> Any:
    events = org.audit_logs.list(event_types=[type_], limit=1).data
    assert events, f"no {type_} event"
    event = events[0]
    assert event.effective_at == NOW
    assert event.actor.type == "api_key"
    assert event.actor.api_key.user.id is not None
    return event


def test_it_creates_an_invite_and_logs_it(org: Organization) -> None:
    invite = org.invites.create(email="Ada.New@heliolabs.example", role="owner")
    assert invite.status == "pending"
    assert invite.expires_at == NOW + 7 * DAY
    assert invite.id in {i.id for i in org.invites.list()}  # auto-pagination
    event = latest_event(org, "invite.sent")
    payload = event.to_dict()["invite.sent"]
    assert payload == {"id": invite.id, "data": {"email": invite.email, "role": "owner"}}
    with pytest.raises(openai.BadRequestError):
        org.invites.create(email="ada.new@heliolabs.example", role="reader")
    org.invites.delete(invite.id)
    with pytest.raises(openai.NotFoundError):
        org.invites.retrieve(invite.id)
    assert latest_event(org, "invite.deleted").to_dict()["invite.deleted"]["id"] == invite.id


def test_it_changes_a_user_role_and_logs_it(org: Organization, ids: Ids) -> None:
    assert org.users.retrieve(ids.user).role == "reader"
    org.users.update(ids.user, role="owner")
    assert org.users.retrieve(ids.user).role == "owner"
    event = latest_event(org, "user.updated").to_dict()
    assert event["user.updated"] == {"id": ids.user, "changes_requested": {"role": "owner"}}
    roles = {r.name for r in org.users.roles.list(ids.user)}
    assert "Owner" in roles


def test_it_removes_a_user_everywhere(app: SimulatorApp, org: Organization, ids: Ids) -> None:
    owner = app.store.api_keys[ids.key].owner_id
    org.users.delete(owner)
    key = org.projects.api_keys.retrieve(ids.key, project_id=ids.project)
    assert key.owner_project_access == "inactive"
    later = NOW + 6 * 3600
    assert app.store.cost_total(NOW + 1, later, now=later, filters={"api_key_ids": [ids.key]}) == 0
    if ids.member == owner:
        return
    org.users.delete(ids.member)
    with pytest.raises(openai.NotFoundError):
        org.users.retrieve(ids.member)
    assert ids.member not in {u.id for u in org.projects.users.list(ids.project)}
    assert latest_event(org, "user.deleted").to_dict()["user.deleted"] == {"id": ids.member}


def test_it_archives_a_project(app: SimulatorApp, org: Organization, ids: Ids) -> None:
    project = org.projects.archive(ids.project)
    assert project.status == "archived"
    assert project.archived_at == NOW
    assert ids.project not in {p.id for p in org.projects.list()}
    assert ids.project in {p.id for p in org.projects.list(include_archived=True)}
    with pytest.raises(openai.BadRequestError):
        org.projects.users.list(ids.project)
    with pytest.raises(openai.BadRequestError):
        org.projects.update(ids.project, name="Zombie")
    event = latest_event(org, "project.archived")
    assert event.project.id == ids.project
    assert event.to_dict()["project.archived"] == {"id": ids.project}
    keys = org.projects.api_keys.list(ids.project, owner_project_access="inactive").data
    assert ids.key in {k.id for k in keys}
    filters = {"project_ids": [ids.project]}
    assert (
        app.store.usage_totals("completions", NOW + 1, NOW + 3600, now=NOW + 3600, filters=filters)[
            "num_model_requests"
        ]
        == 0
    )


def test_it_deletes_a_key_and_its_usage_stops(
    app: SimulatorApp, org: Organization, ids: Ids
) -> None:
    deleted = org.projects.api_keys.delete(ids.key, project_id=ids.project)
    assert deleted.deleted
    with pytest.raises(openai.NotFoundError):
        org.projects.api_keys.retrieve(ids.key, project_id=ids.project)
    assert latest_event(org, "api_key.deleted").to_dict()["api_key.deleted"] == {"id": ids.key}
    later = NOW + 6 * 3600
    after = app.store.cost_total(NOW + 1, later, now=later, filters={"api_key_ids": [ids.key]})
    assert after == 0
    before = app.store.cost_total(TODAY - DAY, NOW, now=later, filters={"api_key_ids": [ids.key]})
    assert before > 0  # history stays


def test_it_updates_a_rate_limit(org: Organization, ids: Ids) -> None:
    org.projects.rate_limits.update_rate_limit(
        ids.rate_limit, project_id=ids.project, max_requests_per_1_minute=42
    )
    limits = {r.id: r for r in org.projects.rate_limits.list_rate_limits(ids.project)}
    assert limits[ids.rate_limit].max_requests_per_1_minute == 42
    event = latest_event(org, "rate_limit.updated").to_dict()["rate_limit.updated"]
    assert event == {"id": ids.rate_limit, "changes_requested": {"max_requests_per_1_minute": 42}}


def test_it_activates_and_deletes_certificates(org: Organization, ids: Ids) -> None:
    result = org.certificates.activate(certificate_ids=[ids.certificate])
    assert [c.active for c in result.data] == [True]
    listed = {c.id: c.active for c in org.certificates.list()}
    assert listed[ids.certificate]
    assert latest_event(org, "certificates.activated")
    with pytest.raises(openai.BadRequestError):
        org.certificates.delete(ids.certificate)
    org.certificates.deactivate(certificate_ids=[ids.certificate])
    org.projects.certificates.activate(ids.project, certificate_ids=[ids.certificate])
    project_view = {c.id: c.active for c in org.projects.certificates.list(ids.project)}
    assert project_view[ids.certificate]
    with pytest.raises(openai.BadRequestError):
        org.certificates.delete(ids.certificate)
    org.projects.certificates.deactivate(ids.project, certificate_ids=[ids.certificate])
    org.certificates.delete(ids.certificate)
    deleted = latest_event(org, "certificate.deleted").to_dict()["certificate.deleted"]
    assert deleted["certificate"].startswith("-----BEGIN CERTIFICATE-----")


def test_it_authenticates_a_created_admin_key_until_deleted(app: SimulatorApp) -> None:
    org = make_client(app).admin.organization
    created = org.admin_api_keys.create(name="Automation")
    assert created.value.startswith("sk-admin-")
    assert created.redacted_value.endswith(created.value[-3:])
    other = make_client(app, key=created.value).admin.organization
    assert other.users.list(limit=1).data
    assert org.admin_api_keys.retrieve(created.id).last_used_at == NOW
    org.admin_api_keys.delete(created.id)
    with pytest.raises(openai.AuthenticationError):
        other.users.list(limit=1)
    assert "value" not in org.admin_api_keys.retrieve(next(iter(app.store.admin_keys))).model_dump()


def test_it_expires_admin_keys(app: SimulatorApp) -> None:
    clock = [float(NOW)]
    app = make_app(now=lambda: clock[0])
    created = make_client(app).admin.organization.admin_api_keys.create(
        name="Short", expires_in_seconds=60
    )
    short = make_client(app, key=created.value).admin.organization
    assert short.users.list(limit=1).data
    clock[0] += 61
    with pytest.raises(openai.AuthenticationError):
        short.users.list(limit=1)


def test_it_manages_service_accounts_and_their_keys(
    app: SimulatorApp, org: Organization, ids: Ids
) -> None:
    sa = org.projects.service_accounts.create(ids.project, name="release-bot")
    assert sa.role == "member"
    assert sa.api_key.value.startswith("sk-svcacct-")
    keys = {k.id: k for k in org.projects.api_keys.list(ids.project, owner_project_access="any")}
    assert keys[sa.api_key.id].owner.type == "service_account"
    with pytest.raises(openai.BadRequestError):
        org.projects.api_keys.delete(sa.api_key.id, project_id=ids.project)
    extra = org.projects.service_accounts.api_keys.create(sa.id, project_id=ids.project)
    assert extra.value.startswith("sk-svcacct-")
    only = org.projects.service_accounts.create(
        ids.project, name="no-key", create_service_account_only=True
    )
    assert only.role == "none"
    assert only.api_key is None
    org.projects.service_accounts.delete(sa.id, project_id=ids.project)
    remaining = {k.id for k in org.projects.api_keys.list(ids.project, owner_project_access="any")}
    assert sa.api_key.id not in remaining
    assert extra.id not in remaining
    assert latest_event(org, "service_account.deleted")


def test_it_manages_project_members(org: Organization, ids: Ids) -> None:
    added = org.projects.users.create(ids.project, user_id=ids.non_member, role="member")
    assert added.role == "member"
    event = latest_event(org, "user.added")
    assert event.project.id == ids.project
    org.projects.users.update(ids.non_member, project_id=ids.project, role="owner")
    assert org.projects.users.retrieve(ids.non_member, project_id=ids.project).role == "owner"
    org.projects.users.delete(ids.non_member, project_id=ids.project)
    with pytest.raises(openai.NotFoundError):
        org.projects.users.retrieve(ids.non_member, project_id=ids.project)
    with pytest.raises(openai.BadRequestError):
        org.projects.users.create(ids.project, email="stranger@elsewhere.example", role="member")


def test_it_manages_groups_roles_and_project_access(org: Organization, ids: Ids) -> None:
    group = org.groups.create(name="Night shift")
    org.groups.users.create(group.id, user_id=ids.user)
    assert [u.id for u in org.groups.users.list(group.id)] == [ids.user]
    role = org.roles.create(role_name="Night auditor", permissions=["api.audit_logs.read"])
    org.groups.roles.create(group.id, role_id=role.id)
    assert [r.id for r in org.groups.roles.list(group.id)] == [role.id]
    org.projects.groups.create(ids.project, group_id=group.id, role=ids.project_role)
    assert group.id in {g.group_id for g in org.projects.groups.list(ids.project)}
    org.roles.update(role.id, permissions=["api.audit_logs.read", "api.keys.read"])
    changes = latest_event(org, "role.updated").to_dict()["role.updated"]["changes_requested"]
    assert changes == {"permissions_added": ["api.keys.read"], "permissions_removed": []}
    org.groups.delete(group.id)
    assert group.id not in {g.group_id for g in org.projects.groups.list(ids.project)}
    assert latest_event(org, "group.deleted")


def test_it_updates_settings(org: Organization, ids: Ids) -> None:
    org.projects.model_permissions.update(
        ids.project, mode="deny_list", model_ids=["o1-2024-12-17"]
    )
    assert org.projects.model_permissions.retrieve(ids.project).api_model_ids == ["o1-2024-12-17"]
    org.projects.model_permissions.delete(ids.project)
    assert org.projects.model_permissions.retrieve(ids.project).api_model_ids == []
    org.projects.hosted_tool_permissions.update(ids.project, mcp={"enabled": False})
    assert not org.projects.hosted_tool_permissions.retrieve(ids.project).mcp.enabled
    org.data_retention.update(retention_type="zero_data_retention")
    assert org.data_retention.retrieve().type == "zero_data_retention"


def test_it_enforces_a_spend_limit_once_the_month_reaches_it(org: Organization, ids: Ids) -> None:
    low = org.projects.spend_limit.update(
        ids.project, threshold_amount=1, currency="USD", interval="month"
    )
    assert low.enforcement.status == "enforcing"
    high = org.spend_limit.update(threshold_amount=10**10, currency="USD", interval="month")
    assert high.enforcement.status == "inactive"
    org.spend_limit.delete()
    with pytest.raises(openai.NotFoundError):
        org.spend_limit.retrieve()


def test_it_manages_spend_alerts(org: Organization) -> None:
    channel = {"type": "email", "recipients": ["cfo@heliolabs.example"]}
    alert = org.spend_alerts.create(
        threshold_amount=123_00, currency="USD", interval="month", notification_channel=channel
    )
    assert alert.id in {a.id for a in org.spend_alerts.list()}
    org.spend_alerts.delete(alert.id)
    assert alert.id not in {a.id for a in org.spend_alerts.list()}


def test_it_lets_a_client_page_on_while_items_are_deleted(
    org: Organization, app: SimulatorApp
) -> None:
    first = org.users.list(limit=5)
    last = first.data[-1].id
    if last != app.store.owner_user_id:
        org.users.delete(last)
    rest = org.users.list(limit=5, after=last)
    assert rest.data
    assert all(u.id != last for u in rest.data)


def test_it_keeps_the_tests_key_out_of_listings(app: SimulatorApp) -> None:
    listed = make_client(app).admin.organization.admin_api_keys.list()
    assert all(KEY not in k.model_dump_json() for k in listed)
