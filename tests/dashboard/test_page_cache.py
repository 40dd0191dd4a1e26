"""The page cache (dashboard/page_cache.py): a cached Costs, Usage or Overview page is what the
database would render now, for this person, with their own CSRF token."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.messages import constants
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.sync.writer import write_cost_page
from orgadmin.models import Project, SyncRun
from tests.dashboard.test_views import D1, acme, period  # noqa: F401 (a fixture)

# The token of the page's one form of its own: making the timezone looked at the reporting one.
TOKEN = re.compile(
    r'class="tz-default">\s*<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"'
)


def _cost_bucket(day: dt.date, amount: str) -> dict:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return {
        "start_time": int(start.timestamp()),
        "end_time": int((start + dt.timedelta(days=1)).timestamp()),
        "results": [
            {
                "amount": {"value": amount, "currency": "usd"},
                "line_item": "gpt-5, input",
                "project_id": "proj_a",
                "api_key_id": "key_1",
            }
        ],
    }


def test_it_shows_what_a_sync_wrote_at_once(acme, client_as, finance, django_assert_num_queries):  # noqa: F811
    client = client_as(finance)
    assert "$3.30" in client.get(reverse("costs"), period()).content.decode()  # D1's two items
    with django_assert_num_queries(5):  # from the cache: nothing but the key's one query
        assert "$3.30" in client.get(reverse("costs"), period()).content.decode()

    # The sync replaces D1 with a revised bucket: the page says so on the next request.
    write_cost_page(acme, [_cost_bucket(D1, "7.25")], timezone.now())

    again = client.get(reverse("costs"), period()).content.decode()
    assert "$7.25" in again
    assert "$3.30" not in again


def test_it_shows_a_new_name_once_the_directory_sync_ends(acme, client_as, finance):  # noqa: F811
    client = client_as(finance)
    by_project = period(group_by="project_id")
    assert ">Search<" in client.get(reverse("costs"), by_project).content.decode()

    Project.objects.filter(org=acme, openai_id="proj_a").update(name="Retrieval")
    SyncRun.objects.create(
        org=acme, kind=SyncRun.Kind.DIRECTORY, status="succeeded", finished_at=timezone.now()
    )

    page = client.get(reverse("costs"), by_project).content.decode()
    assert ">Retrieval<" in page
    assert ">Search<" not in page


def test_a_cached_page_carries_the_readers_own_csrf_token(acme, admin):  # noqa: F811
    # The same admin in two browsers: the second page comes from the cache, with the token of
    # the second browser, which its form then sends successfully.
    params = period(tz="Asia/Tokyo")
    browsers, tokens = [], []
    for _ in range(2):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(admin)
        page = browser.get(reverse("costs"), params).content.decode()
        browsers.append(browser)
        tokens.append(TOKEN.search(page).group(1))
    assert tokens[0] != tokens[1]

    saved = browsers[1].post(
        reverse("reporting_settings"),
        {"timezone": "Asia/Tokyo", "next": reverse("costs"), "csrfmiddlewaretoken": tokens[1]},
    )
    assert saved.status_code == 302  # the CSRF check passed with the token on the page


def test_each_person_sees_their_own_page(acme, client_as, admin, finance):  # noqa: F811
    # The admin's page offers to make Tokyo the reporting timezone; Finance's, right after,
    # does not (they may not), and names Finance in its top bar.
    params = period(tz="Asia/Tokyo")
    assert TOKEN.search(client_as(admin).get(reverse("costs"), params).content.decode())
    page = client_as(finance).get(reverse("costs"), params).content.decode()
    assert TOKEN.search(page) is None
    assert finance.get_username() in page
    assert admin.get_username() not in page


def test_a_message_to_show_is_never_hidden_by_the_cache(acme, client_as, admin):  # noqa: F811
    client = client_as(admin)
    client.get(reverse("costs"), period())  # cached now
    response = client.post(
        reverse("reporting_settings"), {"timezone": "Europe/Paris", "next": reverse("costs")}
    )
    assert response.status_code == 302
    page = client.get(reverse("costs"), period(), follow=True)
    shown = [m for m in page.context["messages"]] if page.context else []
    assert any(m.level == constants.SUCCESS for m in shown)
    assert "Europe/Paris" in page.content.decode()


@pytest.mark.parametrize("seconds", [0, 60])
def test_it_can_be_turned_off(acme, client_as, finance, settings, seconds):  # noqa: F811
    settings.PAGE_CACHE_SECONDS = seconds
    client = client_as(finance)
    by_project = period(group_by="project_id")
    client.get(reverse("costs"), by_project)
    # Written behind the sync's back (no generation moves): only an uncached page sees it.
    Project.objects.filter(org=acme, openai_id="proj_a").update(name="Retrieval")
    page = client.get(reverse("costs"), by_project).content.decode()
    assert (">Retrieval<" in page) is (seconds == 0)


def test_an_auditors_overview_follows_the_audit_log_sync(acme, client_as, auditor):  # noqa: F811
    client = client_as(auditor)
    first = client.get(reverse("home")).content.decode()
    SyncRun.objects.create(
        org=acme, kind=SyncRun.Kind.AUDIT_LOG, status="succeeded", finished_at=timezone.now(),
        rows_written=4242,
    )  # fmt: skip
    again = client.get(reverse("home")).content.decode()
    assert "4,242 rows" in again
    assert "4,242 rows" not in first
