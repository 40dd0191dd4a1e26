"""`display_names`: other apps turn OpenAI ids into names from the directory cache."""

from __future__ import annotations

import datetime as dt

from orgadmin.models import (
    AdminApiKey,
    OrgUser,
    Project,
    ProjectApiKey,
    ServiceAccount,
)
from orgadmin.selectors import display_names
from tests.factories import OrganizationFactory

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _directory(org):
    project = Project.objects.create(org=org, openai_id="proj_a", name="Alpha", created_at=NOW)
    Project.objects.create(org=org, openai_id="proj_unnamed", name="", created_at=NOW)
    ProjectApiKey.objects.create(
        org=org, project=project, openai_id="key_named", name="CI key", redacted_value="sk-…a1"
    )
    ProjectApiKey.objects.create(
        org=org, project=project, openai_id="key_anon", name="", redacted_value="sk-…b2"
    )
    AdminApiKey.objects.create(
        org=org, openai_id="key_admin", name="", redacted_value="sk-admin…c3"
    )
    OrgUser.objects.create(org=org, openai_id="user_1", email="ann@example.com", name="Ann")
    OrgUser.objects.create(org=org, openai_id="user_2", email="", name="Bob")
    ServiceAccount.objects.create(project=project, openai_id="svc_acct_1", name="deploy-bot")


def test_it_names_projects_keys_users_and_service_accounts(db, django_assert_num_queries):
    org = OrganizationFactory()
    _directory(org)
    ids = ["proj_a", "proj_unnamed", "key_named", "key_anon", "key_admin", "user_1", "user_2"]
    with django_assert_num_queries(1):
        names = display_names(org=org, ids=[*ids, "svc_acct_1", "unknown_id", ""])
    assert names == {
        "proj_a": "Alpha",
        "proj_unnamed": "proj_unnamed",
        "key_named": "CI key",
        "key_anon": "sk-…b2",
        "key_admin": "sk-admin…c3",
        "user_1": "ann@example.com",
        "user_2": "Bob",
        "svc_acct_1": "deploy-bot",
    }


def test_it_never_mixes_up_organizations(db):
    mine, theirs = OrganizationFactory(name="Mine"), OrganizationFactory(name="Theirs")
    _directory(theirs)
    assert display_names(org=mine, ids=["proj_a", "user_1", "key_named"]) == {}


def test_it_asks_nothing_for_no_ids(db, django_assert_num_queries):
    org = OrganizationFactory()
    with django_assert_num_queries(0):
        assert display_names(org=org, ids=["", ""]) == {}


def test_it_splits_a_very_long_list_of_ids_into_a_few_queries(db, django_assert_num_queries):
    org = OrganizationFactory()
    _directory(org)
    ids = [f"user_{n}" for n in range(4500)]
    with django_assert_num_queries(3):
        names = display_names(org=org, ids=ids)
    assert names == {"user_1": "ann@example.com", "user_2": "Bob"}
