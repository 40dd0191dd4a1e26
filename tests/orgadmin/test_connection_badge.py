"""A connection that isn't a vendor's own API wears its badge wherever its name is shown."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.factories import OrganizationFactory

BADGE = re.compile(r'<span class="badge badge-warn api-badge"[^>]*>(\w+)</span>')


@pytest.fixture
def orgs(db):
    return {
        "Acme": OrganizationFactory(name="Acme", base_url="https://api.openai.com/v1"),
        "Acme sandbox": OrganizationFactory(
            name="Acme sandbox", base_url=SIM_BASE_URL, admin_key=SIM_ADMIN_KEY
        ),
        "Acme via gateway": OrganizationFactory(
            name="Acme via gateway", base_url="https://gateway.example.com/v1"
        ),
        "Demo": OrganizationFactory(name="Demo", base_url="http://127.0.0.1:8001/v1"),
    }


def _row(page: str, org) -> str:
    return page.split(f'id="connection-{org.pk}"')[1].split("</tr>")[0]


def test_it_badges_each_connection_on_the_connections_page(client_as, admin, orgs):
    page = client_as(admin).get(reverse("orgadmin:connections")).content.decode()

    assert BADGE.findall(_row(page, orgs["Acme"])) == []
    assert BADGE.findall(_row(page, orgs["Acme sandbox"])) == ["Simulator"]
    assert BADGE.findall(_row(page, orgs["Acme via gateway"])) == ["Gateway"]
    assert BADGE.findall(_row(page, orgs["Demo"])) == ["Simulator"]


@pytest.mark.parametrize(
    ("name", "badge"),
    [("Acme", None), ("Acme sandbox", "Simulator"), ("Acme via gateway", "Gateway")],
)
def test_it_badges_the_current_organization_in_the_top_bar_title_and_overview(
    client_as, finance, orgs, name, badge
):
    c = client_as(finance)
    c.post(reverse("orgadmin:switch_org"), {"org": orgs[name].pk})

    page = c.get(reverse("home")).content.decode()

    topbar = page.split('<header class="topbar')[1].split("</header>")[0]
    heading = page.split("<h1>")[1].split("</h1>")[0]
    title = page.split("<title>")[1].split("</title>")[0]
    assert BADGE.findall(topbar) == ([badge] if badge else [])
    assert BADGE.findall(heading) == ([badge] if badge else [])
    assert title.startswith(f"Overview · {name} ({badge}) ·" if badge else f"Overview · {name} ·")
    # Every organization in the switcher says what it is.
    options = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', topbar)
    assert options == [
        "Acme",
        "Acme sandbox (Simulator)",
        "Acme via gateway (Gateway)",
        "Demo (Simulator)",
    ]


def test_it_badges_the_only_organization_beside_its_name(client_as, finance, org):
    page = client_as(finance).get(reverse("home")).content.decode()

    topbar = page.split('<header class="topbar')[1].split("</header>")[0]
    assert 'class="org-name"' in topbar
    assert BADGE.findall(topbar) == ["Simulator"]


def test_it_shows_no_badge_for_openais_own_api(client_as, finance, db):
    OrganizationFactory(name="Acme", base_url="https://api.openai.com/v1")

    page = client_as(finance).get(reverse("home")).content.decode()

    assert "api-badge" not in page
