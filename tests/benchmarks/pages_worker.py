"""The page benchmark, in its own process against a database holding a backfill.

    DATABASE_URL=... python -m tests.benchmarks.pages_worker ROUNDS

Tops the usage tables up to at least 1,000,000 rows (older copies of the synced hours), then
renders the Costs and Usage pages server-side and runs the bare SQL aggregations they need,
side by side. Prints one JSON line per view.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from dashboard.models import DAILY_MODELS, USAGE_MODELS  # noqa: E402
from orgadmin.access import Role  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

TARGET_ROWS = 1_000_000
VIEWS = [
    ("Costs 30d by line item", "/costs/", {"preset": "30d", "group_by": "line_item"}),
    ("Costs 90d by project", "/costs/", {"preset": "90d", "group_by": "project_id"}),
    ("Usage completions 30d 1d", "/usage/", {"family": "completions", "preset": "30d"}),
    (
        "Usage completions 7d 1h",
        "/usage/",
        {"family": "completions", "preset": "7d", "bucket_width": "1h"},
    ),
    (
        "Usage embeddings 30d by project",
        "/usage/",
        {"family": "embeddings", "group_by": "project_id"},
    ),
]


def usage_rows() -> int:
    return sum(m.objects.count() for m in USAGE_MODELS.values())


def top_up() -> int:
    """Copy every synced hour (and its daily rollup) further back until the hourly tables hold
    TARGET_ROWS."""
    shift = 92
    while (rows := usage_rows()) < TARGET_ROWS:
        for model in [*USAGE_MODELS.values(), *DAILY_MODELS.values()]:
            table = model._meta.db_table
            columns = [f.column for f in model._meta.concrete_fields if f.column != "id"]
            cols = ", ".join(columns)
            moved = ", ".join(
                (
                    f"datetime(bucket_start, '-{shift} days')"
                    if connection.vendor == "sqlite"
                    else f"bucket_start - interval '{shift} days'"
                )
                if c == "bucket_start"
                else c
                for c in columns
            )
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {moved} FROM {table}")  # noqa: S608
        shift *= 2
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return rows


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def static_without_manifest() -> None:
    """Templates resolve static URLs without a collected manifest (as the test suite does)."""
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def main() -> None:
    static_without_manifest()
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    rows = top_up()
    user = UserFactory(username="bench-finance", role=Role.FINANCE)
    client = Client()
    client.force_login(user)
    for name, url, params in VIEWS:
        for _ in range(2):  # warm caches (templates, query plans)
            response = client.get(url, params)
            assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as ctx:
            client.get(url, params)
        captured = ctx.captured_queries
        aggregations = [
            q["sql"] for q in captured if "SUM(" in q["sql"] and "dashboard_" in q["sql"]
        ]
        page, sql = [], []
        for _ in range(rounds):
            began = time.perf_counter()
            client.get(url, params)
            page.append(time.perf_counter() - began)
            began = time.perf_counter()
            with connection.cursor() as cursor:
                for statement in aggregations:
                    cursor.execute(statement)
                    cursor.fetchall()
            sql.append(time.perf_counter() - began)
        print(
            json.dumps(
                {
                    "view": name,
                    "vendor": connection.vendor,
                    "usage_rows": rows,
                    "page_median_ms": statistics.median(page) * 1000,
                    "page_p95_ms": p95(page) * 1000,
                    "sql_median_ms": statistics.median(sql) * 1000,
                    "queries": len(captured),
                    "aggregations": len(aggregations),
                }
            )
        )
    print(json.dumps({"view": None, "request_floor_ms": request_floor(client, rounds) * 1000}))


def request_floor(client: Client, rounds: int) -> float:
    """Median seconds of a signed-in request through the project's middleware and the Finance
    permission check, to a view that does nothing else: what any page costs before its own
    work."""
    import types

    from django.conf import settings
    from django.http import HttpResponse
    from django.urls import clear_url_caches, include, path

    from orgadmin.access import Perm, requires

    @requires(Perm.VIEW_SPEND)
    def nothing(request):
        return HttpResponse("ok")

    urls = types.ModuleType("bench_floor_urls")
    urls.urlpatterns = [path("bench-nothing/", nothing), path("", include(settings.ROOT_URLCONF))]
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__
    clear_url_caches()
    for _ in range(3):
        assert client.get("/bench-nothing/").status_code == 200
    times = []
    for _ in range(rounds * 2):
        began = time.perf_counter()
        client.get("/bench-nothing/")
        times.append(time.perf_counter() - began)
    return statistics.median(times)


if __name__ == "__main__":
    main()
