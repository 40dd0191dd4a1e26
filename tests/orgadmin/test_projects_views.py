"""Projects: the list, create, rename, archive; members, service accounts, keys, rate limits."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.urls import reverse

from orgadmin.models import (
    ActionLog,
    Project,
    ProjectApiKey,
    ProjectUser,
    RateLimit,
    ServiceAccount,
)
from tests.orgadmin.conftest import HX, active_project, changed, logged


def text(response) -> str:
    return html.unescape(response.content.decode())


def _database_dump() -> str:
    """Every row of every table, as text: a secret must appear nowhere in it."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the schema
            rows.append(repr(cursor.fetchall()))
    return "\n".join(rows)


# --- the list --------------------------------------------------------------------------------


def test_it_lists_active_projects_with_their_counts(as_admin, synced, store):
    page = text(as_admin.get(reverse("orgadmin:projects")))
    project = active_project(store)
    row = page.split(project.name)[1].split("</tr>")[0]
    keys = sum(1 for k in store.api_keys.values() if k.project_id == project.id)
    counts = [len(project.members), len(project.service_accounts), keys]
    assert [int(c) for c in row.split('<td class="num">')[1:4] for c in [c.split("<")[0]]] == counts
    archived = next(p for p in store.projects.values() if p.archived_at)
    assert archived.name not in page
    assert archived.name in text(as_admin.get(reverse("orgadmin:projects"), {"status": "archived"}))


def test_it_searches_projects(as_admin, synced, store):
    project = active_project(store)
    page = text(
        as_admin.get(
            reverse("orgadmin:projects"),
            {"q": project.name[:6].lower(), "status": "all"},
            headers=HX,
        )
    )
    assert project.name in page
    assert "<html" not in page
    assert "No active project matches" in text(
        as_admin.get(reverse("orgadmin:projects"), {"q": "zzz"})
    )


def test_it_shows_projects_read_only_to_finance(client_as, finance, synced, store):
    project = active_project(store)
    c = client_as(finance)
    assert project.name in text(c.get(reverse("orgadmin:projects")))
    page = text(c.get(reverse("orgadmin:project", args=[project.id])))
    assert "Archive project" not in page
    assert "Add to project" not in page
    spend = text(c.get(reverse("orgadmin:project_tab", args=[project.id, "spend"])))
    assert "Hard spend limit" in spend
    assert "Save limit" not in spend


# --- create, rename, archive ------------------------------------------------------------------


def test_it_creates_a_project_and_opens_it(as_admin, synced, store):
    response = as_admin.post(
        reverse("orgadmin:project_create"), {"name": "Billing Bot", "residency": ""}, headers=HX
    )
    project = next(p for p in store.projects.values() if p.name == "Billing Bot")
    assert response["HX-Redirect"] == reverse("orgadmin:project", args=[project.id])
    assert Project.objects.get(openai_id=project.id).status == "active"
    logged("project.create")
    assert "Billing Bot" in text(as_admin.get(reverse("orgadmin:projects")))


def test_it_asks_for_a_name(as_admin, synced, store):
    count = len(store.projects)
    response = as_admin.post(reverse("orgadmin:project_create"), {"name": "   "}, headers=HX)
    assert "This field is required." in text(response)
    assert len(store.projects) == count


def test_it_renames_a_project(as_admin, synced, store):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:project_rename", args=[project.id]), {"name": "New name"}, headers=HX
    )
    assert changed(response)
    assert store.projects[project.id].name == "New name"
    assert Project.objects.get(openai_id=project.id).name == "New name"
    logged("project.update")


def test_it_archives_a_project_once_its_name_is_typed(as_admin, synced, store):
    project = active_project(store)
    page = text(as_admin.get(reverse("orgadmin:project", args=[project.id])))
    assert f'data-confirm-type="{project.name}"' in page

    wrong = as_admin.post(
        reverse("orgadmin:project_archive", args=[project.id]), {"confirm_name": "nope"}, headers=HX
    )
    assert f"Type “{project.name}” exactly to confirm." in text(wrong)
    assert store.projects[project.id].archived_at is None

    response = as_admin.post(
        reverse("orgadmin:project_archive", args=[project.id]),
        {"confirm_name": project.name},
        headers=HX,
    )
    assert changed(response)
    assert store.projects[project.id].archived_at is not None
    cached = Project.objects.get(openai_id=project.id)
    assert cached.status == "archived"
    assert not cached.users.exists()
    logged("project.archive")
    page = text(as_admin.get(reverse("orgadmin:project", args=[project.id])))
    assert "This project is archived" in page
    assert "Archive project" not in page


def test_it_refuses_to_change_an_archived_project(as_admin, synced, store):
    archived = next(p for p in store.projects.values() if p.archived_at)
    response = as_admin.post(
        reverse("orgadmin:project_rename", args=[archived.id]), {"name": "X"}, headers=HX
    )
    assert "is archived; archived projects can't be changed" in text(response)
    assert not ActionLog.objects.exists()


# --- members --------------------------------------------------------------------------------


def test_it_adds_changes_and_removes_a_project_member(as_admin, synced, store):
    project = active_project(store)
    user = next(u for u in store.users.values() if u.id not in project.members)
    add = as_admin.post(
        reverse("orgadmin:project_user_add", args=[project.id]),
        {"user": user.email, "role": "member"},
        headers=HX,
    )
    assert changed(add)
    assert store.projects[project.id].members[user.id].role == "member"
    logged("project.user.add")

    as_admin.post(
        reverse("orgadmin:project_user_role", args=[project.id, user.id]),
        {"role": "owner"},
        headers=HX,
    )
    assert store.projects[project.id].members[user.id].role == "owner"
    assert (
        ProjectUser.objects.get(project__openai_id=project.id, user_openai_id=user.id).role
        == "owner"
    )
    logged("project.user.update")

    page = text(as_admin.get(reverse("orgadmin:project", args=[project.id])))
    assert (
        f"Remove {user.name} from the project “{project.name}”? They stay in the organization."
        in page
    )
    as_admin.post(reverse("orgadmin:project_user_remove", args=[project.id, user.id]), headers=HX)
    assert user.id not in store.projects[project.id].members
    assert not ProjectUser.objects.filter(
        project__openai_id=project.id, user_openai_id=user.id
    ).exists()
    logged("project.user.remove")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"user": "nobody@example.com", "role": "member"},
            "No member of the organization has the email",
        ),
        ({"user": "", "role": "member"}, "This field is required."),
        ({"role": "boss"}, "Select a valid choice"),
    ],
)
def test_it_explains_a_bad_member_to_add(as_admin, synced, store, data, message):
    project = active_project(store)
    if "user" not in data:
        data["user"] = next(u.email for u in store.users.values() if u.id not in project.members)
    response = as_admin.post(
        reverse("orgadmin:project_user_add", args=[project.id]), data, headers=HX
    )
    assert message in text(response)
    assert not ActionLog.objects.exists()


# --- service accounts and keys ----------------------------------------------------------------


def test_it_shows_a_new_service_account_key_once_and_never_keeps_it(
    as_admin, synced, store, caplog
):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:service_account_create", args=[project.id]),
        {"name": "ci-deploy"},
        headers=HX,
    )
    account = next(
        s for s in store.projects[project.id].service_accounts.values() if s.name == "ci-deploy"
    )
    secret = next(k.value for k in store.api_keys.values() if k.owner_id == account.id)
    body = text(response)
    assert f'value="{secret}"' in body
    assert 'data-copy="#secret-value"' in body
    assert "no-store" in response["Cache-Control"]
    assert changed(response)
    assert ServiceAccount.objects.filter(openai_id=account.id).exists()
    assert ProjectApiKey.objects.filter(owner_id=account.id).exists()  # its key, redacted
    logged("service_account.create")

    # Never again: not on the page, not in the database, not in a log, not in the session.
    page = text(
        as_admin.get(reverse("orgadmin:project_tab", args=[project.id, "service-accounts"]))
    )
    assert "ci-deploy" in page
    assert secret not in page
    assert secret not in _database_dump()
    assert secret not in caplog.text
    assert secret not in str(as_admin.session.items())


def test_it_creates_a_service_account_without_a_key(as_admin, synced, store):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:service_account_create", args=[project.id]),
        {"name": "no-key", "without_key": "on"},
        headers=HX,
    )
    assert "Copy it now" not in text(response)
    account = next(
        s for s in store.projects[project.id].service_accounts.values() if s.name == "no-key"
    )
    assert not any(k.owner_id == account.id for k in store.api_keys.values())


def test_it_explains_a_missing_service_account_name_beside_the_field(as_admin, synced, store):
    project = active_project(store)
    response = as_admin.post(
        reverse("orgadmin:service_account_create", args=[project.id]), {"name": ""}, headers=HX
    )
    assert response["HX-Retarget"] == "#account-form"
    assert "This field is required." in text(response)


def test_it_renames_a_service_account_and_changes_its_role(as_admin, synced, store):
    project = next(
        p for p in store.projects.values() if p.service_accounts and p.archived_at is None
    )
    account = next(iter(project.service_accounts.values()))
    as_admin.post(
        reverse("orgadmin:service_account_edit", args=[project.id, account.id]),
        {"name": "renamed-bot", "role": "owner"},
        headers=HX,
    )
    assert (account.name, account.role) == ("renamed-bot", "owner")
    assert ServiceAccount.objects.get(openai_id=account.id).name == "renamed-bot"
    logged("service_account.update")


def test_it_creates_another_key_for_a_service_account(as_admin, synced, store):
    project = next(
        p for p in store.projects.values() if p.service_accounts and p.archived_at is None
    )
    account = next(iter(project.service_accounts.values()))
    before = {k.id for k in store.api_keys.values()}
    response = as_admin.post(
        reverse("orgadmin:service_account_key_create", args=[project.id, account.id]),
        {"name": "rotation"},
        headers=HX,
    )
    new = next(k for k in store.api_keys.values() if k.id not in before)
    assert f'value="{new.value}"' in text(response)
    assert ProjectApiKey.objects.get(openai_id=new.id).owner_id == account.id
    assert new.value not in _database_dump()
    logged("service_account.key.create")


def test_it_deletes_a_service_account_and_its_keys(as_admin, synced, store):
    project = next(
        p for p in store.projects.values() if p.service_accounts and p.archived_at is None
    )
    account = next(iter(project.service_accounts.values()))
    as_admin.post(
        reverse("orgadmin:service_account_delete", args=[project.id, account.id]), headers=HX
    )
    assert account.id not in store.projects[project.id].service_accounts
    assert not ServiceAccount.objects.filter(openai_id=account.id).exists()
    assert not ProjectApiKey.objects.filter(owner_id=account.id).exists()
    logged("service_account.delete")


def test_it_deletes_a_users_api_key(as_admin, synced, store):
    key = next(
        k
        for k in store.api_keys.values()
        if k.owner_type == "user" and store.projects[k.project_id].archived_at is None
    )
    page = text(as_admin.get(reverse("orgadmin:keys"), {"q": key.id}))
    assert f"Delete the API key “{key.name}”" in page
    response = as_admin.post(
        reverse("orgadmin:project_key_delete", args=[key.project_id, key.id]), headers=HX
    )
    assert changed(response)
    assert key.id not in store.api_keys
    assert not ProjectApiKey.objects.filter(openai_id=key.id).exists()
    logged("api_key.delete")


def test_it_sends_to_the_service_account_for_its_keys(as_admin, synced, store):
    key = next(k for k in store.api_keys.values() if k.owner_type == "service_account")
    response = as_admin.post(
        reverse("orgadmin:project_key_delete", args=[key.project_id, key.id]), headers=HX
    )
    assert "Delete the service account instead." in text(response)
    assert key.id in store.api_keys


def test_it_says_so_when_someone_else_deleted_the_key_first(as_admin, synced, store):
    key = next(k for k in store.api_keys.values() if k.owner_type == "user")
    del store.api_keys[key.id]
    response = as_admin.post(
        reverse("orgadmin:project_key_delete", args=[key.project_id, key.id]), headers=HX
    )
    body = text(response)
    assert "OpenAI refused to delete the key" in body
    assert "HTTP 404" in body
    assert "request id req_" in body
    assert ProjectApiKey.objects.filter(openai_id=key.id).exists()  # the next sync drops it


# --- rate limits ------------------------------------------------------------------------------


def _limit(store):
    project = active_project(store)
    limit = sorted(project.rate_limits.values(), key=lambda r: r.id)[0]
    return project, limit


def test_it_edits_a_rate_limit_inline(as_admin, synced, store):
    project, limit = _limit(store)
    field = "max_requests_per_1_minute"
    value = limit.limits[field] - 1
    data = {f: f"{v:,}" for f, v in limit.limits.items()}
    data[field] = f"{value:,}"  # with thousands separators, as people type them
    response = as_admin.post(
        reverse("orgadmin:rate_limit_edit", args=[project.id, limit.id]), data, headers=HX
    )
    assert changed(response)
    assert limit.limits[field] == value
    assert (
        getattr(RateLimit.objects.get(openai_id=limit.id, project__openai_id=project.id), field)
        == value
    )
    line = logged("rate_limit.update")
    assert f"{value:,}" in line.summary


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", "Enter 0 or more; a limit can't be negative."),
        ("1.5", "Enter a whole number, like 10,000."),
        ("ten", "Enter a whole number, like 10,000."),
        ("1e3", "Enter a whole number, like 10,000."),
        ("", "This field is required."),
    ],
)
def test_it_refuses_a_bad_limit_beside_the_field(as_admin, synced, store, value, message):
    project, limit = _limit(store)
    before = dict(limit.limits)
    data = {f: str(v) for f, v in limit.limits.items()}
    data["max_tokens_per_1_minute"] = value
    response = as_admin.post(
        reverse("orgadmin:rate_limit_edit", args=[project.id, limit.id]), data, headers=HX
    )
    assert message in text(response)
    assert limit.limits == before
    assert not ActionLog.objects.exists()


def test_it_shows_the_apis_refusal_of_a_limit_above_the_organizations(as_admin, synced, store):
    project, limit = _limit(store)
    data = {f: str(v) for f, v in limit.limits.items()}
    data["max_requests_per_1_minute"] = str(limit.org_limits["max_requests_per_1_minute"] + 1)
    response = as_admin.post(
        reverse("orgadmin:rate_limit_edit", args=[project.id, limit.id]), data, headers=HX
    )
    assert "cannot exceed the organization's limit" in text(response)
    assert ActionLog.objects.get().outcome == "error"


def test_it_applies_one_limit_to_every_model(as_admin, synced, store):
    project = active_project(store)
    field = "max_requests_per_1_minute"
    value = min(r.org_limits[field] for r in project.rate_limits.values())
    response = as_admin.post(
        reverse("orgadmin:rate_limits_bulk", args=[project.id]),
        {"field": field, "value": str(value)},
        headers=HX,
    )
    assert changed(response)
    models = [r for r in project.rate_limits.values() if field in r.limits]
    assert all(r.limits[field] == value for r in models)
    assert f"Updated the limit of {len(models)} model(s)." in text(response)
    assert set(
        RateLimit.objects.filter(project__openai_id=project.id).values_list(field, flat=True)
    ) == {value}
