"""Issue 16, item 7: the auditor's landing page is a security summary whose every count links
into the audit log filtered to exactly what it counts."""

from __future__ import annotations

import html

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orgadmin.selectors.security import SECTIONS, security_summary
from orgadmin.sync.audit import audit_events_store
from tests.audit_events import generate
from tests.factories import OrganizationFactory

HOME = reverse("home")


@pytest.fixture
def gen_org(db):
    """A connection whose stored log is 1,500 generated events over the last 60 days."""
    org = OrganizationFactory(name="Generated")
    end = int(timezone.now().timestamp())
    with transaction.atomic():
        audit_events_store(org=org, raws=generate(1500, start=end - 60 * 86400, end=end, seed=3))
    return org


def _total(client, url: str) -> int:
    response = client.get(html.unescape(url))
    assert response.status_code == 200
    return response.context["facets"].total


def test_it_shows_an_auditor_counts_that_the_linked_audit_log_agrees_with(
    client_as, auditor, gen_org
):
    client = client_as(auditor)
    response = client.get(HOME)
    body = response.content.decode()
    security = response.context["security"]

    assert 'id="security-title"' in body
    assert [s["label"] for s in security["sections"]] == [s.label for s in SECTIONS]
    assert sum(s["last_30"] for s in security["sections"]) > 0
    for s in security["sections"]:
        assert s["last_7"] <= s["last_30"]
        assert html.escape(s["url_30"]) in body
        assert _total(client, s["url_7"]) == s["last_7"], s["label"]
        assert _total(client, s["url_30"]) == s["last_30"], s["label"]
        assert len(s["latest"]) == min(3, s["last_30"])
        for e in s["latest"]:
            assert "event=" in e["url"]
            assert e["sentence"] in html.unescape(body)
    admin = security["admin"]
    assert admin["last_30"] > 0
    for key in admin["keys"]:
        assert _total(client, key["url_30"]) == key["last_30"], key["id"]
    assert sum(k["last_30"] for k in admin["keys"]) <= admin["last_30"]


def test_it_keeps_the_sync_cards_and_is_only_the_auditors_landing(
    client_as, auditor, admin, finance, gen_org
):
    auditor_page = client_as(auditor).get(HOME)
    assert "security" in auditor_page.context
    assert "Sign-in failures" in auditor_page.content.decode()
    for user in (admin, finance):  # they land on spend: the Overview they had
        assert "security" not in client_as(user).get(HOME).context


def test_it_says_so_when_nothing_happened(client_as, auditor, db):
    OrganizationFactory(name="Quiet")
    body = client_as(auditor).get(HOME).content.decode()
    assert body.count("None in 30 days.") == len(SECTIONS)
    assert "No change made with an API key in 30 days." in body


def test_it_reads_the_summary_in_a_fixed_number_of_queries(gen_org, django_assert_num_queries):
    # The counts, the latest of every kind (one query, a row number per kind), the admin keys'
    # counts and their latest changes: four, however big the log is.
    with django_assert_num_queries(4):
        summary = security_summary(org=gen_org, now=timezone.now())
    assert summary.admin_keys
    assert summary.admin_latest


def test_it_renders_the_auditors_overview_in_a_pinned_number_of_queries(
    client_as, auditor, gen_org, django_assert_num_queries
):
    client = client_as(auditor)
    client.get(HOME)  # warm the session
    caches[settings.PAGE_CACHE_ALIAS].clear()  # and render the page again (dashboard/page_cache.py)
    # What every page needs, the page cache's key, the latest sync runs, the summary's four and
    # its names (the directory's, then the audit log's).
    with django_assert_num_queries(12):  # every page's: 4 since issue 17 (role grants)
        client.get(HOME)
    # The same page again, nothing synced since: from the page cache (every page's 4, its key).
    with django_assert_num_queries(5):
        client.get(HOME)
