"""Page latency while a usage sync writes, in its own process.

    DATABASE_URL=... python -m tests.benchmarks.contention_worker FLAG_FILE

Signs in as Finance and renders the Usage page of completions (30 days) over and over, 20 ms
apart, for as long as FLAG_FILE exists; prints one JSON line: requests, median, p95 and max (ms).
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

from django.test import Client  # noqa: E402

from orgadmin.access import Role  # noqa: E402
from tests.benchmarks.pages_worker import p95, static_without_manifest  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

URL, PARAMS = "/usage/", {"family": "completions", "preset": "30d"}


def main() -> None:
    static_without_manifest()
    flag = Path(sys.argv[1])
    user = UserFactory(username="bench-finance", role=Role.FINANCE)
    client = Client()
    client.force_login(user)
    for _ in range(3):
        assert client.get(URL, PARAMS).status_code == 200
    times: list[float] = []
    while flag.exists():
        began = time.perf_counter()
        response = client.get(URL, PARAMS)
        times.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
        time.sleep(0.02)
    print(
        json.dumps(
            {
                "requests": len(times),
                "median_ms": statistics.median(times) * 1000 if times else 0,
                "p95_ms": p95(times) * 1000 if times else 0,
                "max_ms": max(times, default=0) * 1000,
            }
        )
    )


if __name__ == "__main__":
    main()
