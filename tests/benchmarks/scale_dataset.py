"""A year of a big organization's usage and costs, generated in the database (issue 18).

    DATABASE_URL=... python -m tests.benchmarks.scale_dataset ROWS

Writes ROWS hourly usage rows over the 365 days before today into one organization
("bench-scale"): completions carry nine in ten of them, embeddings the rest, so that the Overview's
families are not empty. The rows of an hour are distinct combinations of the dimensions, drawn
from fixed pools (300 keys, 200 users, 40 projects, 25 models...) and scattered over all of them
at any size, so a bigger dataset is a denser one, as a bigger organization's is: more
combinations an hour of the same projects, models, keys and users. Costs grow with it: two cost
rows a day for each usage row an hour (line items × projects × keys). Then the aggregates are
rebuilt from the raw rows (`manage.py rollups rebuild`), and the statistics refreshed. The rows
are made by SQL in the database (generate_series or a recursive CTE), not sent from Python: the
10M-row dataset takes about 7 minutes on SQLite here, once.

Run once per database and kept: a second run with the same ROWS finds the rows and does nothing
(ORG names the generator's version: a dataset of an older one is replaced).
Prints one JSON line: rows, seconds (0 when kept).
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

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from dashboard.families import FAMILIES  # noqa: E402
from dashboard.models import USAGE_MODELS, CostBucket  # noqa: E402
from orgadmin.models import Organization, Project  # noqa: E402

ORG = "bench-scale v2"  # a new name when the rows generated change
DAYS = 365
POOLS = {  # distinct values of each dimension (the first two make each hour's rows unique)
    "api_key_id": 300,
    "user_id": 200,
    "project_id": 40,
    "model": 25,
    "batch": 2,
    "service_tier": 3,
}
SHARES = {"completions": 0.9, "embeddings": 0.1}
LINE_ITEMS, COST_PROJECTS, COST_KEYS = 50, 40, 300


def _numbers(name: str, count: int) -> str:
    """A CTE `name(x)` of the integers 0..count-1."""
    if connection.vendor == "postgresql":
        return f"{name}(x) AS (SELECT generate_series(0, {count - 1}))"
    return f"{name}(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM {name} WHERE x < {count - 1})"  # noqa: S608


def _text(prefix: str, number: str) -> str:
    return f"'{prefix}' || CAST({number} AS TEXT)"


def _hour(start: dt.datetime, hours: str) -> str:
    if connection.vendor == "postgresql":
        return f"(TIMESTAMPTZ '{start.isoformat()}' + {hours} * INTERVAL '1 hour')"
    return f"datetime('{start:%Y-%m-%d %H:%M:%S}', '+' || {hours} || ' hours')"


def _day(start: dt.date, days: str) -> str:
    if connection.vendor == "postgresql":
        return f"(DATE '{start.isoformat()}' + {days})"
    return f"date('{start.isoformat()}', '+' || {days} || ' days')"


def _scatter(i: str, t: str, space: int) -> str:
    """The i-th combination of a time step t, among `space`: (i * 7919 + t * 104729) mod space,
    a one-to-one map of i for each t (7919 is a prime that divides no space here), so an hour's
    rows are distinct and, however few, spread over every value of every dimension."""
    return f"(({i} * 7919 + {t} * 104729) % {space})"


def _dimension(dim: str, i: str, h: str) -> str:
    keys, users = POOLS["api_key_id"], POOLS["user_id"]
    combination = _scatter(i, h, keys * users)
    if dim == "api_key_id":
        return _text("key_bench_", f"({combination} % {keys})")
    if dim == "user_id":
        return _text("user-bench-", f"({combination} / {keys})")
    if dim == "batch":
        return f"CASE WHEN ({i} + {h}) % 2 = 0 THEN 'false' ELSE 'true' END"
    prefix = {"project_id": "proj_bench_", "model": "gpt-bench-", "service_tier": "tier-"}[dim]
    return _text(prefix, f"(({i} * 7 + {h}) % {POOLS.get(dim, 10)})")


def _usage(org: Organization, slug: str, per_hour: int, start: dt.datetime) -> None:
    family, model = FAMILIES[slug], USAGE_MODELS[slug]
    dims = ", ".join(_dimension(d, "i.x", "h.x") for d in family.dimensions)
    metrics = ", ".join(
        f"((i.x * 2654435761 + h.x * 40503 + {k}) % 1000) + 1" for k, _ in enumerate(family.metrics)
    )
    columns = ["org_id", "bucket_start", *family.dimensions, *family.metric_names, "fetched_at"]
    now = _hour(start, str(DAYS * 24))  # fetched this hour
    select = f"SELECT {org.pk}, {_hour(start, 'h.x')}, {dims}, {metrics}, {now} FROM h, i"  # noqa: S608
    _insert_select(model, columns, ("h", DAYS * 24), per_hour, select)


def _insert_select(model, columns: list[str], steps: tuple[str, int], per_step: int, select: str):
    """INSERT INTO the model's table the rows of `select`, which reads the CTEs `steps[0](x)`
    (0..steps[1]-1: the hours or days) and `i(x)` (0..per_step-1: the rows of each)."""
    qn = connection.ops.quote_name
    recursive = "" if connection.vendor == "postgresql" else "RECURSIVE "
    numbers = f"{_numbers(steps[0], steps[1])}, {_numbers('i', per_step)}"
    # SQLite and PostgreSQL both take `INSERT INTO t (...) WITH ... SELECT ...`.
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
        f"WITH {recursive}{numbers} {select}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _costs(org: Organization, per_day: int, start: dt.date) -> None:
    combination = _scatter("i.x", "d.x", LINE_ITEMS * COST_PROJECTS * COST_KEYS)
    li = f"({combination} % {LINE_ITEMS})"
    model = _text("gpt-bench-", f"({li} / 2)")
    line_item = f"{model} || CASE WHEN {li} % 2 = 0 THEN ', input' ELSE ', output' END"
    project = _text("proj_bench_", f"(({combination} / {LINE_ITEMS}) % {COST_PROJECTS})")
    key = _text("key_bench_", f"({combination} / {LINE_ITEMS * COST_PROJECTS})")
    amount = "(((i.x * 7919 + d.x * 104729) % 100000) + 1) * CAST(10000000 AS BIGINT)"
    quantity = "(((i.x * 31 + d.x) % 5000) + 1) * CAST(1000000 AS BIGINT)"
    columns = [
        "org_id", "day", "line_item", "model", "project_id", "api_key_id", "amount",
        "currency", "quantity", "quantity_unit", "fetched_at",
    ]  # fmt: skip
    now = _hour(dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC), str((DAYS - 1) * 24))
    select = (
        f"SELECT {org.pk}, {_day(start, 'd.x')}, {line_item}, {model}, {project}, {key}, "  # noqa: S608
        f"{amount}, 'usd', {quantity}, 'tokens', {now} FROM d, i"
    )
    _insert_select(CostBucket, columns, ("d", DAYS), per_day, select)


def usage_rows(org: Organization) -> int:
    return sum(m.objects.filter(org=org).count() for m in USAGE_MODELS.values())


def build(rows: int) -> tuple[Organization, float]:
    """The dataset of `rows` usage rows (built unless it is there); (org, seconds spent)."""
    org = Organization.objects.filter(name=ORG).first()
    if org is not None and _complete(org, rows):
        return org, 0.0
    began = time.perf_counter()
    Organization.objects.filter(name__startswith="bench-scale").delete()  # older versions
    org = Organization(name=ORG, base_url="https://api.openai.com/v1")
    org.set_admin_key("sk-admin-bench-scale-0000000000000000000000")
    org.save()
    Project.objects.bulk_create(
        Project(org=org, openai_id=f"proj_bench_{n}", name=f"Bench project {n}")
        for n in range(POOLS["project_id"])
    )
    hour = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    start = hour - dt.timedelta(days=DAYS)  # the last hour is the one before this one
    first_day = hour.date() - dt.timedelta(days=DAYS - 1)
    with transaction.atomic():
        for slug, share in SHARES.items():
            _usage(org, slug, max(1, round(rows * share / (DAYS * 24))), start)
        _costs(org, max(1, 2 * rows // (DAYS * 24)), first_day)
    call_command("rollups", "rebuild", "--org", str(org.pk))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return org, time.perf_counter() - began


def _complete(org: Organization, rows: int) -> bool:
    """Built for `rows`, and its last day is yesterday or today (a kept dataset ages a day a
    day; pages look at the last 7 to 90 days)."""
    expected = sum(max(1, round(rows * s / (DAYS * 24))) * DAYS * 24 for s in SHARES.values())
    if usage_rows(org) != expected:
        return False
    latest = CostBucket.objects.filter(org=org).order_by("-day").values_list("day", flat=True)
    last = latest.first()
    return last is not None and (dt.datetime.now(dt.UTC).date() - last).days <= 1


def main() -> None:
    org, seconds = build(int(sys.argv[1]))
    print(json.dumps({"rows": usage_rows(org), "seconds": seconds, "org": org.pk}))


if __name__ == "__main__":
    main()
