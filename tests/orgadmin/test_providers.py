"""A connection's provider decides what its pages can do: asked as capabilities, never by name."""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from orgadmin.access import Role
from orgadmin.forms.connections import ConnectionForm
from orgadmin.models import Organization
from orgadmin.providers import _PAGES, OPENAI, XAI, Capability, capability_of_page
from tests.factories import OrganizationFactory, UserFactory


def _url_names() -> set[str]:
    names: set[str] = set()

    def walk(resolver, prefix: str) -> None:
        for p in resolver.url_patterns:
            if hasattr(p, "url_patterns"):
                walk(p, prefix + (f"{p.namespace}:" if p.namespace else ""))
            elif p.name:
                names.add(prefix + p.name)

    walk(get_resolver(), "")
    return names


def test_every_page_rule_matches_a_real_url_name() -> None:
    """A typo in a rule would leave a page unguarded: each one names at least one URL."""
    names = _url_names()
    for pattern, capability in _PAGES:
        if capability in (Capability.TEAM_KEYS, Capability.BILLING) and not any(
            pattern.search(n) for n in names
        ):
            pytest.fail(f"no URL for {capability}")  # the xAI pages exist with this issue
        assert any(pattern.search(n) for n in names), pattern.pattern


def test_openai_pages_need_openai_capabilities_and_shared_pages_need_none() -> None:
    assert capability_of_page("orgadmin:members") == Capability.MEMBERS
    assert capability_of_page("orgadmin:member_role_assign") == Capability.GROUPS_ROLES
    assert capability_of_page("orgadmin:project_key_delete") == Capability.PROJECT_KEYS
    assert capability_of_page("orgadmin:certificate_upload") == Capability.ORG_SETTINGS
    assert capability_of_page("usage") == Capability.USAGE
    for shared in ("home", "costs", "orgadmin:audit_log", "orgadmin:activity", "usage_sync"):
        assert capability_of_page(shared) is None
    assert Capability.MEMBERS in OPENAI.capabilities
    assert Capability.MEMBERS not in XAI.capabilities
    assert {Capability.TEAM_KEYS, Capability.BILLING, Capability.COSTS} <= XAI.capabilities


@pytest.fixture
def team(db) -> Organization:
    return OrganizationFactory(
        name="Grok team",
        provider="xai",
        base_url="http://xai-simulator.test",
        admin_key="xai-mgmt-test-key-000000000000000wxyz",
        account_id="team-1",
    )


@pytest.mark.parametrize(
    "url",
    ["/members/", "/projects/", "/keys/", "/settings/", "/usage/"],
)
def test_an_xai_team_says_where_its_missing_pages_are_managed(client_as, team, url) -> None:
    admin = UserFactory(role=Role.ADMIN)
    page = client_as(admin).get(url)
    assert page.status_code == 404
    text = page.content.decode()
    assert "managed in the xAI console" in text
    assert "https://console.x.ai" in text


def test_a_post_to_a_missing_area_calls_no_api(client_as, team) -> None:
    """An invite sent to an xAI team would go to an API that has none: it stops at the note."""
    admin = UserFactory(role=Role.ADMIN)
    answer = client_as(admin).post(
        reverse("orgadmin:invite_create"), {"email": "a@example.com", "role": "reader"}
    )
    assert answer.status_code == 404
    assert "managed in the xAI console" in answer.content.decode()


def test_someone_without_the_role_gets_the_refusal_not_the_note(client_as, team) -> None:
    finance = UserFactory(role=Role.FINANCE)
    assert client_as(finance).get("/members/").status_code == 403


def test_the_navigation_shows_what_the_provider_offers(client_as, team) -> None:
    admin = UserFactory(role=Role.ADMIN)
    page = client_as(admin).get(reverse("orgadmin:activity")).content.decode()
    nav = page[page.index('<nav class="sidebar"') : page.index("</nav>")]
    for absent in ("Members", "Projects", "Usage", "Settings"):
        assert f">{absent}<" not in nav
    for present in ("Keys", "Billing", "Costs", "Audit log", "Activity"):
        assert f">{present}<" in nav
    assert reverse("orgadmin:team_keys") in nav


def test_the_add_form_fills_in_the_providers_own_api(db) -> None:
    form = ConnectionForm(
        {"provider": "xai", "name": "Grok", "base_url": "", "admin_key": "xai-" + "k" * 40}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["base_url"] == "https://management-api.x.ai"
    form = ConnectionForm(
        {"provider": "openai", "name": "Acme", "base_url": "", "admin_key": "sk-admin-" + "k" * 40}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["base_url"] == "https://api.openai.com/v1"


def test_an_unknown_provider_is_refused_with_a_message(db) -> None:
    form = ConnectionForm(
        {"provider": "acme", "name": "X", "base_url": "", "admin_key": "sk-admin-" + "k" * 40}
    )
    assert not form.is_valid()
    assert "provider" in form.errors


def test_a_management_key_is_masked_with_its_kind() -> None:
    from orgadmin.models.core import mask_key

    assert mask_key("xai-mgmt-abcdefghijklmnop1234") == "xai-…1234"
    assert mask_key("sk-admin-abcdefghijklmnop1234") == "sk-admin-…1234"


def test_an_xai_teams_audit_log_has_no_project_filter_or_column(client_as, team) -> None:
    auditor = UserFactory(role=Role.AUDITOR)
    page = client_as(auditor).get(reverse("orgadmin:audit_log")).content.decode()
    assert "All projects" not in page
    assert '<th scope="col">Project</th>' not in page
    openai = OrganizationFactory(name="Acme")
    client = client_as(UserFactory(role=Role.AUDITOR, username="aud2"))
    client.post(reverse("switch"), {"org": openai.pk})
    assert "All projects" in client.get(reverse("orgadmin:audit_log")).content.decode()
