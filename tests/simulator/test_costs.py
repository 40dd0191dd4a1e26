"""Costs reconcile with usage times the price table, across groupings and filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from openai.resources.admin.organization.organization import Organization

from orgadmin.simulator import SimulatorApp
from orgadmin.simulator.usage import prices
from tests.simulator.support import DAY, NOW, TODAY, make_app, make_client
from tests.simulator.test_usage import fetch

WINDOW = {"start_time": TODAY - 14 * DAY, "end_time": TODAY}
M = Decimal(10**6)


@pytest.fixture(scope="module")
def app() -> SimulatorApp:
    return make_app()


@pytest.fixture(scope="module")
def org(app: SimulatorApp) -> Organization:
    return make_client(app).admin.organization


def _results(org: Any, family: str, group_by: list[str], **window: Any) -> list[dict[str, Any]]:
    buckets = fetch(org, family, **(window or WINDOW), group_by=group_by, limit=31)
    return [r for b in buckets for r in b["results"]]


def usage_times_prices(org: Any, **window: Any) -> Decimal:
    """The bill, computed here from usage results and the published price table."""
    total = Decimal(0)
    for r in _results(org, "completions", ["model", "batch", "service_tier"], **window):
        price_in, price_cached, price_out = (
            Decimal(p) for p in prices.COMPLETION_PRICES[r["model"]]
        )
        mult = prices.BATCH_MULTIPLIER if r["batch"] else prices.TIER_MULTIPLIER[r["service_tier"]]
        total += (
            mult
            * (
                (r["input_uncached_tokens"] + r["input_cache_write_tokens"]) * price_in
                + r["input_cached_tokens"] * price_cached
                + r["output_tokens"] * price_out
            )
            / M
        )
    for r in _results(org, "embeddings", ["model"], **window):
        total += r["input_tokens"] * Decimal(prices.EMBEDDING_PRICES[r["model"]]) / M
    for r in _results(org, "images", ["model", "size"], **window):
        total += r["images"] * Decimal(prices.IMAGE_PRICES[r["model"]][r["size"]])
    for r in _results(org, "audio_speeches", ["model"], **window):
        total += r["characters"] * Decimal(prices.SPEECH_PRICES[r["model"]]) / M
    for r in _results(org, "audio_transcriptions", ["model"], **window):
        total += r["seconds"] * Decimal(prices.TRANSCRIPTION_PRICES[r["model"]]) / 60
    for r in _results(org, "web_search_calls", ["context_level"], **window):
        total += r["num_requests"] * Decimal(prices.WEB_SEARCH_PRICES[r["context_level"]]) / 1000
    for r in _results(org, "file_search_calls", [], **window):
        total += r["num_requests"] * Decimal(prices.FILE_SEARCH_PRICE) / 1000
    for r in _results(org, "code_interpreter_sessions", [], **window):
        total += r["num_sessions"] * Decimal(prices.CODE_INTERPRETER_PRICE)
    for r in _results(org, "vector_stores", ["project_id"], **window):  # whole past days
        gib_hours = Decimal(r["usage_bytes"]) / 2**30 * 24
        total += gib_hours * Decimal(prices.VECTOR_STORE_PRICE_GIB_HOUR)
    return total


def _costs(org: Any, **params: Any) -> list[dict[str, Any]]:
    buckets = []
    page = None
    while True:
        result = org.usage.costs(**params, **({"page": page} if page else {}))
        buckets += [b.model_dump() for b in result.data]
        if not result.has_more:
            return buckets
        page = result.next_page


def _amount(buckets: list[dict[str, Any]]) -> Decimal:
    return sum(
        (Decimal(str(r["amount"]["value"])) for b in buckets for r in b["results"]), Decimal(0)
    )


def test_it_bills_exactly_usage_times_the_price_table(org: Organization, app: SimulatorApp) -> None:
    expected = usage_times_prices(org)
    assert app.store.cost_total(WINDOW["start_time"], WINDOW["end_time"], now=NOW) == expected
    billed = _amount(_costs(org, **WINDOW, limit=31))
    assert abs(billed - expected) < Decimal("0.000001")
    assert expected > 1000  # a believable fortnight


def test_it_gives_the_same_total_whatever_the_group_by(org: Organization) -> None:
    expected = _amount(_costs(org, **WINDOW, limit=31))
    for group_by in (
        ["project_id"],
        ["line_item"],
        ["api_key_id"],
        ["project_id", "line_item", "api_key_id"],
    ):
        assert abs(
            _amount(_costs(org, **WINDOW, limit=31, group_by=group_by)) - expected
        ) < Decimal("0.000001"), group_by


def test_it_prices_each_line_item_at_one_unit_price(org: Organization) -> None:
    unit_prices: dict[str, set[float]] = {}
    for bucket in _costs(org, **WINDOW, limit=31, group_by=["line_item"]):
        for r in bucket["results"]:
            assert r["line_item"] is not None
            assert r["quantity"] > 0
            assert r["amount"]["currency"] == "usd"
            unit_prices.setdefault(r["line_item"], set()).add(
                round(r["amount"]["value"] / r["quantity"], 15)
            )
    assert len(unit_prices) >= 10
    for item, found in unit_prices.items():
        assert max(found) - min(found) <= max(found) * 1e-9, item
    tokens = [i for i in unit_prices if i.endswith(", input")]
    assert tokens


def test_it_leaves_quantity_null_without_line_item_grouping(org: Organization) -> None:
    result = org.usage.costs(**WINDOW, group_by=["project_id"])
    for bucket in result.data:
        for r in bucket.results:
            assert r.quantity is None
            assert r.quantity_unit is None
            assert r.project_id is not None


def test_it_filters_costs_by_project_and_key(org: Organization, app: SimulatorApp) -> None:
    key = next(k for k in app.store.api_keys.values() if k.uses_usage_clock)
    for filters in ({"project_ids": [key.project_id]}, {"api_key_ids": [key.id]}):
        billed = _amount(_costs(org, **WINDOW, limit=31, **filters))
        truth = app.store.cost_total(
            WINDOW["start_time"], WINDOW["end_time"], now=NOW, filters=filters
        )
        assert abs(billed - truth) < Decimal("0.000001")
        assert truth > 0


def test_it_bills_today_up_to_now(org: Organization, app: SimulatorApp) -> None:
    today = org.usage.costs(start_time=TODAY).data
    assert len(today) == 1
    billed = sum(r.amount.value for r in today[0].results)
    truth = app.store.cost_total(TODAY, TODAY + DAY, now=NOW)
    assert abs(Decimal(str(billed)) - truth) < Decimal("0.000001")
    whole_day = app.store.cost_total(TODAY, TODAY + DAY, now=TODAY + DAY)
    assert 0 < truth < whole_day  # the day is not over
