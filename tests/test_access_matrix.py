"""Every URL × every method × every role, built from the URL resolver.

A new view can't escape: the test fails for any URL pattern missing from ACCESS, and for any view
whose decorator asks for another permission (or asks for it elsewhere: on the current connection,
on any, on all) than ACCESS says.

Roles are given per connection. The second half walks every URL again as people who hold a role
on connection A only, with everything pointing at connection B (the session's choice, the ids in
the URL): B doesn't exist for them, so nothing of B comes back, whatever the URL.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from orgadmin.access import Perm, Role, Scope
from orgadmin.client import install_transport
from tests import fuzzstats
from tests.conftest import SIM_ADMIN_KEY, SIM_BASE_URL
from tests.factories import OrganizationFactory, UserFactory

SIGNED_IN = "signed-in"  # any signed-in user, whatever their role
PUBLIC = "public"  # no login at all (the login page itself, health checks)


@dataclass(frozen=True)
class Rule:
    perm: Perm | str
    methods: frozenset[str]
    redirects_signed_in: bool = False  # the login page sends signed-in people home
    scope: Scope = Scope.CONNECTION  # where the permission is needed (see orgadmin.access)


def rule(
    perm: Perm | str,
    *methods: str,
    redirects_signed_in: bool = False,
    scope: Scope = Scope.CONNECTION,
) -> Rule:
    return Rule(perm, frozenset(methods), redirects_signed_in, scope)


# URL name → who may use it, and with which methods. Keep it in the order of the urls.py files.
ACCESS: dict[str, Rule] = {
    "home": rule(SIGNED_IN, "GET"),
    "costs": rule(Perm.VIEW_SPEND, "GET"),
    "costs_export": rule(Perm.VIEW_SPEND, "GET"),
    "costs_focus": rule(Perm.VIEW_SPEND, "GET"),
    # All organizations: for spend on some connection (the view answers 404 below two).
    "all_overview": rule(Perm.VIEW_SPEND, "GET", scope=Scope.ANY),
    "all_costs": rule(Perm.VIEW_SPEND, "GET", scope=Scope.ANY),
    "all_costs_export": rule(Perm.VIEW_SPEND, "GET", scope=Scope.ANY),
    "all_costs_focus": rule(Perm.VIEW_SPEND, "GET", scope=Scope.ANY),
    "switch": rule(SIGNED_IN, "POST"),
    "usage": rule(Perm.VIEW_SPEND, "GET"),
    "usage_export": rule(Perm.VIEW_SPEND, "GET"),
    "usage_sync": rule(Perm.VIEW_SPEND, "POST"),
    "usage_sync_status": rule(Perm.VIEW_SPEND, "GET"),
    "reporting_settings": rule(Perm.MANAGE, "POST"),
    # Alert channels (dashboard/alerts/): an Admin of the connection.
    "channels": rule(Perm.MANAGE, "GET"),
    "channel_add": rule(Perm.MANAGE, "POST"),
    "channel_remove": rule(Perm.MANAGE, "POST"),
    "channel_toggle": rule(Perm.MANAGE, "POST"),
    "channel_test": rule(Perm.MANAGE, "POST"),
    "channel_deliveries": rule(Perm.MANAGE, "GET"),
    # Budgets (dashboard/budgets/): Finance and Admin read them, an Admin changes them.
    "budgets": rule(Perm.VIEW_SPEND, "GET"),
    "budget_add": rule(Perm.MANAGE, "POST"),
    "budget_edit": rule(Perm.MANAGE, "GET", "POST"),
    "budget_remove": rule(Perm.MANAGE, "POST"),
    # Attribution (dashboard/attribution/): Finance and Admin read it, an Admin sets prices.
    "attribution": rule(Perm.VIEW_SPEND, "GET"),
    "attribution_people_export": rule(Perm.VIEW_SPEND, "GET"),
    "attribution_keys": rule(Perm.VIEW_SPEND, "GET"),
    "attribution_keys_export": rule(Perm.VIEW_SPEND, "GET"),
    "attribution_reconciliation": rule(Perm.VIEW_SPEND, "GET"),
    "attribution_reconciliation_export": rule(Perm.VIEW_SPEND, "GET"),
    "attribution_prices": rule(Perm.VIEW_SPEND, "GET"),
    "attribution_price_add": rule(Perm.MANAGE, "POST"),
    "attribution_price_remove": rule(Perm.MANAGE, "POST"),
    # Chargeback (dashboard/chargeback/): Finance and Admin read the report, its files and the
    # centres; an Admin changes them and closes or reopens a month.
    "chargeback": rule(Perm.VIEW_SPEND, "GET"),
    "chargeback_export": rule(Perm.VIEW_SPEND, "GET"),
    "chargeback_close": rule(Perm.MANAGE, "POST"),
    "chargeback_reopen": rule(Perm.MANAGE, "POST"),
    "cost_centres": rule(Perm.VIEW_SPEND, "GET"),
    "centre_add": rule(Perm.MANAGE, "POST"),
    "centre_edit": rule(Perm.MANAGE, "GET", "POST"),
    "centre_remove": rule(Perm.MANAGE, "POST"),
    "assignment_add": rule(Perm.MANAGE, "POST"),
    "assignment_remove": rule(Perm.MANAGE, "POST"),
    "rule_add": rule(Perm.MANAGE, "POST"),
    "rule_remove": rule(Perm.MANAGE, "POST"),
    # The alert inbox (dashboard/alerts/inbox.py): Finance and Admin read it and move states.
    "alert_inbox": rule(Perm.VIEW_SPEND, "GET"),
    "alert_detail": rule(Perm.VIEW_SPEND, "GET"),
    "alert_state": rule(Perm.VIEW_SPEND, "POST"),
    # Digests (dashboard/digests/): anyone signed in; their roles on the connection decide which.
    "digests": rule(SIGNED_IN, "GET"),
    "digest_save": rule(SIGNED_IN, "POST"),
    "digest_preview": rule(SIGNED_IN, "POST"),
    # Access tokens (orgadmin/tokens/): each signed-in person's own; a token itself opens only
    # the exports (tests/tokens/test_token_access.py walks every URL with one).
    "access_tokens": rule(SIGNED_IN, "GET"),
    "access_token_create": rule(SIGNED_IN, "POST"),
    "access_token_revoke": rule(SIGNED_IN, "POST"),
    # Hygiene (orgadmin/hygiene/): Admin and Auditor read the findings; an Admin changes them.
    "hygiene": rule(Perm.VIEW_DIRECTORY, "GET"),
    "hygiene_check": rule(Perm.MANAGE, "POST"),
    "hygiene_thresholds": rule(Perm.MANAGE, "POST"),
    "hygiene_outcome": rule(Perm.MANAGE, "POST"),
    "hygiene_revoke_preview": rule(Perm.MANAGE, "GET"),
    "hygiene_revoke": rule(Perm.MANAGE, "POST"),
    # Signing in (orgadmin/accounts/urls.py): the sign-in page also under allauth's name for it.
    "login": rule(PUBLIC, "GET", "POST", redirects_signed_in=True),
    "account_login": rule(PUBLIC, "GET", "POST", redirects_signed_in=True),
    "logout": rule(PUBLIC, "POST"),
    "account_inactive": rule(PUBLIC, "GET"),
    "account_reauthenticate": rule(SIGNED_IN, "GET", "POST"),
    # Two-factor authentication: the sign-in's second step, and one's own settings.
    "mfa_index": rule(SIGNED_IN, "GET"),
    "mfa_authenticate": rule(PUBLIC, "GET", "POST"),
    "mfa_reauthenticate": rule(SIGNED_IN, "GET", "POST"),
    "mfa_activate_totp": rule(SIGNED_IN, "GET", "POST"),
    "mfa_deactivate_totp": rule(SIGNED_IN, "GET", "POST"),
    "mfa_view_recovery_codes": rule(SIGNED_IN, "GET"),
    "mfa_generate_recovery_codes": rule(SIGNED_IN, "GET", "POST"),
    "mfa_download_recovery_codes": rule(SIGNED_IN, "GET"),
    # Single sign-on (OpenID Connect).
    "openid_connect_login": rule(PUBLIC, "GET", "POST"),
    "openid_connect_callback": rule(PUBLIC, "GET"),
    "socialaccount_login_cancelled": rule(PUBLIC, "GET"),
    "socialaccount_login_error": rule(PUBLIC, "GET"),
    # Forgotten passwords (allauth's reset by a link by mail), and the reset an Admin sends.
    "account_reset_password": rule(PUBLIC, "GET", "POST"),
    "account_reset_password_done": rule(PUBLIC, "GET"),
    "account_reset_password_from_key": rule(PUBLIC, "GET", "POST"),
    "account_reset_password_from_key_done": rule(PUBLIC, "GET"),
    # The access matrix (orgadmin/access_matrix/): Auditor and Admin read it, its CSV and its
    # changes between two days.
    "access": rule(Perm.VIEW_DIRECTORY, "GET"),
    "access_export": rule(Perm.VIEW_DIRECTORY, "GET"),
    "access_grid": rule(Perm.VIEW_DIRECTORY, "GET"),
    "access_grid_export": rule(Perm.VIEW_DIRECTORY, "GET"),
    "access_changes": rule(Perm.VIEW_DIRECTORY, "GET"),
    # Access reviews (orgadmin/reviews/): Auditor and Admin read the campaigns and the evidence;
    # an Admin starts, reminds, carries out revocations, closes. A reviewer's own page and
    # decisions are for any signed-in person the view finds assigned (else 404), or an Admin.
    "reviews": rule(Perm.VIEW_DIRECTORY, "GET"),
    "review_start": rule(Perm.MANAGE, "GET", "POST"),
    "review_campaign": rule(Perm.VIEW_DIRECTORY, "GET"),
    "review_items": rule(SIGNED_IN, "GET"),
    "review_decide": rule(SIGNED_IN, "POST"),
    "review_keep_rest": rule(SIGNED_IN, "POST"),
    "review_revoke": rule(Perm.MANAGE, "POST"),
    "review_remind": rule(Perm.MANAGE, "POST"),
    "review_close": rule(Perm.MANAGE, "POST"),
    "review_evidence": rule(Perm.VIEW_DIRECTORY, "GET"),
    "review_evidence_pdf": rule(Perm.VIEW_DIRECTORY, "GET"),
    "review_evidence_csv": rule(Perm.VIEW_DIRECTORY, "GET"),
    "healthz": rule(PUBLIC, "GET"),
    # An Admin of any connection opens the list and manages their own; adding (a POST here,
    # checked in the view) and removing one is for an Admin of all connections.
    "orgadmin:connections": rule(Perm.MANAGE, "GET", "POST", scope=Scope.ANY),
    "orgadmin:connection_verify": rule(Perm.MANAGE, "POST", scope=Scope.ANY),
    "orgadmin:connection_rename": rule(Perm.MANAGE, "GET", "POST", scope=Scope.ANY),
    "orgadmin:connection_key": rule(Perm.MANAGE, "GET", "POST", scope=Scope.ANY),
    "orgadmin:connection_delete": rule(Perm.MANAGE, "POST", scope=Scope.ALL),
    "orgadmin:switch_org": rule(SIGNED_IN, "POST"),
    "orgadmin:audit_log": rule(Perm.VIEW_AUDIT_LOG, "GET"),
    "orgadmin:audit_export_csv": rule(Perm.VIEW_AUDIT_LOG, "GET"),
    "orgadmin:audit_export_jsonl": rule(Perm.VIEW_AUDIT_LOG, "GET"),
    "orgadmin:audit_event": rule(Perm.VIEW_AUDIT_LOG, "GET"),
    "orgadmin:audit_sync": rule(Perm.MANAGE, "POST"),
    "orgadmin:audit_sync_status": rule(Perm.VIEW_AUDIT_LOG, "GET"),
    # The directory cache.
    "orgadmin:directory_refresh": rule(Perm.MANAGE, "POST"),
    "orgadmin:directory_status": rule(Perm.VIEW_PROJECTS, "GET"),
    "orgadmin:member_suggestions": rule(Perm.VIEW_DIRECTORY, "GET"),
    # Members, invites, groups and roles.
    "orgadmin:members": rule(Perm.VIEW_DIRECTORY, "GET"),
    "orgadmin:invites": rule(Perm.VIEW_DIRECTORY, "GET"),
    "orgadmin:invite_create": rule(Perm.MANAGE, "POST"),
    "orgadmin:invite_bulk": rule(Perm.MANAGE, "GET", "POST"),
    "orgadmin:invite_revoke": rule(Perm.MANAGE, "POST"),
    "orgadmin:groups": rule(Perm.VIEW_DIRECTORY, "GET"),
    "orgadmin:group_create": rule(Perm.MANAGE, "POST"),
    "orgadmin:group": rule(Perm.VIEW_DIRECTORY, "GET"),
    "orgadmin:group_rename": rule(Perm.MANAGE, "POST"),
    "orgadmin:group_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:group_user_add": rule(Perm.MANAGE, "POST"),
    "orgadmin:group_user_remove": rule(Perm.MANAGE, "POST"),
    "orgadmin:group_role_assign": rule(Perm.MANAGE, "POST"),
    "orgadmin:group_role_unassign": rule(Perm.MANAGE, "POST"),
    "orgadmin:roles": rule(Perm.VIEW_DIRECTORY, "GET"),
    "orgadmin:role_create": rule(Perm.MANAGE, "GET", "POST"),
    "orgadmin:role_edit": rule(Perm.MANAGE, "GET", "POST"),
    "orgadmin:role_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:member": rule(Perm.VIEW_DIRECTORY, "GET"),
    "orgadmin:member_role": rule(Perm.MANAGE, "POST"),
    "orgadmin:member_remove": rule(Perm.MANAGE, "POST"),
    "orgadmin:member_project_add": rule(Perm.MANAGE, "POST"),
    "orgadmin:member_group_add": rule(Perm.MANAGE, "POST"),
    "orgadmin:member_role_assign": rule(Perm.MANAGE, "POST"),
    "orgadmin:member_role_unassign": rule(Perm.MANAGE, "POST"),
    # Projects.
    "orgadmin:projects": rule(Perm.VIEW_PROJECTS, "GET"),
    "orgadmin:project_create": rule(Perm.MANAGE, "GET", "POST"),
    "orgadmin:project": rule(Perm.VIEW_PROJECTS, "GET"),
    "orgadmin:project_rename": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_archive": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_user_add": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_user_role": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_user_remove": rule(Perm.MANAGE, "POST"),
    "orgadmin:service_account_create": rule(Perm.MANAGE, "POST"),
    "orgadmin:service_account_edit": rule(Perm.MANAGE, "POST"),
    "orgadmin:service_account_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:service_account_key_create": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_key_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:rate_limit_edit": rule(Perm.MANAGE, "POST"),
    "orgadmin:rate_limits_bulk": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_certificates_toggle": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_spend_alert_create": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_spend_alert_edit": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_spend_alert_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_spend_limit": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_spend_limit_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_model_permissions": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_model_permissions_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_hosted_tools": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_retention": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_group_add": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_group_remove": rule(Perm.MANAGE, "POST"),
    "orgadmin:project_tab": rule(Perm.VIEW_PROJECTS, "GET"),
    # Keys.
    "orgadmin:keys": rule(Perm.VIEW_DIRECTORY, "GET"),
    "orgadmin:admin_keys": rule(Perm.VIEW_DIRECTORY, "GET"),
    "orgadmin:admin_key_create": rule(Perm.MANAGE, "GET", "POST"),
    "orgadmin:admin_key_delete": rule(Perm.MANAGE, "POST"),
    # An xAI team's API keys: read with the directory, changed by an Admin.
    "orgadmin:team_keys": rule(Perm.VIEW_DIRECTORY, "GET"),
    "orgadmin:team_key_create": rule(Perm.MANAGE, "GET", "POST"),
    "orgadmin:team_key_edit": rule(Perm.MANAGE, "GET", "POST"),
    "orgadmin:team_key_disable": rule(Perm.MANAGE, "POST"),
    "orgadmin:team_key_enable": rule(Perm.MANAGE, "POST"),
    "orgadmin:team_key_rotate": rule(Perm.MANAGE, "GET", "POST"),
    "orgadmin:team_key_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:team_key_propagation": rule(Perm.VIEW_DIRECTORY, "GET"),
    # Organization settings.
    "orgadmin:org_settings": rule(Perm.VIEW_DIRECTORY, "GET"),
    "orgadmin:certificate_upload": rule(Perm.MANAGE, "GET", "POST"),
    "orgadmin:certificates_toggle": rule(Perm.MANAGE, "POST"),
    "orgadmin:certificate_rename": rule(Perm.MANAGE, "GET", "POST"),
    "orgadmin:certificate_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:spend_alert_create": rule(Perm.MANAGE, "POST"),
    "orgadmin:spend_alert_edit": rule(Perm.MANAGE, "POST"),
    "orgadmin:spend_alert_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:spend_limit": rule(Perm.MANAGE, "POST"),
    "orgadmin:spend_limit_delete": rule(Perm.MANAGE, "POST"),
    "orgadmin:org_retention": rule(Perm.MANAGE, "POST"),
    "orgadmin:org_settings_tab": rule(Perm.VIEW_DIRECTORY, "GET"),
    # People who may sign in here: an Admin or Auditor of any connection reads the page (the
    # people of their connections); an Admin gives roles and invites on the connections they
    # manage (checked in the view), and changes accounts, which span every connection, only as
    # an Admin for all connections. Accepting an invitation is public (the link is the key).
    "orgadmin:people": rule(Perm.VIEW_DIRECTORY, "GET", scope=Scope.ANY),
    "orgadmin:people_invite": rule(Perm.MANAGE, "POST", scope=Scope.ANY),
    "orgadmin:invitation_resend": rule(Perm.MANAGE, "POST", scope=Scope.ANY),
    "orgadmin:invitation_revoke": rule(Perm.MANAGE, "POST", scope=Scope.ANY),
    "orgadmin:person_role_add": rule(Perm.MANAGE, "POST", scope=Scope.ANY),
    "orgadmin:person_role_remove": rule(Perm.MANAGE, "POST", scope=Scope.ANY),
    "orgadmin:person_deactivate": rule(Perm.MANAGE, "POST", scope=Scope.ALL),
    "orgadmin:person_reactivate": rule(Perm.MANAGE, "POST", scope=Scope.ALL),
    "orgadmin:person_password_reset": rule(Perm.MANAGE, "POST", scope=Scope.ALL),
    "orgadmin:people_accept": rule(PUBLIC, "GET", "POST"),
    # Our own action log.
    "orgadmin:activity": rule(Perm.VIEW_AUDIT_LOG, "GET"),
    "orgadmin:activity_export": rule(Perm.VIEW_AUDIT_LOG, "GET"),
    # An xAI team's billing: the page and its export for spend, the soft limit for an Admin.
    "orgadmin:billing": rule(Perm.VIEW_SPEND, "GET"),
    "orgadmin:billing_soft_limit": rule(Perm.MANAGE, "POST"),
    "orgadmin:billing_export": rule(Perm.VIEW_SPEND, "GET"),
}

PRINCIPALS = ["anonymous", "nobody", Role.ADMIN, Role.FINANCE, Role.AUDITOR, "superuser"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if ns and namespace and p.namespace:
                ns = f"{namespace}:{p.namespace}"
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name:
            name = f"{namespace}:{p.name}" if namespace else p.name
            yield name, p


def url_patterns() -> dict[str, URLPattern]:
    found: dict[str, URLPattern] = {}
    for name, pattern in _walk(get_resolver().url_patterns):
        found.setdefault(name, pattern)
    return found


# Sample values for URL parameters, filled in by the `sample_kwargs` fixture.
def _kwargs_for(pattern: URLPattern, samples: dict[str, object]) -> dict[str, object]:
    return {name: samples[name] for name in pattern.pattern.converters}


# Audit event ids in URLs. Not stored: the event page answers 404, which still proves the
# permission check ran first.
AUDIT_SAMPLES: dict[str, object] = {"event_id": "audit_log-sample_20250101"}


# OpenAI ids in URLs. They are not in the (empty) cache: detail pages answer 404, which still
# proves the permission check ran first.
DIRECTORY_SAMPLES: dict[str, object] = {
    "user_id": "user-sample",
    "invite_id": "invite-sample",
    "group_id": "group_sample",
    "role_id": "role_sample",
    "project_id": "proj_sample",
    "account_id": "svc_acct_sample",
    "key_id": "key_sample",
    "limit_id": "rl-sample",
    "alert_id": "alert_sample",
    "certificate_id": "cert_sample",
    "tab": "spend",
    # Not OpenAI's: our own people, their grants and invitations (not stored either: 404), an
    # invitation link's token and a password reset link's parts (unknown: "doesn't work").
    "person_id": 4242,
    "grant_id": 4242,
    "invitation_id": 4242,
    "channel_id": 4242,  # an alert channel (not stored either: 404)
    "budget_id": 4242,  # a budget (not stored either: 404)
    "centre_id": 4242,  # a cost centre, an assignment, a rule (dashboard/chargeback): 404
    "assignment_id": 4242,
    "rule_id": 4242,
    "alert_pk": 4242,  # an alert of the inbox (not stored either: 404)
    "finding_id": 4242,  # a hygiene finding (not stored either: 404)
    "campaign_id": 4242,  # an access review (not stored either: 404)
    "token": "sample-invitation-token-000000",
    "uidb36": "1",
    "key": "sample-reset-key",
}


@pytest.fixture(scope="module")
def _shared_simulator():
    """One simulator for the whole matrix, built once: no cell changes its state (no request
    carries a valid change), and building one per cell would take minutes."""
    from orgadmin.simulator import create_app
    from tests.conftest import SIM_NOW

    app = create_app(scenario="demo", seed=0, admin_keys=[SIM_ADMIN_KEY], now=lambda: SIM_NOW)
    with install_transport(SIM_BASE_URL, httpx.WSGITransport(app=app)):
        yield app


@pytest.fixture(scope="module")
def shared_xai_simulator():
    """The same for the xAI pages, which the matrix asks of an xAI team."""
    from orgadmin.xai.simulator import create_app
    from tests.conftest import SIM_NOW, XAI_BASE_URL

    app = create_app(scenario="demo", seed=0, management_keys=[SIM_ADMIN_KEY], now=lambda: SIM_NOW)
    with install_transport(XAI_BASE_URL, httpx.WSGITransport(app=app)):
        yield app


@pytest.fixture
def sample_kwargs(db, _shared_simulator, shared_xai_simulator) -> dict[str, object]:
    org = OrganizationFactory(
        name="Acme (simulator)", base_url=SIM_BASE_URL, admin_key=SIM_ADMIN_KEY
    )
    return {"pk": org.pk, "fmt": "csv", **DIRECTORY_SAMPLES, **AUDIT_SAMPLES}


def _as_the_provider_of(name: str, kwargs: dict[str, object], team_id: str) -> None:
    """A page only an xAI team has (its keys, its billing) is asked of an xAI team: an OpenAI
    connection gets the note that says where it is managed (tests/orgadmin/test_providers.py)."""
    from orgadmin.models import Organization
    from orgadmin.providers import OPENAI, capability_of_page
    from tests.conftest import XAI_BASE_URL

    capability = capability_of_page(name)
    if capability is None or capability in OPENAI.capabilities:
        return
    Organization.objects.filter(pk=kwargs["pk"]).update(
        provider="xai", base_url=XAI_BASE_URL, account_id=team_id
    )


def _user_for(principal):
    if principal == "anonymous":
        return None
    if principal == "nobody":
        return UserFactory(username="nobody")
    if principal == "superuser":
        return UserFactory(username="root", is_superuser=True)
    return UserFactory(username=f"user-{principal}", role=principal)


def _may(principal, perm) -> bool:
    if perm == PUBLIC:
        return True
    if principal == "anonymous":
        return False
    if perm == SIGNED_IN or principal == "superuser":
        return True
    if principal == "nobody":
        return False
    from orgadmin.access import ROLE_PERMISSIONS

    return perm in ROLE_PERMISSIONS[principal]


def test_it_lists_every_url_pattern_in_the_access_table():
    names = set(url_patterns())
    assert names - set(ACCESS) == set(), "add these URLs to ACCESS with their rule"
    assert set(ACCESS) - names == set(), "these ACCESS entries have no URL any more"


def test_it_guards_every_view_with_the_permission_the_table_names():
    for name, pattern in url_patterns().items():
        expected = ACCESS[name].perm
        if expected == PUBLIC:
            assert not hasattr(pattern.callback, "required_perm"), name
            continue
        declared = getattr(pattern.callback, "required_perm", "missing")
        assert declared == (None if expected == SIGNED_IN else expected), name
        if expected != SIGNED_IN:
            assert pattern.callback.required_scope == ACCESS[name].scope, name


CELLS = [
    (name, principal, method)
    for name in sorted(ACCESS)
    for principal in PRINCIPALS
    for method in METHODS
]


@pytest.mark.parametrize(("name", "principal", "method"), CELLS)
def test_it_answers_each_cell_as_the_table_says(
    name, principal, method, client, sample_kwargs, django_user_model, shared_xai_simulator
):
    _as_the_provider_of(name, sample_kwargs, shared_xai_simulator.team_id)
    pattern = url_patterns()[name]
    url = reverse(name, kwargs=_kwargs_for(pattern, sample_kwargs))
    user = _user_for(principal)
    if user is not None:
        client.force_login(user)
    response = client.generic(method, url)
    access = ACCESS[name]
    fuzzstats.matrix_cell()

    assert response.status_code < 500, f"{method} {url} as {principal}: {response.status_code}"
    if access.redirects_signed_in and user is not None:
        assert response.status_code == 302
        assert response["Location"] == reverse("home")
    elif not _may(principal, access.perm):
        if principal == "anonymous":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))
        else:
            assert response.status_code == 403
    elif method not in access.methods:
        assert response.status_code == 405
    else:
        assert response.status_code not in (403, 405)


POST_URLS = sorted(n for n, r in ACCESS.items() if "POST" in r.methods)


@pytest.mark.parametrize("name", POST_URLS)
def test_it_refuses_every_post_without_a_csrf_token(name, sample_kwargs, client_as, superuser):
    pattern = url_patterns()[name]
    url = reverse(name, kwargs=_kwargs_for(pattern, sample_kwargs))
    client = client_as(superuser, enforce_csrf_checks=True)
    response = client.post(url, {})
    assert response.status_code == 403
    assert b"CSRF" in response.content


# --- Two connections, and people with a role on one of them only ---------------------------

# In connection B's name and in its rows: nothing with it may reach someone without a role on B.
BRAVO = "Bravo-hidden"
# Ids of B's rows (tests/orgadmin/cache.py's), in the URLs: none is in A's (empty) cache.
BRAVO_SAMPLES: dict[str, object] = {
    "user_id": "user-0001",
    "invite_id": "invite-1",
    "group_id": "group_1",
    "role_id": "role_billing",
    "project_id": "proj_0000",
    "account_id": "svc_acct_0000",
    "key_id": "key_0000_0000",
    "limit_id": "rl-gpt-0",
    "alert_id": "alert_p0",
    "certificate_id": "cert_1",
    "event_id": "audit_log-bravo0001",
    "tab": "spend",
    "fmt": "csv",
    # A person with a role on B only, their grant and an invitation to B (the fixture's ids).
    "person_id": 0,
    "grant_id": 0,
    "invitation_id": 0,
    "channel_id": 0,  # an alert channel of B's (tests/alerts/ walks a stored one)
    "budget_id": 0,  # a budget of B's (tests/budgets/ walks a stored one)
    "centre_id": 0,  # B's cost centre, assignment and rule (tests/chargeback/ walks stored ones)
    "assignment_id": 0,
    "rule_id": 0,
    "alert_pk": 0,  # an alert of B's (tests/alerts/test_inbox_pages.py walks a stored one)
    "finding_id": 0,  # a hygiene finding of B's (tests/hygiene/ walks a stored one)
    "campaign_id": 0,  # an access review of B's (tests/reviews/ walks a stored one)
    # Links' secrets, not rows: an unknown one is "this link doesn't work", whoever asks.
    "token": "bravo-invitation-token-0000000",
    "uidb36": "1",
    "key": "bravo-reset-key",
}
# Never walked: signing out would end the session the walk needs; signing in is not per org.
NOT_WALKED = {"logout", "login", "account_login"}
# The directory's and the audit log's ids: B's rows, looked up on A (request.org), are not found.
ROW_IDS = set(BRAVO_SAMPLES) - {"tab", "fmt", "token", "uidb36", "key"}


def _store_bravo_event(org) -> None:
    from django.db import transaction

    from orgadmin.sync.audit import audit_events_store
    from tests.conftest import SIM_NOW

    raw = {
        "id": BRAVO_SAMPLES["event_id"],
        "type": "project.created",
        "effective_at": int(SIM_NOW) - 3600,
        "actor": {
            "type": "session",
            "session": {"user": {"id": "user-0001", "email": "bravo@example.com"}},
        },
        "project.created": {"id": "proj_0000", "data": {"name": f"{BRAVO} project"}},
    }
    with transaction.atomic():
        audit_events_store(org=org, raws=[raw])


@pytest.fixture
def two_orgs(db, _shared_simulator):
    """Connection A (the simulator, its cache empty) and connection B, whose cache, action log
    and audit log are full of BRAVO. Returns (A, B, the URL arguments of B's rows)."""
    from orgadmin.models import ActionLog, OrgUser, Project
    from tests.orgadmin.cache import fill_cache

    a = OrganizationFactory(name="Acme (simulator)", base_url=SIM_BASE_URL, admin_key=SIM_ADMIN_KEY)
    b = OrganizationFactory(name=f"{BRAVO} connection", base_url=SIM_BASE_URL)
    fill_cache(b)
    OrgUser.objects.filter(org=b).update(name=f"{BRAVO} person")
    Project.objects.filter(org=b).update(name=f"{BRAVO} project")
    ActionLog.objects.filter(org=b).update(summary=f"Renamed the {BRAVO} project")
    # An action tied to no connection any more: a connection removed since, named in it.
    ActionLog.objects.create(
        org=None,
        org_name=f"{BRAVO} old",
        actor_name="root",
        action="connection.delete",
        summary=f"Removed the connection “{BRAVO} old”",
        outcome="ok",
    )
    _store_bravo_event(b)
    return a, b, {**BRAVO_SAMPLES, "pk": b.pk, **_bravo_people(b)}


def _bravo_people(org) -> dict[str, int]:
    """Someone with a role on B only, and an invitation to B: not on A's People page."""
    import datetime as dt

    from django.utils import timezone

    from orgadmin.models import Invitation, RoleGrant

    person = UserFactory(username=f"{BRAVO}-person", roles_on={org: Role.FINANCE})
    invitation = Invitation.objects.create(
        email="bravo.invitee@example.com",
        role=Role.AUDITOR,
        org=org,
        token_hash="0" * 64,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    grant = RoleGrant.objects.get(user=person)
    return {"person_id": person.pk, "grant_id": grant.pk, "invitation_id": invitation.pk}


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


def _expected_for_a_only(role: Role, access: Rule, takes: set[str]) -> set[int] | None:
    """What a URL of B answers to someone holding `role` on A only; None: any answer but 500
    (a page of A: it must only show A)."""
    from orgadmin.access import ROLE_PERMISSIONS

    if access.perm not in (SIGNED_IN, PUBLIC) and (
        access.perm not in ROLE_PERMISSIONS[role] or access.scope == Scope.ALL
    ):
        return {403}
    if "pk" in takes or takes & ROW_IDS:
        return {404}
    return None


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE, Role.AUDITOR])
def test_nothing_of_another_connection_reaches_a_person_without_a_role_on_it(
    role, client, two_orgs
):
    """Every URL × method, as someone with `role` on A only, their session pointed at B and B's
    ids in the URL: 403 or 404, or A's page; never B's name or rows, never a 500."""
    from orgadmin.middleware import SESSION_KEY

    a, b, samples = two_orgs
    client.force_login(UserFactory(username=f"only-a-{role}", roles_on={a: role}))
    walked = 0
    for name, access in sorted(ACCESS.items()):
        if name in NOT_WALKED:
            continue
        pattern = url_patterns()[name]
        url = reverse(name, kwargs=_kwargs_for(pattern, samples))
        expected = _expected_for_a_only(role, access, set(pattern.pattern.converters))
        for method in sorted(access.methods):
            session = client.session
            session[SESSION_KEY] = b.pk  # as a stale session or a hand-made cookie would say
            session.save()
            response = client.generic(method, url)
            where = f"{method} {url} as {role} of A only"
            assert response.status_code < 500, f"{where}: {response.status_code}"
            assert BRAVO not in _body(response), f"{where}: B's data in the answer"
            assert response.wsgi_request.org == a, f"{where}: the request was not on A"
            if expected is not None:
                assert response.status_code in expected, f"{where}: {response.status_code}"
            walked += 1
    assert walked > 100  # every URL was walked, with each of its methods


def test_bs_rows_are_real_to_someone_with_a_role_on_b(client, two_orgs):
    """The walk above means something: the same URLs show B's rows to an Admin of B."""
    from orgadmin.middleware import SESSION_KEY

    a, b, samples = two_orgs
    client.force_login(UserFactory(username="admin-of-b", roles_on={b: Role.ADMIN}))
    session = client.session
    session[SESSION_KEY] = b.pk
    session.save()
    for name in (
        "orgadmin:member",
        "orgadmin:project",
        "orgadmin:activity",
        "orgadmin:people",
        "home",
    ):
        url = reverse(name, kwargs=_kwargs_for(url_patterns()[name], samples))
        response = client.get(url)
        assert response.status_code == 200, url
        assert BRAVO in _body(response), url
    event = client.get(reverse("orgadmin:audit_event", args=[samples["event_id"]]))
    assert event.status_code == 200
    rename = client.get(reverse("orgadmin:connection_rename", args=[b.pk]))
    assert rename.status_code == 200
    assert client.get(reverse("orgadmin:connection_rename", args=[a.pk])).status_code == 404
