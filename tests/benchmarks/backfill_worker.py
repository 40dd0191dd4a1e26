"""One phase of the backfill benchmark, in its own process so that its peak RSS is its own.

    python -m tests.benchmarks.backfill_worker floor|sync|incremental|writes|refetch BASE_URL DAYS

Prints one JSON line: seconds, HTTP requests, the minimum pages, rows, peak RSS (MB); for a
sync, how long each page's write took (rows and aggregates, by family), and for `writes`, the
rows and seconds of each table.

`floor` fetches and decodes every page of the backfill as the sync does (`_pages`: the SDK
sends each request, msgspec decodes it, the next request starts as soon as a page is decoded)
and writes nothing.

`writes` (after `sync`) is the database's own floor: it reads back every row of every table the
sync writes (found at run time: each dashboard model with an `org`, but the reporting settings
and the data generation, so the hourly, daily and cost rows and every aggregate kept beside
them), empties those tables, and times inserting the same rows again, already built in memory,
through the sync's own bulk insert, in the sync's chunks, one transaction per chunk: what the
writes cost with no fetching, decoding, row building or aggregating at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django.setup()

import httpx  # noqa: E402
from django.apps import apps  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from dashboard.families import (  # noqa: E402
    FAMILIES,
    MAX_BUCKETS_PER_PAGE,
    MAX_COST_BUCKETS_PER_PAGE,
)
from dashboard.models import USAGE_MODELS, CostBucket  # noqa: E402
from dashboard.sync import usage  # noqa: E402
from dashboard.sync.usage import _pages, _relaxed_commit, _streams, usage_sync  # noqa: E402
from dashboard.sync.writer import _CHUNK, _insert, ceil_to, floor_to  # noqa: E402
from orgadmin.client import admin_client, install_transport  # noqa: E402
from orgadmin.models import Organization  # noqa: E402

KEY = os.environ.get("SIMULATOR_ADMIN_KEY", "sk-admin-bench-000000000000000000000000")


class Counting(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return self.inner.handle_request(request)


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def minimum_pages(start: dt.datetime, end: dt.datetime) -> int:
    """Pages a backfill can't do without: ceil(buckets / largest limit) per endpoint."""
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    hours = (ceil_to(end, hour) - floor_to(start, hour)) // hour
    days = (ceil_to(end, day) - floor_to(start, day)) // day
    return len(FAMILIES) * -(-hours // MAX_BUCKETS_PER_PAGE["1h"]) + -(
        -days // MAX_COST_BUCKETS_PER_PAGE
    )


# Dashboard models with an `org` that the sync does not write: settings, and the counter that
# the page cache is keyed by.
NOT_WRITTEN = {"ReportingSettings", "DataGeneration"}


def written_models() -> list[type[models.Model]]:
    """Every table the usage sync writes, found at run time (so aggregates added later count)."""
    return [
        model
        for model in apps.get_app_config("dashboard").get_models()
        if model.__name__ not in NOT_WRITTEN
        and any(f.name == "org" for f in model._meta.concrete_fields)
    ]


def rewrite_all() -> tuple[float, int, dict[str, tuple[int, float]]]:
    """Seconds to insert again every row the backfill wrote, already in memory; the rows, and
    the rows and seconds of each table."""
    seconds, by_table = 0.0, {}
    qn = connection.ops.quote_name
    for model in written_models():
        table = model._meta.db_table
        columns = [
            f.column
            for f in model._meta.concrete_fields
            if not (f.primary_key and isinstance(f, models.AutoField))
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(qn(c) for c in columns)} FROM {qn(table)} "  # noqa: S608
                f"ORDER BY {qn(model._meta.pk.column)}"
            )
            rows = cursor.fetchall()
            cursor.execute(f"DELETE FROM {qn(table)}")  # noqa: S608
        began = time.perf_counter()
        for i in range(0, len(rows), _CHUNK):
            with transaction.atomic():
                _relaxed_commit()
                _insert(model, columns, rows[i : i + _CHUNK])
        took = time.perf_counter() - began
        seconds += took
        by_table[table] = (len(rows), took)
    return seconds, sum(rows for rows, _ in by_table.values()), by_table


def time_page_writes() -> dict[str, list[float]]:
    """Time each page's write (its rows and the aggregates kept with them), by family: what the
    wait for the next page has to hide."""
    took: dict[str, list[float]] = {}

    def timed(name_of, write):
        def run(*args):
            began = time.perf_counter()
            try:
                return write(*args)
            finally:
                took.setdefault(name_of(*args), []).append(time.perf_counter() - began)

        return run

    usage.write_usage_page = timed(lambda org, family, *_: family.slug, usage.write_usage_page)
    usage.write_cost_page = timed(lambda *_: "costs", usage.write_cost_page)
    return took


def main() -> None:
    mode, base_url, days = sys.argv[1], sys.argv[2], int(sys.argv[3])
    counter = Counting()
    now = timezone.now()
    start = now - dt.timedelta(days=days)
    out: dict = {"mode": mode}
    with install_transport(base_url, counter):
        if mode == "floor":
            org = Organization(name="bench", base_url=base_url)
            org.set_admin_key(KEY)
            client = admin_client(org, max_retries=0)
            began = time.perf_counter()
            results = 0
            for stream in _streams(org, client, list(FAMILIES)):
                lo, hi = floor_to(start, stream.step), ceil_to(now, stream.step)
                for page in _pages(stream, lo, hi):
                    results += sum(len(b.results) for b in page.buckets)
            out["seconds"] = time.perf_counter() - began
            out["rows"] = results
        elif mode == "writes":
            out["seconds"], out["rows"], out["tables"] = rewrite_all()
            raw = [out["tables"][m._meta.db_table] for m in [*USAGE_MODELS.values(), CostBucket]]
            out["raw_rows"], out["raw_seconds"] = map(sum, zip(*raw, strict=True))
        else:
            org, _ = Organization.objects.get_or_create(
                name="bench", defaults={"base_url": base_url, "admin_key_encrypted": "x"}
            )
            org.base_url = base_url
            org.set_admin_key(KEY)
            org.save()
            page_writes = time_page_writes()
            began = time.perf_counter()
            run = usage_sync(
                org=org, start=start if mode != "incremental" else None, refetch=mode == "refetch"
            )
            out["seconds"] = time.perf_counter() - began
            out["rows"] = run.rows_written
            out["pages"] = run.requests_made
            out["page_writes"] = page_writes
    out["requests"] = counter.requests
    out["minimum"] = minimum_pages(start, now)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
