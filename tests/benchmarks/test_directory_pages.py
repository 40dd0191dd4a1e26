"""Directory pages render fast from the cache of a large organization.

`make bench` prints, for each list page, the server-side time (the Django test client: URL
routing, middleware, queries, templates; no network) with the `demo` and the `large` scenario
cached side by side: the median of 100 requests after a warm-up, their ratio, and with `large`
the 90th percentile of the 100 (nearest rank: the 90th fastest). The budget: that p90 ≤ 150 ms
per page with `large`.

BENCH_DIRECTORY_ROUNDS=15 is a short form: under 100 requests a page's tail is reported, and
held to the budget, as what it is, the slowest of them ("max of 15"), not as a percentile.
"""

from __future__ import annotations

import math
import os
import statistics
import time

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from orgadmin.access import Role
from orgadmin.client import install_transport
from orgadmin.models import Project
from orgadmin.sync.directory import directory_sync
from tests.conftest import SIM_ADMIN_KEY, SIM_NOW
from tests.factories import OrganizationFactory, UserFactory

BUDGET_MS = 150.0
ROUNDS = int(os.environ.get("BENCH_DIRECTORY_ROUNDS", "100"))
# The tail held to the budget: the p90 once there are enough requests to name one.
TAIL = "p90" if ROUNDS >= 100 else f"max of {ROUNDS}"
PAGES = [
    ("members", "orgadmin:members", {}),
    ("members, searched", "orgadmin:members", {"q": "a"}),
    ("invites", "orgadmin:invites", {}),
    ("groups", "orgadmin:groups", {}),
    ("roles", "orgadmin:roles", {}),
    ("projects", "orgadmin:projects", {}),
    ("projects, all", "orgadmin:projects", {"status": "all"}),
    ("API keys", "orgadmin:keys", {}),
    ("API keys, searched", "orgadmin:keys", {"q": "key"}),
    ("admin keys", "orgadmin:admin_keys", {}),
    ("certificates", "orgadmin:org_settings", {}),
    ("activity", "orgadmin:activity", {}),
    ("project members", "project", "members"),
    ("project keys", "project", "api-keys"),
    ("project rate limits", "project", "rate-limits"),
    ("project service accounts", "project", "service-accounts"),
]


def _org(scenario: str):
    from orgadmin.simulator import create_app

    base_url = f"http://{scenario}.simulator.test/v1"
    app = create_app(scenario=scenario, seed=0, admin_keys=[SIM_ADMIN_KEY], now=lambda: SIM_NOW)
    org = OrganizationFactory(name=f"{scenario} org", base_url=base_url, admin_key=SIM_ADMIN_KEY)
    with install_transport(base_url, httpx.WSGITransport(app=app)):
        started = time.perf_counter()
        run = directory_sync(org=org)
        seconds = time.perf_counter() - started
    return org, run, seconds


def _url(org, name, arg):
    if name == "project":
        # The busiest active project: the most members.
        project = max(
            Project.objects.filter(org=org, status="active"), key=lambda p: p.users.count()
        )
        if arg == "members":
            return reverse("orgadmin:project", args=[project.openai_id])
        return reverse("orgadmin:project_tab", args=[project.openai_id, arg])
    return reverse(name) + ("?" + "&".join(f"{k}={v}" for k, v in arg.items()) if arg else "")


def _tail(times: list[float]) -> float:
    """The p90 by nearest rank (the ceil(0.9 n)-th fastest) with 100 times or more; else the
    slowest."""
    ordered = sorted(times)
    if len(ordered) < 100:
        return ordered[-1]
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _time(client: Client, url: str) -> list[float]:
    client.get(url)  # warm up: templates compiled, session created
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return times


@pytest.mark.django_db
def test_directory_pages_render_under_budget_with_the_large_scenario_cached(settings):
    settings.OPENAI_MAX_RETRIES = 0
    settings.ALLOWED_API_HOSTS = ["http://demo.simulator.test", "http://large.simulator.test"]
    admin = UserFactory(username="bench-admin", role=Role.ADMIN)
    client = Client()
    client.force_login(admin)
    results = {}
    for scenario in ("demo", "large"):
        org, run, seconds = _org(scenario)
        session = client.session
        session["current_org_id"] = org.pk
        session.save()
        print(
            f"\n{scenario}: full directory sync in {seconds:.2f} s, "
            f"{run.requests_made} requests, {run.rows_written} rows"
        )
        for label, name, arg in PAGES:
            times = _time(client, _url(org, name, arg))
            results.setdefault(label, {})[scenario] = (
                statistics.median(times),
                _tail(times),
            )
    print(
        f"\n{ROUNDS} requests per page after one warm-up, in ms; "
        f"budget: large's {TAIL} ≤ {BUDGET_MS:.0f} ms"
    )
    print(
        f"{'page':<26} {'demo median':>12} {'large median':>13} {'large ' + TAIL:>16} "
        f"{'ratio of medians':>17}"
    )
    over = []
    for label, by in results.items():
        demo, large = by["demo"][0], by["large"][0]
        print(f"{label:<26} {demo:12.1f} {large:13.1f} {by['large'][1]:16.1f} {large / demo:17.2f}")
        if by["large"][1] > BUDGET_MS:
            over.append(label)
    assert not over, f"{TAIL} over {BUDGET_MS} ms with the large scenario: {over}"
