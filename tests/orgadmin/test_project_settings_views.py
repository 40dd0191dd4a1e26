"""A project's settings: certificates, spend, model and hosted-tool permissions, groups,
data retention."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from orgadmin.models import ActionLog, Project, ProjectCertificate, ProjectGroup, SpendAlert
from tests.orgadmin.conftest import HX, active_project, changed, logged


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_it_activates_and_deactivates_certificates_for_a_project(as_admin, synced, store):
    project = active_project(store)
    certs = sorted(store.certificates)[:2]
    url = reverse("orgadmin:project_certificates_toggle", args=[project.id])
    response = as_admin.post(url, {"certificate_ids": certs, "action": "activate"}, headers=HX)
    assert changed(response)
    assert set(certs) <= store.projects[project.id].active_certificates
    cached = ProjectCertificate.objects.filter(
        project__openai_id=project.id, certificate_openai_id__in=certs
    )
    assert {c.active for c in cached} == {True}
    logged("project.certificates.activate")

    as_admin.post(url, {"certificate_ids": certs[:1], "action": "deactivate"}, headers=HX)
    assert certs[0] not in store.projects[project.id].active_certificates
    assert not ProjectCertificate.objects.get(
        project__openai_id=project.id, certificate_openai_id=certs[0]
    ).active
    logged("project.certificates.deactivate")


def test_it_asks_to_pick_certificates_first(as_admin, synced, store):
    project = active_project(store)
    url = reverse("orgadmin:project_certificates_toggle", args=[project.id])
    response = as_admin.post(url, {"action": "activate"}, headers=HX)
    assert "Select certificates first." in text(response)
    assert not ActionLog.objects.exists()


# --- spend ----------------------------------------------------------------------------------------


def test_it_sets_a_projects_hard_limit_in_cents(as_admin, synced, store):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:project_spend_limit", args=[project.id]),
        {"amount": "$1,234.56"},
        headers=HX,
    )
    assert changed(response)
    assert store.projects[project.id].spend_limit.threshold_amount == 123456
    assert Project.objects.get(openai_id=project.id).spend_limit_cents == 123456
    logged("spend_limit.update")
    assert "$1,234.56" in text(
        as_admin.get(reverse("orgadmin:project_tab", args=[project.id, "spend"]))
    )

    as_admin.post(reverse("orgadmin:project_spend_limit_delete", args=[project.id]), headers=HX)
    assert store.projects[project.id].spend_limit is None
    assert Project.objects.get(openai_id=project.id).spend_limit_cents is None
    logged("spend_limit.delete")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12.345", "Use at most two decimals: the smallest unit is one cent."),
        ("-10", "Enter an amount of $0 or more."),
        ("0", "Enter at least $0.01."),
        ("lots", "Enter an amount in dollars, like 1,500 or 99.95."),
        ("1e5", "Enter an amount in dollars, like 1,500 or 99.95."),
        ("NaN", "Enter an amount in dollars, like 1,500 or 99.95."),
    ],
)
def test_it_refuses_a_bad_amount_beside_the_field(as_admin, synced, store, amount, message):
    project = active_project(store)
    before = store.projects[project.id].spend_limit
    response = as_admin.post(
        reverse("orgadmin:project_spend_limit", args=[project.id]), {"amount": amount}, headers=HX
    )
    body = text(response)
    assert message in body
    assert 'aria-invalid="true"' in body
    assert store.projects[project.id].spend_limit is before
    assert not ActionLog.objects.exists()


def test_it_creates_edits_and_deletes_a_project_spend_alert(as_admin, synced, store):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:project_spend_alert_create", args=[project.id]),
        {"amount": "0.10", "recipients": "a@example.com, b@example.com", "subject_prefix": "[AI]"},
        headers=HX,
    )
    assert changed(response)
    alert = next(
        a for a in store.projects[project.id].spend_alerts.values() if a.threshold_amount == 10
    )
    assert alert.recipients == ["a@example.com", "b@example.com"]
    cached = SpendAlert.objects.get(openai_id=alert.id)
    assert (cached.threshold_cents, cached.project.openai_id) == (10, project.id)
    logged("spend_alert.create")

    edited = as_admin.post(
        reverse("orgadmin:project_spend_alert_edit", args=[project.id, alert.id]),
        {"amount": "2500", "recipients": "a@example.com", "subject_prefix": ""},
        headers=HX,
    )
    assert changed(edited)
    assert store.projects[project.id].spend_alerts[alert.id].threshold_amount == 250000
    assert SpendAlert.objects.get(openai_id=alert.id).threshold_cents == 250000
    logged("spend_alert.update")
    assert "$2,500.00" in text(
        as_admin.get(reverse("orgadmin:project_tab", args=[project.id, "spend"]))
    )

    as_admin.post(
        reverse("orgadmin:project_spend_alert_delete", args=[project.id, alert.id]), headers=HX
    )
    assert alert.id not in store.projects[project.id].spend_alerts
    assert not SpendAlert.objects.filter(openai_id=alert.id).exists()
    logged("spend_alert.delete")


def test_it_checks_alert_recipients(as_admin, synced, store):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:project_spend_alert_create", args=[project.id]),
        {"amount": "100", "recipients": "finance@, ok@example.com"},
        headers=HX,
    )
    assert "Not valid email addresses: “finance@”." in text(response)
    assert not ActionLog.objects.exists()


# --- permissions, retention, groups ------------------------------------------------------------


def test_it_restricts_a_project_to_some_models_then_lifts_it(as_admin, synced, store):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:project_model_permissions", args=[project.id]),
        {"mode": "allow_list", "model_ids": "gpt-4o-mini\ngpt-4.1, gpt-4o-mini"},
        headers=HX,
    )
    assert changed(response)
    assert store.projects[project.id].model_permissions == (
        "allow_list",
        ["gpt-4o-mini", "gpt-4.1"],
    )
    cached = Project.objects.get(openai_id=project.id)
    assert (cached.model_permissions_mode, cached.model_ids) == (
        "allow_list",
        ["gpt-4o-mini", "gpt-4.1"],
    )
    logged("project.model_permissions.update")
    page = text(as_admin.get(reverse("orgadmin:project_tab", args=[project.id, "permissions"])))
    assert "Only these models may be used" in page

    as_admin.post(
        reverse("orgadmin:project_model_permissions_delete", args=[project.id]), headers=HX
    )
    assert store.projects[project.id].model_permissions is None
    logged("project.model_permissions.delete")
    assert "Every model may be used." in text(
        as_admin.get(reverse("orgadmin:project_tab", args=[project.id, "permissions"]))
    )


def test_it_refuses_model_ids_with_spaces(as_admin, synced, store):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:project_model_permissions", args=[project.id]),
        {"mode": "deny_list", "model_ids": "gpt 4o!"},
        headers=HX,
    )
    assert "Not model ids: “4o!”." in text(response)
    assert not ActionLog.objects.exists()


def test_it_turns_hosted_tools_on_and_off(as_admin, synced, store):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:project_hosted_tools", args=[project.id]),
        {"file_search": "on", "code_interpreter": "on"},
        headers=HX,
    )
    assert changed(response)
    assert store.projects[project.id].hosted_tools == {
        "file_search": True,
        "web_search": False,
        "image_generation": False,
        "mcp": False,
        "code_interpreter": True,
    }
    assert Project.objects.get(openai_id=project.id).hosted_tools["web_search"] is False
    logged("project.hosted_tools.update")


def test_it_sets_a_projects_data_retention(as_admin, synced, store):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:project_retention", args=[project.id]),
        {"retention_type": "zero_data_retention"},
        headers=HX,
    )
    assert changed(response)
    assert store.projects[project.id].data_retention == "zero_data_retention"
    assert Project.objects.get(openai_id=project.id).data_retention == "zero_data_retention"
    logged("project.data_retention.update")
    bad = as_admin.post(
        reverse("orgadmin:project_retention", args=[project.id]),
        {"retention_type": "forever"},
        headers=HX,
    )
    assert "Select a valid choice. forever is not one of the available choices." in text(bad)


def test_it_gives_a_group_access_to_a_project_and_revokes_it(as_admin, synced, store):
    project = next(
        p
        for p in store.projects.values()
        if p.archived_at is None and len(p.groups) < len(store.groups)
    )
    group = next(g for g in store.groups.values() if g.id not in project.groups)
    role = next(iter(store.project_roles))
    response = as_admin.post(
        reverse("orgadmin:project_group_add", args=[project.id]),
        {"group": group.id, "role": role},
        headers=HX,
    )
    assert changed(response)
    assert store.projects[project.id].groups[group.id][0] == role
    assert ProjectGroup.objects.filter(
        project__openai_id=project.id, group_openai_id=group.id
    ).exists()
    logged("project.group.add")

    as_admin.post(reverse("orgadmin:project_group_remove", args=[project.id, group.id]), headers=HX)
    assert group.id not in store.projects[project.id].groups
    assert not ProjectGroup.objects.filter(
        project__openai_id=project.id, group_openai_id=group.id
    ).exists()
    logged("project.group.remove")


def test_it_shows_the_apis_refusal_of_an_unknown_project_role(as_admin, synced, store):
    project = active_project(store)
    group = next(g for g in store.groups.values() if g.id not in project.groups)
    response = as_admin.post(
        reverse("orgadmin:project_group_add", args=[project.id]),
        {"group": group.id, "role": "role_nope"},
        headers=HX,
    )
    body = text(response)
    assert "OpenAI refused to give" in body
    assert "no project role with id 'role_nope'" in body
    assert not ProjectGroup.objects.filter(
        group_openai_id=group.id, project__openai_id=project.id
    ).exists()
