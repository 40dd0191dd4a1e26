"""Every list sorts by its columns (`?sort=`, one mechanism: orgadmin/selectors/sorting.py and
`{% sort_th %}`), keeps its filters while sorting, and answers garbage with its default order;
the members' rows are one tab stop each; the model permissions offer a picker."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.models import CostBucket
from orgadmin.models import AdminApiKey, OrgGroup, Project, ServiceAccount
from tests.factories import OrganizationFactory
from tests.orgadmin.cache import T0, fill_cache
from tests.orgadmin.conftest import active_project

HX = {"HX-Request": "true"}
P = "proj_0000"


@pytest.fixture
def cache(db):
    org = OrganizationFactory(name="Acme")
    made = fill_cache(org, users=6, projects=3)
    OrgGroup.objects.create(org=org, openai_id="group_2", name="Analysts", created_at=T0)
    AdminApiKey.objects.create(
        org=org,
        openai_id="key_admin_2",
        name="billing-export",
        redacted_value="sk-admin...abcd",
        created_at=T0 + dt.timedelta(days=3),
        last_used_at=T0 + dt.timedelta(days=4),
    )
    ServiceAccount.objects.create(
        project=Project.objects.get(openai_id=P),
        openai_id="svc_acct_extra",
        name="alpha-bot",
        role="owner",
        created_at=T0 + dt.timedelta(days=9),
    )
    return made


def _url(name: str, **kwargs: str) -> str:
    return reverse(name, kwargs=kwargs or None)


# (list, its URL, extra query, a sort key, a text shown first in that order, one shown later)
LISTS = [
    ("members", _url("orgadmin:members"), {}, "name", "Person 0", "Person 5"),
    ("members by role", _url("orgadmin:members"), {}, "role", "person0@", "person1@"),
    ("members by projects", _url("orgadmin:members"), {}, "projects", "person3@", "person0@"),
    ("invites", _url("orgadmin:invites"), {}, "email", "done@example.com", "new@example.com"),
    ("groups", _url("orgadmin:groups"), {}, "name", "Analysts", "Data science"),
    ("roles", _url("orgadmin:roles"), {}, "name", "Billing viewer", "Reader"),
    ("projects", _url("orgadmin:projects"), {"status": "all"}, "name", "Project 0", "Project 2"),
    ("keys by last use", _url("orgadmin:keys"), {}, "last_used", "never", "sk-proj-…0000"),
    ("keys by project", _url("orgadmin:keys"), {}, "project", ">Project 0<", ">Project 2<"),
    ("admin keys", _url("orgadmin:admin_keys"), {}, "name", "billing-export", "dashboard"),
    ("activity", _url("orgadmin:activity"), {}, "outcome", "(change 0)", "(change 1)"),
    (
        "project members",
        _url("orgadmin:project", project_id=P),
        {},
        "email",
        "person0@",
        "person2@",
    ),
    (
        "service accounts",
        _url("orgadmin:project_tab", project_id=P, tab="service-accounts"),
        {},
        "created",
        "deploy-bot-0",
        "alpha-bot",
    ),
    (
        "project keys",
        _url("orgadmin:project_tab", project_id=P, tab="api-keys"),
        {},
        "last_used",
        "never",
        "sk-proj-…0000",
    ),
]
DEFAULTS = {
    "orgadmin:members": ("email", "ascending"),
    "orgadmin:invites": ("sent", "descending"),
    "orgadmin:groups": ("name", "ascending"),
    "orgadmin:roles": ("name", "ascending"),
    "orgadmin:projects": ("name", "ascending"),
    "orgadmin:keys": ("created", "descending"),
    "orgadmin:admin_keys": ("created", "descending"),
    "orgadmin:activity": ("when", "descending"),
}


def _body(html: str) -> str:
    """The table's rows (after its header), where the order shows."""
    return html.split("</thead>", 1)[1]


def _sorted_column(html: str) -> tuple[str, str]:
    """The key and direction of the one header that says it sorts the list."""
    found = re.findall(r'<th scope="col"[^>]*aria-sort="(\w+)"[^>]*><a id="sort-([\w]+)"', html)
    assert len(found) == 1, found
    direction, key = found[0]
    return key, direction


@pytest.mark.parametrize(("what", "url", "query", "key", "first", "later"), LISTS)
def test_it_sorts_every_list_by_a_column_both_ways(
    as_admin, cache, what, url, query, key, first, later
):
    up = as_admin.get(url, {**query, "sort": key}).content.decode()
    down = as_admin.get(url, {**query, "sort": f"-{key}"}).content.decode()

    assert _body(up).index(first) < _body(up).index(later), what
    assert _body(down).index(later) < _body(down).index(first), what
    assert _sorted_column(up) == (key, "ascending")
    assert _sorted_column(down) == (key, "descending")


@pytest.mark.parametrize("name", sorted(DEFAULTS))
@pytest.mark.parametrize(
    "garbage", ["nonsense", "-", "--email", "password", "email;DROP TABLE x", "\x00", "é" * 300]
)
def test_it_answers_a_garbage_sort_with_the_default_order(as_admin, cache, name, garbage):
    response = as_admin.get(reverse(name), {"sort": garbage})
    assert response.status_code == 200
    assert _sorted_column(response.content.decode()) == DEFAULTS[name]


def _spent(org, project_id: str, dollars: str, *, day: dt.date, currency: str = "usd") -> None:
    CostBucket.objects.create(
        org=org,
        day=day,
        line_item=f"gpt-4.1, input {project_id} {currency}",
        project_id=project_id,
        amount=Decimal(dollars),
        currency=currency,
    )


def test_it_sorts_projects_by_this_months_spend_and_shows_it(as_admin, cache):
    org = Project.objects.get(openai_id=P).org
    today = timezone.now().date()  # the organization reports in UTC
    _spent(org, "proj_0001", "40.004", day=today)
    _spent(org, "proj_0001", "2.50", day=today.replace(day=1))
    _spent(org, "proj_0002", "12.00", day=today)
    # Last month's and another currency's spend don't count this month.
    _spent(org, "proj_0002", "900", day=today.replace(day=1) - dt.timedelta(days=1))
    _spent(org, "proj_0000", "7", day=today, currency="eur")

    down = _body(
        as_admin.get(
            reverse("orgadmin:projects"), {"status": "all", "sort": "-spend"}
        ).content.decode()
    )
    up = _body(
        as_admin.get(
            reverse("orgadmin:projects"), {"status": "all", "sort": "spend"}
        ).content.decode()
    )

    assert down.index("Project 1") < down.index("Project 2") < down.index("Project 0")
    assert up.index("Project 0") < up.index("Project 2") < up.index("Project 1")
    assert "$42.50" in down  # 40.004 + 2.50, to the cent
    assert "$12.00" in down
    assert "$0.00" in down  # spent nothing in dollars this month


def test_it_offers_the_spend_column_and_its_header_sorts_largest_first(as_admin, cache):
    html = as_admin.get(reverse("orgadmin:projects")).content.decode()
    assert re.search(r'<a id="sort-spend"[^>]*href="[^"]*sort=-spend', html)
    assert "Spend this month" in html


def test_it_keeps_the_filters_in_the_header_links_and_starts_on_page_one(as_admin, cache):
    html = as_admin.get(
        reverse("orgadmin:members"), {"q": "person", "role": "reader", "page": "1"}
    ).content.decode()
    link = re.search(r'<a id="sort-added"[^>]*href="([^"]+)"', html).group(1)
    assert link.startswith(reverse("orgadmin:members") + "?")
    assert "q=person" in link
    assert "role=reader" in link
    assert "sort=-added" in link  # dates: newest first on the first click
    assert "page=" not in link
    assert 'hx-target="#member-live"' in html


def test_it_keeps_the_chosen_order_when_the_filter_form_is_sent(as_admin, cache):
    html = as_admin.get(reverse("orgadmin:keys"), {"sort": "-last_used"}).content.decode()
    assert '<input type="hidden" name="sort" value="-last_used" form="key-filter">' in html
    assert 'id="key-filter"' in html
    plain = as_admin.get(reverse("orgadmin:keys")).content.decode()
    assert 'name="sort"' not in plain  # the default order needs nothing in the URL


def test_it_serves_a_sorted_list_as_its_fragment(as_admin, cache):
    response = as_admin.get(reverse("orgadmin:projects"), {"sort": "-created"}, headers=HX)
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="project-list-live"')
    assert _sorted_column(html) == ("created", "descending")


def test_it_clicking_the_sorted_column_again_reverses_it(as_admin, cache):
    html = as_admin.get(reverse("orgadmin:members"), {"sort": "role"}).content.decode()
    assert re.search(r'<a id="sort-role"[^>]*href="[^"]*sort=-role', html)
    assert re.search(r'<a id="sort-name"[^>]*href="[^"]*sort=name', html)


def test_it_gives_every_list_over_a_page_a_search_box(as_admin, cache):
    for name in ("members", "invites", "groups", "projects", "keys", "activity"):
        html = as_admin.get(reverse(f"orgadmin:{name}")).content.decode()
        assert 'type="search" name="q"' in html, name


def test_it_searches_invites_and_keeps_the_status(as_admin, cache):
    html = as_admin.get(
        reverse("orgadmin:invites"), {"q": "late", "status": "expired", "sort": "email"}
    ).content.decode()
    assert "late@example.com" in html
    assert "new@example.com" not in _body(html)
    assert '<input type="hidden" name="status" value="expired" form="invite-filter">' in html
    pill = re.search(r'<a href="(\?[^"]*status=pending[^"]*)"', html).group(1)
    assert "q=late" in pill
    assert "sort=email" in pill


# --- the members' rows: one tab stop each ---------------------------------------------------


def test_it_puts_each_members_role_and_removal_behind_one_control(as_admin, cache):
    html = as_admin.get(reverse("orgadmin:members")).content.decode()
    rows = _body(html).split("</tbody>", 1)[0].split("<tr>")[1:]
    assert len(rows) == 6
    for row in rows:
        outside_menu = re.sub(r"<details.*?</details>", "", row, flags=re.S)
        # Only the name's link is reachable outside the row's menu.
        assert re.findall(r"<(a|button|select|input|summary)\b", outside_menu) == ["a"]
        assert row.count("<summary") == 1
        assert 'name="role"' in row
        assert "Remove from organization" in row
    assert "Change the role of Person 1 or remove them" in html


def test_it_shows_the_role_as_text_to_an_auditor(client_as, auditor, cache):
    html = client_as(auditor).get(reverse("orgadmin:members")).content.decode()
    assert "<details" not in _body(html)
    assert '<span class="badge">Reader</span>' in html


# --- the model picker -------------------------------------------------------------------------


def test_it_offers_the_models_the_organization_uses_ticked_as_the_rule_has_them(as_admin, cache):
    url = reverse("orgadmin:project_tab", kwargs={"project_id": P, "tab": "permissions"})
    html = as_admin.get(url).content.decode()
    assert 'data-filter-list="#model-picks"' in html
    assert '<input type="checkbox" name="models" value="gpt-4o-mini" checked>' in html
    assert '<input type="checkbox" name="models" value="dall-e-3">' in html
    assert "(1 chosen)" in html
    assert "<textarea" not in html.split('id="models-form"', 1)[1].split("</form>", 1)[0]


def test_it_saves_the_ticked_models_and_any_typed_one(as_admin, synced, store):
    project = active_project(store)
    url = reverse("orgadmin:project_model_permissions", args=[project.id])
    response = as_admin.post(
        url,
        {
            "mode": "allow_list",
            "models": ["gpt-4o-mini", "gpt-4.1"],
            "model_ids": "ft:gpt-4o-mini:acme::abc, gpt-4.1",
        },
        headers=HX,
    )
    assert response.status_code == 200
    assert store.projects[project.id].model_permissions == (
        "allow_list",
        ["gpt-4o-mini", "gpt-4.1", "ft:gpt-4o-mini:acme::abc"],
    )
    page = as_admin.get(reverse("orgadmin:project_tab", args=[project.id, "permissions"]))
    html = page.content.decode()
    # A model outside the organization's list stays offered, ticked, once chosen.
    assert 'value="ft:gpt-4o-mini:acme::abc" checked' in html
    assert "(3 chosen)" in html


def test_it_asks_for_a_model_when_none_is_ticked_and_keeps_the_ticks_on_error(
    as_admin, synced, store
):
    project = active_project(store)
    url = reverse("orgadmin:project_model_permissions", args=[project.id])
    before = store.projects[project.id].model_permissions
    empty = as_admin.post(url, {"mode": "allow_list"}, headers=HX).content.decode()
    assert "List at least one model." in empty
    bad = as_admin.post(
        url, {"mode": "deny_list", "models": ["gpt-4o-mini"], "model_ids": "no good!"}, headers=HX
    ).content.decode()
    assert "Not model ids: “good!”." in bad
    assert 'value="gpt-4o-mini" checked' in bad
    assert store.projects[project.id].model_permissions == before


def test_it_searches_groups(as_admin, cache):
    html = as_admin.get(reverse("orgadmin:groups"), {"q": "anal"}).content.decode()
    assert "Analysts" in html
    assert "Data science</strong>" not in html
    nothing = as_admin.get(reverse("orgadmin:groups"), {"q": "zz"}).content.decode()
    assert "No group matches “zz”." in nothing


def test_it_points_the_headers_at_the_list_when_a_form_post_draws_it(as_admin, cache):
    html = as_admin.post(reverse("orgadmin:group_create"), {"name": ""}).content.decode()
    link = re.search(r'<a id="sort-members"[^>]*href="([^"]+)"', html).group(1)
    assert link.startswith(reverse("orgadmin:groups") + "?")
