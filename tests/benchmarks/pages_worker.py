"""The page benchmark, in its own process against a database holding a scale dataset.

    DATABASE_URL=... python -m tests.benchmarks.pages_worker ROUNDS

Reads the organization that tests.benchmarks.scale_dataset built, and for each page (Costs,
Usage, Overview) measures side by side, interleaved, each warmed twice first:
- the page rendered server-side with the page cache off (what the first person to open it after
  a sync waits for: the aggregates' work, not the cache's);
- the same page with the page cache on (what everyone after them waits for);
- the naive bare SQL over the raw rows that the page would need without aggregates: the same
  window and grouping, GROUP BY over the hourly usage rows or the daily cost rows.
Prints one JSON line per page (medians and the p95 of ROUNDS samples, in ms), then one line with
a signed-in request that does nothing.
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
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from dashboard.families import FAMILIES, HEADLINE  # noqa: E402
from dashboard.models import USAGE_MODELS, CostBucket  # noqa: E402
from orgadmin.access import Role  # noqa: E402
from orgadmin.middleware import SESSION_KEY  # noqa: E402
from orgadmin.models import Organization  # noqa: E402
from tests.benchmarks.scale_dataset import ORG, usage_rows  # noqa: E402
from tests.benchmarks.stats import p95  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

# (name, url, params, the naive SQL's parts: [(kind, family or None, days, grouping, width)];
# a width "before N" is the total of the days before the last N, from `days` days ago)
VIEWS = [
    # Costs: the period by day and group, and the total of the period before (its card).
    (
        "Costs 30d by line item",
        "/costs/",
        {"preset": "30d", "group_by": "line_item"},
        [("costs", None, 30, "line_item", "1d"), ("costs", None, 60, "", "before 30")],
    ),
    (
        "Costs 90d by project",
        "/costs/",
        {"preset": "90d", "group_by": "project_id"},
        [("costs", None, 90, "project_id", "1d"), ("costs", None, 180, "", "before 90")],
    ),
    (
        "Usage completions 30d 1d",
        "/usage/",
        {"family": "completions", "preset": "30d"},
        [("usage", "completions", 30, "model", "1d")],
    ),
    (
        "Usage completions 7d 1h",
        "/usage/",
        {"family": "completions", "preset": "7d", "bucket_width": "1h"},
        [("usage", "completions", 7, "model", "1h")],
    ),
    (
        "Usage embeddings 30d by project",
        "/usage/",
        {"family": "embeddings", "preset": "30d", "group_by": "project_id"},
        [("usage", "embeddings", 30, "project_id", "1d")],
    ),
    (
        "Overview",
        "/",
        {},
        # Month to date and last month by day; the top projects, keys and models of 30 days;
        # each family's headline per day over 30 days.
        [
            ("costs", None, 62, "", "1d"),
            ("costs", None, 30, "project_id", "all"),
            ("costs", None, 30, "api_key_id", "all"),
            ("costs", None, 30, "model", "all"),
            *[("usage", slug, 30, "", "1d") for slug in HEADLINE],
        ],
    ),
]


def static_without_manifest() -> None:
    """Templates resolve static URLs without a collected manifest (as the test suite does)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _day_of(column: str, width: str) -> str:
    if width == "1h":
        return column
    if connection.vendor == "postgresql":
        return f"date_trunc('day', {column})"
    return f"substr({column}, 1, 10)"


def naive_sql(org: Organization, parts: list[tuple]) -> list[tuple[str, list]]:
    """The bare GROUP BYs over the raw rows that the page's figures come from."""
    qn = connection.ops.quote_name
    now = dt.datetime.now(dt.UTC)
    statements = []
    for kind, slug, days, grouping, width in parts:
        group = [qn(grouping)] if grouping else []
        if kind == "costs":
            table, column = qn(CostBucket._meta.db_table), "day"
            metrics = ["SUM(amount)"]
            since = (now - dt.timedelta(days=days)).date().isoformat()
            if width.startswith("before"):  # a total of the days before the last N
                until = (now - dt.timedelta(days=int(width.split()[1]))).date().isoformat()
                sql = (
                    f"SELECT SUM(amount) FROM {table} WHERE org_id = %s AND day >= %s AND day < %s"  # noqa: S608
                )
                statements.append((sql, [org.pk, since, until]))
                continue
            if width != "all":
                group = ["day", *group]
        else:
            model = USAGE_MODELS[slug]
            table, column = qn(model._meta.db_table), "bucket_start"
            metrics = [f"SUM({qn(m)})" for m in FAMILIES[slug].metric_names]
            since = connection.ops.adapt_datetimefield_value(now - dt.timedelta(days=days))
            group = [_day_of("bucket_start", width), *group]
        select = ", ".join([*group, *metrics])
        by = f" GROUP BY {', '.join(group)}" if group else ""
        sql = f"SELECT {select} FROM {table} WHERE org_id = %s AND {column} >= %s{by}"  # noqa: S608
        statements.append((sql, [org.pk, since]))
    return statements


def _time_page(client: Client, url: str, params: dict, *, cached: bool) -> float:
    settings.PAGE_CACHE_SECONDS = 300 if cached else 0
    began = time.perf_counter()
    response = client.get(url, params)
    elapsed = time.perf_counter() - began
    assert response.status_code == 200, response.status_code
    return elapsed


def _time_sql(statements: list[tuple[str, list]]) -> float:
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            cursor.fetchall()
    return time.perf_counter() - began


def signed_in_client(org: Organization) -> Client:
    user = UserFactory(role=Role.FINANCE)
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = org.pk
    session.save()
    return client


def main() -> None:
    static_without_manifest()
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    org = Organization.objects.get(name=ORG)
    rows = usage_rows(org)
    client = signed_in_client(org)
    for name, url, params, parts in VIEWS:
        statements = naive_sql(org, parts)
        samples: dict[str, list[float]] = {"uncached": [], "cached": [], "sql": []}
        for i in range(2 + rounds):  # two rounds of warming, then the samples, interleaved
            times = {
                "uncached": _time_page(client, url, params, cached=False),
                "cached": _time_page(client, url, params, cached=True),
                "sql": _time_sql(statements),
            }
            if i >= 2:
                for key, value in times.items():
                    samples[key].append(value)
        out = {"view": name, "vendor": connection.vendor, "usage_rows": rows, "rounds": rounds}
        for key, values in samples.items():
            out[f"{key}_median_ms"] = statistics.median(values) * 1000
            out[f"{key}_p95_ms"] = p95(values) * 1000
            out[f"{key}_ms"] = [v * 1000 for v in values]  # the samples, to pool across runs
        print(json.dumps(out), flush=True)
    print(json.dumps({"view": None, "request_floor_ms": request_floor(client, rounds) * 1000}))


def request_floor(client: Client, rounds: int) -> float:
    """Median seconds of a signed-in request through the project's middleware and the Finance
    permission check, to a view that does nothing else: what any page costs before its own
    work."""
    import types

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
