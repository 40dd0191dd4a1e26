"""Page latency while a usage sync writes, in its own process.

    DATABASE_URL=... python -m tests.benchmarks.contention_worker FLAG_FILE

Signs in as Finance on the scale dataset's organization and renders each page of
tests.benchmarks.pages_worker.VIEWS in turn, 20 ms apart, for as long as FLAG_FILE exists, with
the page cache off: every request does the aggregates' work while the sync writes (a sync of the
organization looked at would make each request a cache miss anyway). Prints one JSON line per
page: requests, median, p95 and max (ms).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django.setup()

from django.conf import settings  # noqa: E402

from orgadmin.models import Organization  # noqa: E402
from tests.benchmarks.pages_worker import (  # noqa: E402
    VIEWS,
    signed_in_client,
    static_without_manifest,
)
from tests.benchmarks.scale_dataset import ORG  # noqa: E402
from tests.benchmarks.stats import p95  # noqa: E402


def main() -> None:
    static_without_manifest()
    settings.PAGE_CACHE_SECONDS = 0
    flag = Path(sys.argv[1])
    client = signed_in_client(Organization.objects.get(name=ORG))
    for _, url, params, _ in VIEWS:
        assert client.get(url, params).status_code == 200
    times: dict[str, list[float]] = {name: [] for name, *_ in VIEWS}
    while flag.exists():
        for name, url, params, _ in VIEWS:
            began = time.perf_counter()
            response = client.get(url, params)
            times[name].append(time.perf_counter() - began)
            assert response.status_code == 200, response.status_code
            time.sleep(0.02)
    for name, values in times.items():
        print(
            json.dumps(
                {
                    "view": name,
                    "requests": len(values),
                    "median_ms": statistics.median(values) * 1000 if values else 0,
                    "p95_ms": p95(values) * 1000 if values else 0,
                    "max_ms": max(values, default=0) * 1000,
                }
            )
        )


if __name__ == "__main__":
    main()
