"""No link leads to a page the role may not open (issue 16, item 3).

Signed in as Finance, then as Auditor, a crawler opens every page of the navigation, follows every
link on it (`<a href>`, `hx-get`, a chart's drill-down URLs and the links in its figure JSON) and
the links on those pages, and asserts that none answers 403. What a role may not open is shown as
plain text.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from dashboard.sync.usage import usage_sync
from orgadmin.access import PUBLIC, Role, may_open, may_use, url_permission
from orgadmin.models import Project
from orgadmin.sync.audit import audit_log_sync
from orgadmin.sync.directory import directory_sync
from tests.conftest import SIM_NOW
from tests.factories import UserFactory
from tests.test_access_matrix import ACCESS, SIGNED_IN

ATTRIBUTE = re.compile(r'\s(?:href|hx-get|data-drilldown|data-legend-drilldown)="([^"]*)"')
FIGURE = re.compile(r'<template id="[^"]*-data">(.*?)</template>', re.S)
# Links that do something other than open a page: skip them (a download is still checked).
SKIP = ("#", "mailto:", "javascript:")


def _figure_links(node) -> list[str]:
    """The URLs a Plotly figure carries: each trace's meta.drill and the points' customdata."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "drill" and isinstance(value, str):
                found.append(value)
            elif key == "customdata" and isinstance(value, list):
                found += [v for v in value if isinstance(v, str) and v.startswith("/")]
            else:
                found += _figure_links(value)
    elif isinstance(node, list):
        for value in node:
            found += _figure_links(value)
    return found


def links_of(page: str) -> list[str]:
    found = [html.unescape(u) for u in ATTRIBUTE.findall(page)]
    for text in FIGURE.findall(page):
        found += _figure_links(json.loads(text))
    urls = []
    for url in found:
        if not url or url.startswith(SKIP) or "{" in url:  # {name}/{x}: filled in by a click
            continue
        parts = urlsplit(url)
        if parts.netloc or not parts.path.startswith("/") or parts.path.startswith("/static/"):
            continue
        urls.append(url)
    return urls


def crawl(client, starts: list[str], depth: int = 2) -> dict[str, tuple[int, str]]:
    """Every URL reachable from `starts` in `depth` clicks: {url: (status, the page it was on)}.
    A page is read for its links once per path (its other query strings are only opened)."""
    seen: dict[str, tuple[int, str]] = {}
    expanded: set[str] = set()
    queue = deque((url, 0, "navigation") for url in starts)
    while queue:
        url, level, source = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = (response.status_code, source)
        path = urlsplit(url).path
        if (
            response.status_code != 200
            or level >= depth
            or path in expanded
            or "text/html" not in response.get("Content-Type", "")
        ):
            continue
        expanded.add(path)
        queue.extend((link, level + 1, url) for link in links_of(response.content.decode()))
    return seen


@pytest.fixture
def synced(org):
    directory_sync(org=org)
    audit_log_sync(org=org)
    usage_sync(org=org, start=dt.datetime.fromtimestamp(SIM_NOW, dt.UTC) - dt.timedelta(days=20))
    return org


def _navigation(client) -> list[str]:
    return [item["url"] for item in client.get(reverse("home")).context["nav_items"]]


@pytest.mark.parametrize("role", [Role.FINANCE, Role.AUDITOR])
def test_no_link_on_a_page_the_role_reaches_answers_403(role, client, synced):
    user = UserFactory(username=f"crawler-{role}", role=role)
    client.force_login(user)
    client.raise_request_exception = False  # a page that fails is listed, after the 403s
    starts = _navigation(client)
    if role == Role.FINANCE:  # a project page and its tabs, as a Finance user reaches them
        project = Project.objects.filter(org=synced, status=Project.Status.ACTIVE).first()
        starts.append(reverse("orgadmin:project", args=[project.openai_id]))
    seen = crawl(client, starts)

    forbidden = {url: source for url, (status, source) in seen.items() if status == 403}
    assert forbidden == {}, f"{role} meets links to pages it may not open"
    broken = {url: status for url, (status, _) in seen.items() if status >= 500}
    assert broken == {}
    assert len(seen) > 40  # the crawl did walk the pages: the assertion above means something


def test_finance_sees_what_it_may_not_open_as_plain_text(client, synced, finance):
    client.force_login(finance)
    costs = client.get(reverse("costs"), {"preset": "30d"}).content.decode()
    assert "What changed this day" not in costs  # the audit log of each day: not Finance's
    assert reverse("orgadmin:audit_log") not in costs
    project = Project.objects.filter(org=synced, status=Project.Status.ACTIVE).first()
    members = client.get(reverse("orgadmin:project", args=[project.openai_id])).content.decode()
    assert "/members/user" not in members  # names, without a link to the member's page


def test_an_admin_still_gets_the_links(client, synced, admin):
    client.force_login(admin)
    costs = client.get(reverse("costs"), {"preset": "30d"}).content.decode()
    assert "What changed this day" in costs
    assert f"{reverse('orgadmin:audit_log')}?start=" in costs  # table and chart menu


def test_the_permission_of_each_url_is_read_from_its_view():
    """One source: url_permission answers what ACCESS says, for every URL name."""
    for name, rule in ACCESS.items():
        expected = None if rule.perm == SIGNED_IN else rule.perm
        assert url_permission(name) == expected, name
    assert url_permission("healthz") == PUBLIC


def test_may_open_reads_a_built_url(finance, auditor):
    audit = reverse("orgadmin:audit_log") + "?start=2026-01-01&end=2026-01-02"
    assert not may_open(finance, audit)
    assert may_open(auditor, audit)
    assert may_open(finance, reverse("costs") + "?group_by=project_id")
    assert not may_open(finance, "/no/such/page/")
    assert may_open(finance, "https://platform.openai.com/")
    assert may_use(finance, "orgadmin:project")
    assert not may_use(finance, "orgadmin:member")
