"""Usage totals agree across bucket widths, group_by choices, windows and pages."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from openai.resources.admin.organization.organization import Organization

from orgadmin.simulator import SimulatorApp
from orgadmin.simulator.usage.families import FAMILIES
from tests.simulator.support import DAY, NOW, TODAY, make_app, make_client

FLOWS = [name for name, fam in FAMILIES.items() if not fam.gauge]


@pytest.fixture(scope="module")
def app() -> SimulatorApp:
    return make_app()


@pytest.fixture(scope="module")
def org(app: SimulatorApp) -> Organization:
    return make_client(app).admin.organization


def fetch(org: Any, family: str, **params: Any) -> list[dict[str, Any]]:
    """Every bucket of a usage query, following `next_page`."""
    buckets: list[dict[str, Any]] = []
    page = None
    while True:
        extra = {"page": page} if page else {}
        result = getattr(org.usage, family)(**params, **extra)
        buckets += [b.model_dump() for b in result.data]
        if not result.has_more:
            return buckets
        page = result.next_page


def totals(buckets: list[dict[str, Any]], family: str) -> Counter[str]:
    metrics = Counter[str]()
    for bucket in buckets:
        for result in bucket["results"]:
            for key, value in result.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    metrics[key] += value
    return metrics


def _nonzero(metrics: Counter[str] | dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in metrics.items() if v}


@pytest.mark.parametrize("family", FLOWS)
def test_it_gives_the_same_totals_for_1m_1h_and_1d_buckets(
    org: Organization, app: SimulatorApp, family: str
) -> None:
    window = {"start_time": TODAY - DAY, "end_time": TODAY}
    daily = totals(fetch(org, family, **window, bucket_width="1d"), family)
    hourly = totals(fetch(org, family, **window, bucket_width="1h"), family)
    minutely = totals(fetch(org, family, **window, bucket_width="1m", limit=1440), family)
    truth = app.store.usage_totals(family, TODAY - DAY, TODAY, now=NOW)
    assert _nonzero(daily) == _nonzero(hourly) == _nonzero(minutely) == _nonzero(truth)
    assert sum(truth.values()) > 0


@pytest.mark.parametrize("family", FLOWS)
def test_it_gives_the_same_totals_whatever_the_group_by(
    org: Organization, app: SimulatorApp, family: str
) -> None:
    window = {"start_time": TODAY - 7 * DAY, "end_time": TODAY + DAY}
    fam = FAMILIES[family]
    expected = _nonzero(app.store.usage_totals(family, TODAY - 7 * DAY, TODAY + DAY, now=NOW))
    for group_by in [[], *([d] for d in fam.group_by), list(fam.group_by)]:
        buckets = fetch(org, family, **window, group_by=group_by)
        assert _nonzero(totals(buckets, family)) == expected, group_by
        for bucket in buckets:
            for result in bucket["results"]:
                for dim in fam.dims:
                    if dim not in group_by:
                        assert result[dim] is None, (dim, group_by)
                    elif dim != "user_id":  # null for service-account keys
                        assert result[dim] is not None, (dim, group_by)


@pytest.mark.parametrize("family", ["completions", "images", "web_search_calls"])
def test_it_gives_exact_totals_for_unaligned_windows_reaching_now(
    org: Organization, app: SimulatorApp, family: str
) -> None:
    start = NOW - 3 * DAY - 1234
    truth = _nonzero(app.store.usage_totals(family, start, NOW + 1, now=NOW))
    assert (
        _nonzero(totals(fetch(org, family, start_time=start, bucket_width="1d"), family)) == truth
    )
    assert (
        _nonzero(totals(fetch(org, family, start_time=start, bucket_width="1h", limit=168), family))
        == truth
    )
    today = _nonzero(app.store.usage_totals(family, TODAY + 3600, NOW + 1, now=NOW))
    minutes = fetch(org, family, start_time=TODAY + 3600, bucket_width="1m", limit=1440)
    assert _nonzero(totals(minutes, family)) == today


def test_it_pages_buckets_with_next_page(org: Organization) -> None:
    window = {"start_time": TODAY - 10 * DAY, "end_time": TODAY, "bucket_width": "1h"}
    pages = []
    result = org.usage.completions(**window, limit=24)
    pages.append(result)
    while result.has_more:
        result = org.usage.completions(**window, limit=24, page=result.next_page)
        pages.append(result)
    assert len(pages) == 10
    starts = [b.start_time for p in pages for b in p.data]
    assert starts == list(range(TODAY - 10 * DAY, TODAY, 3600))
    assert pages[-1].next_page is None


def test_it_keeps_the_identities_between_token_counts(org: Organization) -> None:
    buckets = fetch(
        org,
        "completions",
        start_time=TODAY - 3 * DAY,
        bucket_width="1h",
        limit=168,
        group_by=["model", "api_key_id"],
    )
    for bucket in buckets:
        for r in bucket["results"]:
            cached = r["input_cached_text_tokens"] + r["input_cached_audio_tokens"]
            assert r["input_cached_tokens"] == cached + r["input_cached_image_tokens"]
            uncached = r["input_text_tokens"] + r["input_audio_tokens"] + r["input_image_tokens"]
            assert r["input_uncached_tokens"] == uncached
            assert r["input_tokens"] == (
                r["input_cached_tokens"] + r["input_cache_write_tokens"] + uncached
            )
            assert r["output_tokens"] == (
                r["output_text_tokens"] + r["output_audio_tokens"] + r["output_image_tokens"]
            )
            assert r["num_model_requests"] > 0


def test_it_filters_by_dimension_values(org: Organization, app: SimulatorApp) -> None:
    project = next(iter(app.store.usage.streams["completions"])).project_id
    window = {"start_time": TODAY - 5 * DAY, "end_time": TODAY}
    filtered = fetch(org, "completions", **window, project_ids=[project], group_by=["project_id"])
    assert {r["project_id"] for b in filtered for r in b["results"]} == {project}
    expected = app.store.usage_totals(
        "completions", TODAY - 5 * DAY, TODAY, now=NOW, filters={"project_ids": [project]}
    )
    assert _nonzero(totals(filtered, "completions")) == _nonzero(expected)
    batch = fetch(org, "completions", **window, batch=True, group_by=["batch"])
    assert {r["batch"] for b in batch for r in b["results"]} == {True}


def test_it_reports_vector_storage_as_a_daily_level(org: Organization) -> None:
    daily = fetch(org, "vector_stores", start_time=TODAY - 2 * DAY, end_time=TODAY - DAY)
    hourly = fetch(
        org, "vector_stores", start_time=TODAY - 2 * DAY, end_time=TODAY - DAY, bucket_width="1h"
    )
    level = daily[0]["results"][0]["usage_bytes"]
    assert level > 0
    assert level % 2**20 == 0
    assert {b["results"][0]["usage_bytes"] for b in hourly} == {level}


def test_it_grows_the_current_bucket_as_time_passes_and_leaves_the_future_empty() -> None:
    clock = [float(NOW)]
    app = make_app(now=lambda: clock[0])
    org = make_client(app).admin.organization
    window = {"start_time": TODAY, "end_time": TODAY + 2 * DAY, "bucket_width": "1h", "limit": 48}
    before = org.usage.completions(**window)
    assert before.data[-1].start_time == NOW - NOW % 3600  # no buckets after now
    clock[0] += 3 * 3600
    after = org.usage.completions(**window)
    assert len(after.data) == len(before.data) + 3
    first = before.data[-1].results[0].num_model_requests if before.data[-1].results else 0
    assert sum(r.num_model_requests for r in after.data[len(before.data) - 1].results) >= first
    earlier = [b.model_dump() for b in before.data[:-1]]
    assert [b.model_dump() for b in after.data[: len(earlier)]] == earlier  # the past is fixed


def test_it_reports_a_key_last_used_at_its_last_activity(
    org: Organization, app: SimulatorApp
) -> None:
    store = app.store
    key = next(k for k in store.api_keys.values() if k.uses_usage_clock)
    last = store.key_last_used_at(key, NOW)
    assert last is not None
    assert NOW - 3 * DAY < last <= NOW
    after = store.usage_totals(
        "completions", last + 1, NOW + 1, now=NOW, filters={"api_key_ids": [key.id]}
    )
    assert after["num_model_requests"] == 0
    stale = next(k for k in store.api_keys.values() if k.last_used_at and not k.uses_usage_clock)
    used = sum(
        sum(
            store.usage_totals(
                f,
                stale.last_used_at - DAY,
                stale.last_used_at + 1,
                now=NOW,
                filters={"api_key_ids": [stale.id]},
            ).values()
        )
        for f in FLOWS
        if "api_key_id" in FAMILIES[f].dims
    )
    assert used > 0


def test_it_serves_repeated_pages_identically_from_its_cache(app: SimulatorApp) -> None:
    org = make_client(app).admin.organization
    params = {"start_time": TODAY - 20 * DAY, "limit": 31, "group_by": ["api_key_id", "model"]}
    first = org.usage.with_raw_response.completions(**params).text
    assert app.store.usage.bucket_cache.get(
        (
            "completions",
            TODAY - 20 * DAY,
            DAY,
            (("api_key_id", "model"), None, None, None, None, None),
        )
    )
    assert org.usage.with_raw_response.completions(**params).text == first
    costs = {"start_time": TODAY - 20 * DAY, "limit": 31, "group_by": ["line_item"]}
    assert (
        org.usage.with_raw_response.costs(**costs).text
        == org.usage.with_raw_response.costs(**costs).text
    )
