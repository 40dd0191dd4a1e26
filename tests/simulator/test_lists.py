"""List endpoints: id cursors (style A), `next` cursors (style B) and audit-log filters."""

from __future__ import annotations

import pytest
from openai.resources.admin.organization.organization import Organization

from orgadmin.simulator import SimulatorApp
from orgadmin.simulator.audit import TENANT_SCOPED
from tests.simulator.support import DAY, NOW, make_app, make_client, scenario_ids


@pytest.fixture(scope="module")
def app() -> SimulatorApp:
    return make_app()  # read-only tests share one app


@pytest.fixture(scope="module")
def org(app: SimulatorApp) -> Organization:
    return make_client(app).admin.organization


def test_it_pages_users_by_id_cursor(org: Organization, app: SimulatorApp) -> None:
    everyone = [u.id for u in org.users.list(limit=7)]  # the SDK follows `after=last_id`
    assert len(everyone) == len(app.store.users) == len(set(everyone))
    page = org.users.list(limit=7, after=everyone[6])
    assert page.first_id == everyone[7]
    assert page.last_id == everyone[13]
    assert page.has_more


def test_it_orders_certificates_newest_first_by_default(org: Organization) -> None:
    newest_first = [c.created_at for c in org.certificates.list()]
    assert newest_first == sorted(newest_first, reverse=True)
    oldest_first = [c.created_at for c in org.certificates.list(order="asc")]
    assert oldest_first == sorted(oldest_first)


def test_it_pages_groups_and_roles_by_next_cursor(org: Organization, app: SimulatorApp) -> None:
    groups = [g.id for g in org.groups.list(limit=2)]
    assert groups == sorted(app.store.groups, key=lambda g: app.store.groups[g].created_at)
    first = org.groups.list(limit=2)
    assert first.has_more
    assert first.next == first.data[-1].id
    last = org.roles.list(limit=1000)
    assert last.next is None
    assert not last.has_more


def test_it_hides_keys_whose_owner_lost_access_unless_asked(
    org: Organization, app: SimulatorApp
) -> None:
    project = next(
        p
        for p in app.store.projects.values()
        if any(not app.store.key_owner_has_access(k) for k in app.store.project_keys(p.id))
        and p.archived_at is None
    )
    default = {k.id for k in org.projects.api_keys.list(project.id)}
    everything = {k.id for k in org.projects.api_keys.list(project.id, owner_project_access="any")}
    inactive = {
        k.id for k in org.projects.api_keys.list(project.id, owner_project_access="inactive")
    }
    assert inactive
    assert default == everything - inactive


def test_it_lists_audit_events_newest_first_with_before_and_after(
    org: Organization, app: SimulatorApp
) -> None:
    first = org.audit_logs.list(limit=100)
    times = [e.effective_at for e in first.data]
    assert times == sorted(times, reverse=True)
    assert first.has_more
    second = org.audit_logs.list(limit=100, after=first.last_id)
    assert second.data[0].effective_at <= times[-1]
    back = org.audit_logs.list(limit=100, before=second.first_id)
    assert [e.id for e in back.data] == [e.id for e in first.data]
    total = sum(1 for _ in org.audit_logs.list(limit=100))
    assert total == len(app.store.audit_event_ids(include_tenant=False))


def test_it_filters_audit_events(org: Organization, app: SimulatorApp) -> None:
    ids = scenario_ids(app)
    owner = app.store.users[ids.owner]
    logins = org.audit_logs.list(event_types=["login.succeeded"], actor_ids=[ids.owner], limit=100)
    assert logins.data
    assert {e.type for e in logins.data} == {"login.succeeded"}
    assert {e.actor.session.user.id for e in logins.data} == {ids.owner}
    by_email = org.audit_logs.list(actor_emails=[owner.email.upper()], limit=100)
    assert {e.id for e in by_email.data} >= {e.id for e in logins.data[:5]}
    in_project = list(org.audit_logs.list(project_ids=[ids.project], limit=100))
    assert in_project
    assert {e.project.id for e in in_project} == {ids.project}
    about_key = list(org.audit_logs.list(resource_ids=[ids.key], limit=100))
    assert "api_key.created" in {e.type for e in about_key}
    window = org.audit_logs.list(
        effective_at={"gt": NOW - 10 * DAY, "lte": NOW - 5 * DAY}, limit=100
    )
    assert all(NOW - 10 * DAY < e.effective_at <= NOW - 5 * DAY for e in window.data)
    terraform = next(k for k in app.store.admin_keys.values() if k.name == "Terraform")
    automated = list(org.audit_logs.list(actor_ids=[terraform.id], limit=100))
    assert automated
    assert {e.actor.type for e in automated} == {"api_key"}


def test_it_keeps_tenant_events_behind_tenant_only(org: Organization) -> None:
    ordinary = list(org.audit_logs.list(limit=100))
    assert not any(e.type in TENANT_SCOPED for e in ordinary)
    tenant = list(org.audit_logs.list(tenant_only=True, limit=100))
    assert tenant
    assert all(e.type in TENANT_SCOPED for e in tenant)
    bound = org.audit_logs.list(tenant_only=True, event_types=["role.bound_to_resource"])
    assert {e.type for e in bound.data} == {"role.bound_to_resource"}
