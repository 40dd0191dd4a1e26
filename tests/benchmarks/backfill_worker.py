"""One phase of the backfill benchmark, in its own process so that its peak RSS is its own.

    python -m tests.benchmarks.backfill_worker floor|sync|incremental|writes|refetch BASE_URL DAYS

Prints one JSON line: seconds, HTTP requests, the minimum pages, rows, peak RSS (MB).

`writes` (after `sync`) is the database's own floor: it reads back every row the backfill wrote
(hourly, daily and cost rows), empties the tables, and times inserting the same rows again, already
built in memory, through the sync's own bulk insert, in the sync's chunks, one transaction per
chunk: what the writes cost with no fetching, parsing or row building at all.
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
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from dashboard.families import (  # noqa: E402
    FAMILIES,
    MAX_BUCKETS_PER_PAGE,
    MAX_COST_BUCKETS_PER_PAGE,
)
from dashboard.models import DAILY_MODELS, USAGE_MODELS, CostBucket  # noqa: E402
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


def rewrite_all() -> tuple[float, int]:
    """Seconds to insert again every row the backfill wrote, already in memory; and the rows."""
    seconds, total = 0.0, 0
    for model in [*USAGE_MODELS.values(), *DAILY_MODELS.values(), CostBucket]:
        columns = [f.column for f in model._meta.concrete_fields if f.column != "id"]
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(qn(c) for c in columns)} FROM {qn(model._meta.db_table)} "  # noqa: S608
                "ORDER BY id"
            )
            rows = cursor.fetchall()
            cursor.execute(f"DELETE FROM {qn(model._meta.db_table)}")  # noqa: S608
        began = time.perf_counter()
        for i in range(0, len(rows), _CHUNK):
            with transaction.atomic():
                _relaxed_commit()
                _insert(model, columns, rows[i : i + _CHUNK])
        seconds += time.perf_counter() - began
        total += len(rows)
    return seconds, total


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
                    results += sum(len(b["results"]) for b in page.buckets())
            out["seconds"] = time.perf_counter() - began
            out["rows"] = results
        elif mode == "writes":
            out["seconds"], out["rows"] = rewrite_all()
        else:
            org, _ = Organization.objects.get_or_create(
                name="bench", defaults={"base_url": base_url, "admin_key_encrypted": "x"}
            )
            org.base_url = base_url
            org.set_admin_key(KEY)
            org.save()
            began = time.perf_counter()
            run = usage_sync(
                org=org, start=start if mode != "incremental" else None, refetch=mode == "refetch"
            )
            out["seconds"] = time.perf_counter() - began
            out["rows"] = run.rows_written
            out["pages"] = run.requests_made
    out["requests"] = counter.requests
    out["minimum"] = minimum_pages(start, now)
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
