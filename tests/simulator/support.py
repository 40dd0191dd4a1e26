"""Shared helpers for the simulator and contract tests: a pinned clock and SDK clients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import openai

from orgadmin.simulator import FaultConfig, SimulatorApp, Store, create_app

NOW = 1_790_000_000  # 2026-09-21 14:13:20 UTC, a Monday afternoon
DAY = 86400
TODAY = NOW - NOW % DAY
KEY = "sk-admin-test-0123456789"
BASE_URL = "http://simulator.test/v1"


def make_app(
    scenario: str = "demo",
    *,
    seed: int = 0,
    now: Callable[[], float] | None = None,
    faults: FaultConfig | None = None,
) -> SimulatorApp:
    """A simulator pinned to `NOW` (unless given a clock) that accepts `KEY`.

    Scenarios anchored on `NOW` are built once per session and cloned, which is much faster.
    """
    clock = now or (lambda: NOW)
    if now is not None:
        return create_app(scenario=scenario, seed=seed, admin_keys=[KEY], faults=faults, now=clock)
    key = (scenario, seed)
    if key not in _PRISTINE:
        _PRISTINE[key] = create_app(scenario=scenario, seed=seed, admin_keys=[KEY], now=clock).store
    return SimulatorApp(_PRISTINE[key].clone(), faults=faults or FaultConfig(), now=clock)


_PRISTINE: dict[tuple[str, int], Store] = {}


class Recorder(httpx.BaseTransport):
    """An in-process transport to the app that remembers every exchange."""

    def __init__(self, app: SimulatorApp) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self.inner.handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response


def make_client(
    transport: httpx.BaseTransport | SimulatorApp,
    *,
    key: str = KEY,
    max_retries: int = 0,
    strict: bool = True,
) -> openai.OpenAI:
    """The official SDK talking to the simulator in-process, with no network."""
    if not isinstance(transport, httpx.BaseTransport):
        transport = httpx.WSGITransport(app=transport)
    return openai.OpenAI(
        admin_api_key=key,
        base_url=BASE_URL,
        http_client=httpx.Client(transport=transport, base_url=BASE_URL),
        max_retries=max_retries,
        _strict_response_validation=strict,
    )


@dataclass(frozen=True)
class Ids:
    """Ids in a built scenario that tests can act on."""

    owner: str
    user: str  # a reader
    project: str  # an active project with members, service accounts and user keys
    archived_project: str
    default_project: str
    key: str  # a busy user-owned key of `project` whose owner still has access
    sa_key: str  # a service account's key in `project`
    service_account: str
    member: str  # a user who is a member of `project`
    non_member: str  # an org user who is not a member of `project`
    group: str  # not SCIM-managed
    scim_group: str
    custom_role: str
    predefined_role: str
    project_role: str
    certificate: str  # inactive everywhere: can be deleted
    active_certificate: str
    invite: str  # pending
    accepted_invite: str
    alert: str
    project_alert_project: str
    project_alert: str
    rate_limit: str
    admin_key: str  # a seeded admin key, not the tests' one


def scenario_ids(app: SimulatorApp) -> Ids:
    """Pick useful ids out of the app's scenario."""
    s = app.store
    projects = [p for p in s.projects.values() if p.archived_at is None and not p.is_default]

    def busy_user_keys(project_id: str) -> list[Any]:
        return [
            k
            for k in s.project_keys(project_id)
            if k.owner_type == "user" and s.key_owner_has_access(k) and k.uses_usage_clock
        ]

    project = max(projects, key=lambda p: (bool(p.service_accounts), len(busy_user_keys(p.id))))
    key = busy_user_keys(project.id)[0]
    sa = next(iter(project.service_accounts.values()))
    sa_key = next(
        (k for k in s.project_keys(project.id) if k.owner_type == "service_account"), None
    )
    alert_project = next(p for p in s.projects.values() if p.spend_alerts)
    certs = list(s.certificates.values())
    active_anywhere = {c for p in s.projects.values() for c in p.active_certificates}
    return Ids(
        owner=s.owner_user_id,
        user=next(u.id for u in s.users.values() if u.role == "reader"),
        project=project.id,
        archived_project=next(p.id for p in s.projects.values() if p.archived_at),
        default_project=s.default_project_id,
        key=key.id,
        sa_key=sa_key.id if sa_key else "",
        service_account=sa.id,
        member=next(uid for uid in project.members if uid != s.owner_user_id),
        non_member=next(u for u in s.users if u not in project.members),
        group=next(g.id for g in s.groups.values() if not g.is_scim_managed),
        scim_group=next(g.id for g in s.groups.values() if g.is_scim_managed),
        custom_role=next(r.id for r in s.roles.values() if not r.predefined),
        predefined_role=next(r.id for r in s.roles.values() if r.predefined),
        project_role=next(iter(s.project_roles)),
        certificate=next(c.id for c in certs if not c.active and c.id not in active_anywhere),
        active_certificate=next(c.id for c in certs if c.active),
        invite=next(i.id for i in s.invites.values() if i.status == "pending"),
        accepted_invite=next(i.id for i in s.invites.values() if i.status == "accepted"),
        alert=next(iter(s.spend_alerts)),
        project_alert_project=alert_project.id,
        project_alert=next(iter(alert_project.spend_alerts)),
        rate_limit=next(iter(project.rate_limits)),
        admin_key=next(k.id for k in s.admin_keys.values() if k.value != KEY),
    )
