"""usage_sync with a restricted or read-only admin key (issue 17, item 5): it syncs what the key
may read, exactly, and skips the rest calmly; the pages say "not permitted by this key"."""

from __future__ import annotations

import datetime as dt
import html
import re

from django.urls import reverse

from dashboard.models import USAGE_MODELS, CostBucket
from dashboard.sync.usage import usage_sync
from orgadmin.models import SyncRun
from tests.dashboard.test_sync import _assert_matches_simulator
from tests.restricted_keys import restrict, restricted_org

NOT_PERMITTED = "Not permitted by this key"


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def _start() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=3)


def test_a_read_only_key_syncs_usage_and_costs_exactly(simulator, db):
    org = restricted_org(simulator, "read_only")
    start = _start()

    run = usage_sync(org=org, start=start)

    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_matches_simulator(simulator, start)
    org.refresh_from_db()
    assert org.key_limits == {}


def test_a_key_without_costs_syncs_usage_and_says_costs_are_not_permitted(
    client_as, finance, simulator, db
):
    org = restricted_org(simulator, "costs=none")
    paths: list[str] = []
    app_call = type(simulator).__call__

    def counting(self, environ, start_response):
        paths.append(environ["PATH_INFO"])
        return app_call(self, environ, start_response)

    type(simulator).__call__ = counting
    try:
        run = usage_sync(org=org, start=_start())
    finally:
        type(simulator).__call__ = app_call

    assert run.status == SyncRun.Status.SUCCEEDED  # nothing failed: costs were skipped
    assert run.params["not_permitted"] == ["costs"]
    assert run.failures == []
    assert paths.count("/v1/organization/costs") == 1  # asked once, not retried
    assert USAGE_MODELS["completions"].objects.exists()
    assert not CostBucket.objects.exists()
    org.refresh_from_db()
    assert org.key_limits == {"costs": "none"}

    c = client_as(finance)
    costs = c.get(reverse("costs"))
    assert costs.status_code == 200
    assert NOT_PERMITTED in text(costs)
    assert "may not read costs" in text(costs)
    assert "badge-error" not in costs.content.decode()  # a note, not an error
    assert NOT_PERMITTED not in text(c.get(reverse("usage")))
    assert NOT_PERMITTED in text(c.get(reverse("home")))


def test_costs_synced_before_stay_when_the_key_loses_them(simulator, db):
    org = restricted_org(simulator, "all")
    start = _start()
    usage_sync(org=org, start=start, families=["completions"])
    costs_before = list(CostBucket.objects.order_by("pk").values_list("pk", "amount"))
    assert costs_before
    restrict(simulator, org, "costs=none")

    usage_sync(org=org, start=start, families=["completions"], refetch=True)

    assert list(CostBucket.objects.order_by("pk").values_list("pk", "amount")) == costs_before


def test_a_key_that_reads_neither_ends_the_run_not_permitted(client_as, finance, simulator, db):
    org = restricted_org(simulator, "usage=none,costs=none")

    run = usage_sync(org=org, start=_start())  # no exception: not a failure

    assert run.status == SyncRun.Status.NOT_PERMITTED
    assert run.params["not_permitted"] == ["costs", "usage"]
    assert not CostBucket.objects.exists()
    banner = client_as(finance).get(reverse("usage_sync_status"))
    assert NOT_PERMITTED in text(banner)
    assert "badge-error" not in banner.content.decode()


def test_the_scenarios_finance_key_syncs_usage_and_costs(simulator, db):
    finance = next(k for k in simulator.store.admin_keys.values() if k.name == "Finance export")
    org = restricted_org(simulator, "all")
    org.set_admin_key(finance.value)
    org.save()
    start = _start()

    run = usage_sync(org=org, start=start)

    assert run.status == SyncRun.Status.SUCCEEDED
    _assert_matches_simulator(simulator, start)
