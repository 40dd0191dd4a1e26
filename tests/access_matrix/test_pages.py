"""The access page, its CSV and the changes view, as an Auditor or Admin sees them."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from orgadmin.access_matrix.history import access_history_record
from orgadmin.access_matrix.selectors import project_access
from orgadmin.models import AuditEvent, ProjectUser
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.access_matrix.conftest import add_member, outsider, rich_project

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


@pytest.fixture
def as_auditor(client_as, auditor):
    return client_as(auditor)


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_it_shows_each_way_to_reach_a_project(synced, store, as_auditor):
    project = rich_project(store)
    page = as_auditor.get(reverse("access"), {"project": project.id}).content.decode()
    member = store.users[sorted(project.members)[0]]
    group = store.groups[sorted(project.groups)[0]]
    account = sorted(project.service_accounts.values(), key=lambda a: a.id)[0]
    key = next(k for k in store.api_keys.values() if k.project_id == project.id)
    assert escape(member.name) in page
    assert escape(f"Group {group.name}") in page
    assert escape(account.name) in page
    assert "Service account" in page
    assert key.redacted_value in page
    assert "Owned by" in page


def test_it_filters_by_kind_path_role_and_search(synced, store, as_auditor):
    url = reverse("access")
    rows = project_access(org=synced)
    accounts = as_auditor.get(url, {"kind": "service_account"}).context["page"]
    assert {a.kind for a in accounts.object_list} == {"service_account"}
    assert accounts.paginator.count == sum(a.kind == "service_account" for a in rows)
    grouped = as_auditor.get(url, {"path": "group"}).context["page"]
    assert grouped.paginator.count == sum(a.via.startswith("group ") for a in rows)
    owners = as_auditor.get(url, {"role": "owner", "kind": "user"}).context["page"]
    assert {a.role for a in owners.object_list} == {"owner"}
    someone = next(a for a in rows if a.kind == "user" and a.email)
    found = as_auditor.get(url, {"q": someone.email.upper()}).context["page"]
    assert found.object_list
    assert all(someone.email in a.email for a in found.object_list)
    nothing = as_auditor.get(url, {"q": "no-such-person-anywhere"})
    assert "No access matches these filters" in nothing.content.decode()


def test_it_pages_a_big_organization(synced, as_auditor):
    total = len(project_access(org=synced))
    first = as_auditor.get(reverse("access"))
    page = first.context["page"]
    assert page.paginator.count == total
    assert len(page.object_list) < total
    second = as_auditor.get(reverse("access"), {"page": 2}, headers=HX)
    assert second.context["page"].number == 2
    assert "<html" not in second.content.decode()  # the fragment only


def test_it_tells_what_an_organization_owner_can_reach(synced, store, as_auditor):
    owners = [u for u in store.users.values() if u.role == "owner"]
    page = as_auditor.get(reverse("access")).content.decode()
    assert "can manage every project" in page
    assert all(escape(o.name) in page for o in owners)
    rows = _csv(as_auditor.get(reverse("access_export")))
    listed = {r["email"] for r in rows if r["kind"] == "org_owner"}
    assert listed == {o.email for o in owners}
    assert {r["project"] for r in rows if r["kind"] == "org_owner"} == {"every project"}


def test_the_csv_keeps_the_filters_and_is_safe_in_a_spreadsheet(synced, store, as_auditor):
    project = rich_project(store)
    member = ProjectUser.objects.filter(project__openai_id=project.id).first()
    member.name = '=HYPERLINK("http://evil.example")'
    member.save()
    response = as_auditor.get(reverse("access_export"), {"project": project.id})
    assert response["Content-Disposition"].startswith('attachment; filename="access-')
    rows = _csv(response)
    expected = project_access(org=synced, project_ids=[project.id])
    assert len(rows) == len(expected)  # the project filter leaves org owners out
    assert {r["project_id"] for r in rows} == {project.id}
    names = [r["name"] for r in rows if (r["id"], r["path"]) == (member.user_openai_id, "direct")]
    assert names
    assert all(n.startswith("'=HYPERLINK") for n in names)
    paths = {r["path"] for r in rows}
    assert "direct" in paths
    assert any(p.startswith("group ") for p in paths)


def test_a_bad_filter_is_named_and_never_a_500(synced, as_auditor):
    page = as_auditor.get(reverse("access"), {"as_of": "2025-13-45", "kind": "robot"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "As of: Enter a date as YYYY-MM-DD" in text
    assert "Kind: Select a valid choice" in text
    export = as_auditor.get(reverse("access_export"), {"as_of": "soon"})
    assert export.status_code == 400
    assert "as_of" in export.content.decode()


def test_as_of_a_past_day_shows_the_history(synced, store, as_auditor):
    start = timezone.now() - dt.timedelta(days=10)
    access_history_record(org=synced, at=start)
    project = rich_project(store)
    newcomer = outsider(store, project)
    add_member(store, project, newcomer.id)
    directory_sync(org=synced)
    access_history_record(org=synced)
    past = timezone.localdate() - dt.timedelta(days=5)
    then = as_auditor.get(reverse("access"), {"as_of": past, "project": project.id})
    assert newcomer.id not in {a.subject_id for a in then.context["page"].object_list}
    assert "from the access history" in then.content.decode()
    today = as_auditor.get(reverse("access"), {"project": project.id})
    assert newcomer.id in {a.subject_id for a in today.context["page"].object_list}
    before = as_auditor.get(reverse("access"), {"as_of": past - dt.timedelta(days=30)})
    assert "The history began after this day" in before.content.decode()
    assert not before.context["page"].object_list


def test_the_changes_view_lists_grants_and_audit_events(synced, store, as_auditor):
    access_history_record(org=synced, at=timezone.now() - dt.timedelta(days=10))
    project = rich_project(store)
    newcomer = outsider(store, project)
    add_member(store, project, newcomer.id)
    directory_sync(org=synced)
    access_history_record(org=synced)
    audit_log_sync(org=synced, since=timezone.now() - dt.timedelta(days=90))
    today = timezone.localdate()
    start = today - dt.timedelta(days=60)
    response = as_auditor.get(reverse("access_changes"), {"start": start, "end": today})
    page = response.content.decode()
    assert "Started" in page
    assert escape(newcomer.name) in page
    events = response.context["events"]
    in_range = AuditEvent.objects.filter(
        org=synced,
        type__in=[e["event"].type for e in events],
        effective_at__date__gte=start,
    )
    assert events
    assert in_range.exists()
    first = events[0]
    assert first["event"].event_id in first["link"]
    assert escape(first["link"]) in page
    assert first["who"]
    assert escape(first["who"]) in page


def test_bad_dates_give_a_message_not_a_500(synced, as_auditor):
    url = reverse("access_changes")
    backwards = as_auditor.get(url, {"start": "2025-03-10", "end": "2025-03-01"})
    assert backwards.status_code == 200
    assert "The last day must be on or after the first day." in backwards.content.decode()
    garbage = as_auditor.get(url, {"start": "yesterday", "end": "9999-99-99"})
    text = garbage.content.decode()
    assert garbage.status_code == 200
    assert "From" in text
    assert "Enter a date as YYYY-MM-DD" in text
    future = as_auditor.get(url, {"start": "2020-01-01", "end": "2999-01-01"})
    assert "Pick a day between" in future.content.decode()


def test_before_the_history_began_it_says_so(synced, as_auditor):
    page = as_auditor.get(reverse("access_changes")).content.decode()
    assert "The access history has not begun yet" in page


def test_finance_may_not_see_who_has_access(synced, client_as, finance, admin):
    as_finance = client_as(finance)
    for name in ("access", "access_export", "access_changes"):
        assert as_finance.get(reverse(name)).status_code == 403
    assert client_as(admin).get(reverse("access")).status_code == 200


def test_the_navigation_offers_it_to_an_auditor_only_of_the_two(
    synced, client_as, auditor, finance
):
    assert 'href="/access/"' in client_as(auditor).get(reverse("home")).content.decode()
    assert 'href="/access/"' not in client_as(finance).get(reverse("home")).content.decode()
