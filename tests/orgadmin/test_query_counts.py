"""Every directory page asks the database a fixed number of questions however big the
organization is: the counts are pinned, and checked at two sizes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import OrganizationFactory
from tests.orgadmin.cache import fill_cache

SIZES = {
    "small": {"users": 6, "projects": 3, "keys_per_project": 2, "actions": 3},
    "big": {"users": 90, "projects": 60, "keys_per_project": 4, "actions": 120},
}
# What every page needs costs about 8: the session (read, then written inside a savepoint: this
# is the first page after signing in; later pages write it once a minute at most), the user, their
# role grants (which answer every permission and the roles label, issue 17), the connections they
# may see (the current one and the connections menu, in one query) and the freshness badge.
# The rest is the page's own (a count and a page of rows, a form's choices…).
# An Admin's pages (these) also read the alert channels failing on the connection, for the
# banner every Admin's page carries (issue 20, dashboard/alerts): +1, in ADMIN_BANNER.
ADMIN_BANNER = 1
PROJECT = "proj_0000"
PAGES = [
    ("orgadmin:members", {}, 10),
    ("orgadmin:invites", {}, 13),
    ("orgadmin:groups", {}, 9),
    ("orgadmin:roles", {}, 9),
    # + the reporting timezone and the currency of this month's spend, for the spend column
    # (issue 16, item 10); each project's spend is a sub-select of the page's query.
    ("orgadmin:projects", {}, 13),
    ("orgadmin:keys", {}, 10),
    ("orgadmin:admin_keys", {}, 9),
    ("orgadmin:member", {"user_id": "user-0001"}, 17),
    ("orgadmin:group", {"group_id": "group_1"}, 13),
    ("orgadmin:project", {"project_id": PROJECT}, 11),
    ("orgadmin:project_tab", {"project_id": PROJECT, "tab": "service-accounts"}, 11),
    ("orgadmin:project_tab", {"project_id": PROJECT, "tab": "api-keys"}, 11),
    # + the organization's maximum of each rate limit (issue 16, item 4)
    ("orgadmin:project_tab", {"project_id": PROJECT, "tab": "rate-limits"}, 11),
    ("orgadmin:project_tab", {"project_id": PROJECT, "tab": "certificates"}, 10),
    # + the reporting timezone and this month's spend, for the gauge (issue 16, item 4)
    ("orgadmin:project_tab", {"project_id": PROJECT, "tab": "spend"}, 12),
    # +1 (issue 16): the model picker lists the organization's models (its rate limits' models).
    ("orgadmin:project_tab", {"project_id": PROJECT, "tab": "permissions"}, 10),
    ("orgadmin:project_tab", {"project_id": PROJECT, "tab": "groups"}, 13),
    ("orgadmin:project_tab", {"project_id": PROJECT, "tab": "retention"}, 9),
    ("orgadmin:org_settings", {}, 10),
    ("orgadmin:org_settings_tab", {"tab": "spend"}, 12),  # as the project's spend tab
    ("orgadmin:org_settings_tab", {"tab": "retention"}, 9),  # the settings read once
    # + one: the audit events of the page's actions, whatever their number (issue 16, item 5).
    ("orgadmin:activity", {}, 10),
]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize(("name", "kwargs", "queries"), PAGES)
def test_it_renders_each_page_in_a_pinned_number_of_queries(
    client_as, admin, db, django_assert_num_queries, name, kwargs, queries, size
):
    org = OrganizationFactory(name="Acme")
    fill_cache(org, **SIZES[size])
    c = client_as(admin)
    with django_assert_num_queries(queries + ADMIN_BANNER):
        response = c.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    assert b"<main" in response.content
