"""The access matrix as a grid (people and service accounts down, projects across) and its CSV,
on an organization synced from the simulator."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from orgadmin.access_matrix.grid import GRID_COLUMNS
from orgadmin.access_matrix.history import access_history_record
from orgadmin.access_matrix.selectors import project_access
from orgadmin.models import Project, ProjectUser
from orgadmin.sync.directory import directory_sync
from orgadmin.views.common import PER_PAGE
from tests.access_matrix.conftest import add_member, outsider, rich_project

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def as_auditor(client_as, auditor):
    return client_as(auditor)


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def _expected_cells(org) -> dict[tuple[str, str], str]:
    """(subject id, project id) -> what the grid's cell should say, from project_access."""
    direct: dict[tuple[str, str], str] = {}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in project_access(org=org):
        if a.kind == "api_key":
            continue
        key = (a.subject_id, a.project_id)
        if a.via:
            groups[key].append(a.via)
        else:
            direct[key] = a.role or "direct"
    return {
        key: "; ".join(([direct[key]] if key in direct else []) + sorted(groups[key]))
        for key in direct.keys() | groups.keys()
    }


def _cell(page, subject_id: str, project_id: str):
    columns = [c.project_id for c in page.context["columns"].columns]
    for row, cells in page.context["cells"]:
        if row.subject_id == subject_id:
            return cells[columns.index(project_id)]
    raise AssertionError(f"no row for {subject_id}")


def test_every_cell_of_the_csv_is_what_project_access_says(synced, as_auditor):
    rows = _csv(as_auditor.get(reverse("access_grid_export")))
    projects = Project.objects.filter(org=synced, status=Project.Status.ACTIVE)
    headers = {f"{p.name} ({p.openai_id})": p.openai_id for p in projects}
    assert set(headers) <= set(rows[0])
    expected = _expected_cells(synced)
    seen = {}
    for row in rows:
        for header, project_id in headers.items():
            if row[header]:
                seen[(row["id"], project_id)] = row[header]
    assert seen == expected
    subjects = {a.subject_id for a in project_access(org=synced) if a.kind != "api_key"}
    assert {r["id"] for r in rows} >= subjects
    assert "api_key" not in {r["kind"] for r in rows}


def test_a_cell_shows_the_direct_role_a_group_or_nothing(synced, store, as_auditor):
    project = rich_project(store)
    rows = project_access(org=synced, project_ids=[project.id])
    owner = next(a for a in rows if a.kind == "user" and not a.via and a.role == "owner")
    direct_ids = {a.subject_id for a in rows if a.kind == "user" and not a.via}
    grouped = next(a for a in rows if a.via.startswith("group ") and a.subject_id not in direct_ids)
    page = as_auditor.get(reverse("access_grid"))
    cell = _cell(page, owner.subject_id, project.id)
    assert (cell.direct, cell.role) == (True, "owner")
    by_group = _cell(page, grouped.subject_id, project.id)
    assert not by_group.direct
    assert grouped.via.removeprefix("group ") in by_group.groups
    reached = {a.subject_id for a in rows}
    others = [r for r, _ in page.context["cells"] if r.subject_id not in reached]
    assert others
    assert all(_cell(page, r.subject_id, project.id) is None for r in others if not r.org_owner)
    html = page.content.decode()
    assert '<span class="badge badge-warn">Owner</span>' in html
    assert f'Group<span class="visually-hidden">: {escape(by_group.group_names)}' in html
    assert '<th scope="col" title="' in html
    assert f'<th scope="row">{escape(owner.label)}' in html


def test_an_organization_owner_reaches_every_project(synced, store, as_auditor):
    owners = {u.id for u in store.users.values() if u.role == "owner"}
    page = as_auditor.get(reverse("access_grid"))
    marked = {r.subject_id for r in page.context["page"].object_list if r.org_owner}
    assert marked == owners
    assert "every project" in page.content.decode()
    rows = _csv(as_auditor.get(reverse("access_grid_export")))
    assert {r["id"] for r in rows if r["org_owner"] == "every project"} == owners
    project = rich_project(store)
    one = as_auditor.get(reverse("access_grid"), {"project": project.id})
    assert owners <= {r.subject_id for r in one.context["page"].object_list}


def test_the_filters_narrow_columns_and_rows(synced, store, as_auditor):
    url = reverse("access_grid")
    project = rich_project(store)
    one = as_auditor.get(url, {"project": project.id})
    assert [c.project_id for c in one.context["columns"].columns] == [project.id]
    accounts = as_auditor.get(url, {"kind": "service_account"}).context["page"].object_list
    expected = {a.subject_id for a in project_access(org=synced) if a.kind == "service_account"}
    assert {r.subject_id for r in accounts} == expected
    grouped = as_auditor.get(url, {"path": "group"})
    assert grouped.context["cells"]
    for row, cells in grouped.context["cells"]:
        assert row.org_owner or any(c and c.groups for c in cells)
    someone = next(a for a in project_access(org=synced) if a.kind == "user" and a.email)
    found = as_auditor.get(url, {"q": someone.email.upper()}).context["page"].object_list
    assert someone.subject_id in {r.subject_id for r in found}
    assert all(someone.email in r.email for r in found)
    nothing = as_auditor.get(url, {"q": "no-such-person-anywhere"})
    assert "No one matches these filters" in nothing.content.decode()


def test_as_of_a_past_day_it_reads_the_history(synced, store, as_auditor):
    access_history_record(org=synced, at=timezone.now() - dt.timedelta(days=10))
    project = rich_project(store)
    newcomer = outsider(store, project)
    add_member(store, project, newcomer.id)
    directory_sync(org=synced)
    access_history_record(org=synced)
    past = timezone.localdate() - dt.timedelta(days=5)
    then = as_auditor.get(reverse("access_grid"), {"as_of": past, "project": project.id})
    assert newcomer.id not in {r.subject_id for r in then.context["page"].object_list}
    assert "from the access history" in then.content.decode()
    now = as_auditor.get(reverse("access_grid"), {"project": project.id})
    assert _cell(now, newcomer.id, project.id).role == "member"
    before = as_auditor.get(reverse("access_grid"), {"as_of": past - dt.timedelta(days=30)})
    assert "The history began after this day" in before.content.decode()
    assert not before.context["page"].object_list


def _grow(org, *, projects: int, people: int) -> None:
    """More active projects in the cache (named to sort first), each with `people` more direct
    members."""
    start = Project.objects.filter(org=org).count()
    made = Project.objects.bulk_create(
        Project(org=org, openai_id=f"proj_extra{n}", name=f"Aa extra {n}")
        for n in range(start, start + projects)
    )
    ProjectUser.objects.bulk_create(
        ProjectUser(
            project=p,
            user_openai_id=f"user-extra-{n}",
            email=f"extra{n}@example.com",
            name=f"Extra {n}",
            role="member",
        )
        for p in made
        for n in range(people)
    )


def test_rows_and_columns_are_paged_for_a_big_organization(synced, as_auditor):
    _grow(synced, projects=GRID_COLUMNS + 1, people=PER_PAGE)
    url = reverse("access_grid")
    first = as_auditor.get(url)
    columns = first.context["columns"]
    total = Project.objects.filter(org=synced, status=Project.Status.ACTIVE).count()
    assert (len(columns.columns), columns.total) == (GRID_COLUMNS, total)
    html = first.content.decode()
    assert f"Projects 1–{GRID_COLUMNS} of {total}" in html
    assert "Later projects" in html
    assert first.context["page"].paginator.count > PER_PAGE
    assert len(first.context["page"].object_list) == PER_PAGE
    later = as_auditor.get(url, {"columns": columns.pages}, headers=HX)
    shown = later.context["columns"]
    assert (shown.number, shown.last) == (columns.pages, total)
    assert shown.columns[0].project_id not in {c.project_id for c in columns.columns}
    assert "<html" not in later.content.decode()
    second = as_auditor.get(url, {"page": 2})
    assert second.context["page"].number == 2
    rows = _csv(as_auditor.get(reverse("access_grid_export")))
    assert len(rows[0]) == 5 + total  # every project a column in the CSV


def test_it_reads_in_a_fixed_number_of_queries(synced, as_auditor):
    url = reverse("access_grid")
    as_auditor.get(url)  # the session and the organization, read once
    with CaptureQueriesContext(connection) as few:
        as_auditor.get(url)
    _grow(synced, projects=GRID_COLUMNS * 2, people=PER_PAGE)
    with CaptureQueriesContext(connection) as many:
        page = as_auditor.get(url)
    assert page.context["page"].paginator.count > PER_PAGE
    assert len(many) == len(few)


def test_the_csv_is_safe_in_a_spreadsheet(synced, store, as_auditor):
    project = rich_project(store)
    member = ProjectUser.objects.filter(project__openai_id=project.id).first()
    member.name = '=HYPERLINK("http://evil.example")'
    member.save()
    Project.objects.filter(openai_id=project.id).update(name="@SUM(A1)")
    response = as_auditor.get(reverse("access_grid_export"), {"project": project.id})
    assert response["Content-Disposition"].startswith('attachment; filename="access-grid-')
    rows = _csv(response)
    assert f"'@SUM(A1) ({project.id})" in rows[0]
    names = {r["name"] for r in rows if r["id"] == member.user_openai_id}
    assert names == {"'" + member.name}


def test_bad_input_is_named_on_the_page_never_a_500(synced, as_auditor):
    url = reverse("access_grid")
    page = as_auditor.get(url, {"kind": "api_key", "columns": "-3", "as_of": "2025-13-45"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Kind: Select a valid choice" in text
    assert "Projects page: Ensure this value is greater than or equal to 1" in text
    assert "As of: Enter a date as YYYY-MM-DD" in text
    export = as_auditor.get(reverse("access_grid_export"), {"path": "key"})
    assert export.status_code == 400
    assert "path" in export.content.decode()


def test_finance_may_not_see_the_grid(synced, client_as, finance, admin):
    as_finance = client_as(finance)
    for name in ("access_grid", "access_grid_export"):
        assert as_finance.get(reverse(name)).status_code == 403
    assert client_as(admin).get(reverse("access_grid")).status_code == 200


def test_the_tabs_lead_to_it(synced, as_auditor):
    page = as_auditor.get(reverse("access")).content.decode()
    assert f'href="{reverse("access_grid")}"' in page
    grid = as_auditor.get(reverse("access_grid")).content.decode()
    assert f'<a href="{reverse("access_grid")}" aria-current="page">Matrix</a>' in grid
