"""The audit log benchmark's worker: builds 500,000 events once, then times the explorer.

    python -m tests.benchmarks.audit_worker build      # (re)builds the data when it is missing
    python -m tests.benchmarks.audit_worker measure    # one JSON line per filter combination
    python -m tests.benchmarks.audit_worker store      # storing events with and without the chain

Runs in its own process with its own DATABASE_URL (set by test_audit_bench.py), so the data
outlives a run: var/bench/audit.sqlite3, or the audit bench's own PostgreSQL database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, QuerySet  # noqa: E402
from django.test import Client  # noqa: E402

from orgadmin.forms import AuditFilterForm  # noqa: E402
from orgadmin.models import AuditEvent, Organization  # noqa: E402
from orgadmin.sync.audit import audit_events_store  # noqa: E402

EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "500000"))
DAYS = 365
# Bump when tests/audit_events.py changes what it generates: the data is rebuilt.
DATA_VERSION = "1"
ORG_NAME = f"Audit bench {EVENTS} v{DATA_VERSION}"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def _end(org: Organization | None = None) -> dt.date:
    """The day after the data: at build time today's (so the explorer's default, the last 30
    days, has events), later the day after the newest stored event."""
    newest = AuditEvent.objects.filter(org=org).order_by("-effective_at").first() if org else None
    if newest is None:
        return dt.datetime.now(tz=dt.UTC).date() + dt.timedelta(days=1)
    return newest.effective_at.astimezone(dt.UTC).date() + dt.timedelta(days=1)


def build() -> dict:
    from django.core.management import call_command

    from tests.audit_events import generate

    call_command("migrate", verbosity=0)
    org = Organization.objects.filter(name=ORG_NAME).first()
    stored = AuditEvent.objects.filter(org=org).count() if org else 0
    if org and stored == EVENTS:
        return {"phase": "build", "built": False, "events": stored}
    Organization.objects.all().delete()
    org = Organization(name=ORG_NAME, base_url="http://bench.invalid/v1")
    org.set_admin_key("sk-admin-bench-0000000000000000000000")
    org.save()
    end = int(dt.datetime.combine(_end(), dt.time(), tzinfo=dt.UTC).timestamp())
    started = time.perf_counter()
    batch: list[dict] = []
    for raw in generate(EVENTS, start=end - DAYS * 86400, end=end - 60, seed=11):
        batch.append(raw)
        if len(batch) == 2000:
            with transaction.atomic():
                audit_events_store(org=org, raws=batch)
            batch = []
    if batch:
        with transaction.atomic():
            audit_events_store(org=org, raws=batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {
        "phase": "build",
        "built": True,
        "events": AuditEvent.objects.filter(org=org).count(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _combinations(org: Organization) -> list[tuple[str, dict]]:
    """Every filter, alone and together, over the widest and the usual ranges."""
    end = _end(org)
    year = {"start": (end - dt.timedelta(days=DAYS)).isoformat(), "end": end.isoformat()}
    month = {"start": (end - dt.timedelta(days=30)).isoformat(), "end": end.isoformat()}
    busiest_project = (
        AuditEvent.objects.filter(org=org)
        .exclude(project_id="")
        .values("project_id")
        .annotate(n=Count("id"))
        .order_by("-n")[0]["project_id"]
    )
    key = AuditEvent.objects.filter(org=org, type="api_key.created").values_list(
        "resource_id", flat=True
    )[0]
    return [
        ("default: the last 30 days", {}),
        ("a year", year),
        ("a year, page 2", {**year, "page": 2}),
        ("a year, the last page", {**year, "page": 10_000}),
        ("a year, one type", {**year, "type": "login.succeeded"}),
        ("a year, three types", {**year, "type": ["api_key.deleted", "user.added", "invite.sent"]}),
        ("a year, a category", {**year, "type": "api_key.*"}),
        ("a year, a type nobody used", {**year, "type": "tunnel.created"}),
        ("a year, an unknown future type", {**year, "type": "quantum_link.entangled"}),
        ("a year, a busy person", {**year, "actor": "person00000@acme.example"}),
        ("a year, a service account by key id", {**year, "actor": "key_sa0003"}),
        ("a year, a project", {**year, "project": busiest_project}),
        ("a year, type + project", {**year, "type": "api_key.*", "project": busiest_project}),
        (
            "a year, type + project + actor",
            {
                **year,
                "type": "api_key.*",
                "project": busiest_project,
                "actor": "person00001@acme.example",
            },
        ),
        (
            "30 days, type + project + actor",
            {
                **month,
                "type": "api_key.deleted",
                "project": busiest_project,
                "actor": "person00000@acme.example",
            },
        ),
        ("a year, a shared resource id (rl-gpt-4o)", {**year, "resource": "rl-gpt-4o"}),
        ("a year, one key's id", {**year, "resource": key}),
        (
            "a year, resource + type",
            {**year, "resource": "rl-gpt-4o", "type": "rate_limit.updated"},
        ),
        ("a year, search an email", {**year, "q": "person00042@acme.example"}),
        ("a year, search an IP prefix", {**year, "q": "203.0.113."}),
        ("a year, search a model", {**year, "q": "gpt-4o"}),
        ("a year, search matching everything", {**year, "q": "acme"}),
        ("a year, search + type", {**year, "q": "gpt-4o", "type": "rate_limit.updated"}),
        (
            "a year, search + project + category",
            {**year, "q": "person0000", "project": busiest_project, "type": "api_key.*"},
        ),
        ("30 days, search matching everything", {**month, "q": "acme"}),
        (
            "bad input: inverted dates, unknown type",
            {"start": "2026-03-10", "end": "2026-03-01", "type": "x.y"},
        ),
    ]


def _sample(run) -> list[float]:
    """Milliseconds of `run()`: one warm-up (templates, per-process caches, the database's
    pages), then RUNS timed runs. The page and the bare SQL it is compared with both go through
    here, so both are warmed and sampled the same way."""
    run()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _time(client: Client, url: str, params: dict, **headers) -> list[float]:
    def get() -> None:
        response = client.get(url, params, **headers)
        assert response.status_code == 200, (url, params, response.status_code)

    return _sample(get)


def _window(params: dict) -> tuple[dt.date, dt.date]:
    """The days [start, end) the explorer shows for `params`: the form's own reading of them
    (with no dates, its default: the last 30 days, today included)."""
    form = AuditFilterForm(params, known_types=set(), today=dt.datetime.now(tz=dt.UTC).date())
    form.is_valid()
    return form.date_range()


def _in_window(org: Organization, params: dict) -> QuerySet:
    """The events of the days the page shows for `params`."""
    start, end = _window(params)
    return AuditEvent.objects.filter(
        org=org,
        effective_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC),
        effective_at__lt=dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC),
    ).order_by()


def _naive(org: Organization, params: dict) -> list[float]:
    """What the same counts cost without the block counts: four GROUP BYs over the events of the
    window the page shows for `params`."""
    qs = _in_window(org, params)

    def group_bys() -> None:
        for fields in (("type",), ("actor_key",), ("project_id",), ("day", "category")):
            list(qs.values(*fields).annotate(n=Count("id")))

    return _sample(group_bys)


def measure() -> None:
    from django.contrib.auth import get_user_model

    from orgadmin.access import Role
    from orgadmin.services.roles import role_grant

    settings.ALLOWED_HOSTS = ["testserver"]
    # Static URLs from the source folders, as in the tests (no collectstatic manifest here).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    org = Organization.objects.get(name=ORG_NAME)
    user, _ = get_user_model().objects.get_or_create(username="bench-auditor")
    role_grant(user=user, role=Role.AUDITOR)
    client = Client()
    client.force_login(user)
    url = "/audit-log/"
    for name, params in _combinations(org):
        fragment = _time(client, url, params, HTTP_HX_REQUEST="true")
        line = {
            "vendor": connection.vendor,
            "name": name,
            "median_ms": round(statistics.median(fragment), 1),
            "max_ms": round(max(fragment), 1),
        }
        if name in ("a year", "default: the last 30 days"):
            page = _time(client, url, params)
            line["page_median_ms"] = round(statistics.median(page), 1)
            start, end = _window(params)
            line["naive_days"] = (end - start).days
            line["naive_events"] = _in_window(org, params).count()
            line["naive_median_ms"] = round(statistics.median(_naive(org, params)), 1)
        print(json.dumps(line), flush=True)
    event = AuditEvent.objects.filter(org=org, type="rate_limit.updated", resource_id="rl-gpt-4o")
    event_id = event.order_by("-effective_at").values_list("event_id", flat=True)[0]
    drawer = _time(client, f"/audit-log/events/{event_id}/", {}, HTTP_HX_REQUEST="true")
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "name": "the event drawer (a rate limit with a long history)",
                "median_ms": round(statistics.median(drawer), 1),
                "max_ms": round(max(drawer), 1),
            }
        ),
        flush=True,
    )


STORE_EVENTS = int(os.environ.get("BENCH_STORE_EVENTS", "20000"))
CHAIN_STEPS = ("chain_lock", "chain_link")  # orgadmin.sync.audit's calls into the chain


def _store_once(raws: list[dict], *, chained: bool) -> float:
    """Milliseconds to store `raws` into a new organization the way the sync does: pages of the
    API's 100 events, one transaction each. Unchained: the same code with the chain's two steps
    (lock the head, link the page) made no-ops."""
    from unittest import mock

    import orgadmin.sync.audit as store

    org = Organization(name=f"Audit store bench {chained}", base_url="http://bench.invalid/v1")
    org.set_admin_key("sk-admin-bench-0000000000000000000000")
    org.save()
    off = [] if chained else [mock.patch.object(store, n, mock.Mock()) for n in CHAIN_STEPS]
    for patch in off:
        patch.start()
    try:
        started = time.perf_counter()
        for i in range(0, len(raws), 100):
            with transaction.atomic():
                store.audit_events_store(org=org, raws=raws[i : i + 100])
        return (time.perf_counter() - started) * 1000
    finally:
        for patch in off:
            patch.stop()
        org.delete()


def store_cost() -> None:
    """What chaining costs the audit sync's writes: the same pages stored with and without it,
    alternately, RUNS times each after a warm-up of both."""
    from django.core.management import call_command

    from tests.audit_events import generate

    call_command("migrate", verbosity=0)
    end = int(time.time())
    raws = list(generate(STORE_EVENTS, start=end - 30 * 86400, end=end, seed=17))
    times: dict[bool, list[float]] = {True: [], False: []}
    for run in range(RUNS + 1):
        for chained in (run % 2 == 0, run % 2 != 0):
            elapsed = _store_once(raws, chained=chained)
            if run:
                times[chained].append(elapsed)
    line = {
        "vendor": connection.vendor,
        "events": len(raws),
        "chained_ms": round(statistics.median(times[True]), 1),
        "unchained_ms": round(statistics.median(times[False]), 1),
    }
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "build":
        print(json.dumps(build()), flush=True)
    elif sys.argv[1] == "store":
        store_cost()
    else:
        measure()
