"""Cost by model (#16, item 1) and exports that hold what the screen shows (#16, item 2)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from dashboard.families import FAMILIES, LineItemParts, line_item_parts
from dashboard.models import USAGE_MODELS, CostBucket
from dashboard.sync.writer import usage_rollup
from orgadmin.models import Project
from orgadmin.simulator.usage import prices
from tests.factories import OrganizationFactory

TODAY = timezone.now().date()
D1, D2 = TODAY - dt.timedelta(days=2), TODAY - dt.timedelta(days=1)
PERIOD = {"start": D1.isoformat(), "end": TODAY.isoformat()}

# --- the line item, read as a model and a kind -----------------------------------------------


def _simulator_line_items() -> list[tuple[str, str | None]]:
    """(line item, the model it bills or None) for every line item the simulator can produce."""
    out: list[tuple[str, str | None]] = []
    for model in prices.COMPLETION_PRICES:
        for batch, tier in [(False, "default"), (False, "flex"), (False, "priority"), (True, "")]:
            dims = {"model": model, "batch": batch, "service_tier": tier or "default"}
            out += [(i.name, model) for i in prices.line_items("completions", dims)]
    for family, models, extra in [
        ("embeddings", prices.EMBEDDING_PRICES, {}),
        ("audio_speeches", prices.SPEECH_PRICES, {}),
        ("audio_transcriptions", prices.TRANSCRIPTION_PRICES, {}),
    ]:
        for model in models:
            out += [(i.name, model) for i in prices.line_items(family, {"model": model, **extra})]
    for model, sizes in prices.IMAGE_PRICES.items():
        for size in sizes:
            dims = {"model": model, "size": size}
            out += [(i.name, model) for i in prices.line_items("images", dims)]
    for level in prices.WEB_SEARCH_PRICES:
        dims = {"model": "gpt-4.1-2025-04-14", "context_level": level}
        out += [(i.name, None) for i in prices.line_items("web_search_calls", dims)]
    for family in ("file_search_calls", "code_interpreter_sessions"):
        out += [(i.name, None) for i in prices.line_items(family, {})]
    out.append((prices.VECTOR_STORE_LINE_ITEM, None))
    return out


@pytest.mark.parametrize(("line_item", "model"), _simulator_line_items())
def test_it_reads_the_model_of_every_line_item_the_simulator_bills(line_item, model):
    parts = line_item_parts(line_item)

    # A tool or storage names no model: the line item itself stands for one, never merged.
    assert parts.model == (model or line_item)
    assert parts.kind == (line_item.split(", ", 1)[1] if model else "")


FT = "ft:gpt-4o-mini-2024-07-18:helio::B7x2Qd9L"


@pytest.mark.parametrize(
    ("line_item", "parts"),
    [
        ("gpt-4.1-2025-04-14, cached input (batch)", ("gpt-4.1-2025-04-14", "cached input (batch)")),  # noqa: E501
        ("gpt-5, output (priority)", ("gpt-5", "output (priority)")),
        ("ft:gpt-4o-mini-2024-07-18:helio::B7x2Qd9L, input", (FT, "input")),
        ("gpt-4.1 input", ("gpt-4.1", "input")),  # how people write it
        ("gpt-4.1 cached input (batch)", ("gpt-4.1", "cached input (batch)")),
        ("  gpt-5 ,   output ", ("gpt-5", "output")),
        ("gpt-5,", ("gpt-5", "")),
        ("input_tokens", ("input_tokens", "")),  # the spec's example: no model in it
        (", input", (", input", "")),
        ("web search tool calls, low context", ("web search tool calls, low context", "")),
        ("credit", ("credit", "")),
        ("", ("", "")),
        (None, ("", "")),
    ],
)  # fmt: skip
def test_it_reads_odd_line_items_without_inventing_a_model(line_item, parts):
    assert line_item_parts(line_item) == LineItemParts(*parts)


# --- data where the top line item is not the top model -------------------------------------

# gpt-4.1's input is the biggest line item ($5), but o3 costs more in all ($8 against $6).
LINES = [
    (D1, "gpt-4.1-2025-04-14, input", "proj_a", "5.004", 5_000_000),
    (D2, "gpt-4.1-2025-04-14, output", "proj_a", "1.00", 100_000),
    (D1, "o3-2025-04-16, input", "proj_b", "2.50", 1_000_000),
    (D2, "o3-2025-04-16, input", "proj_a", "1.50", 700_000),
    (D1, "o3-2025-04-16, output", "proj_b", "3.00", 300_000),
    (D2, "o3-2025-04-16, cached input (batch)", "proj_b", "1.000000000001", 2_000_000),
    (D2, "web search tool calls, low context", "proj_a", "0.25", None),
]


@pytest.fixture
def acme(db):
    org = OrganizationFactory(name="Acme")
    Project.objects.create(org=org, openai_id="proj_a", name="Search")
    for day, item, project, amount, qty in LINES:
        CostBucket.objects.create(
            org=org, day=day, line_item=item, project_id=project, api_key_id="",
            amount=Decimal(amount), currency="usd", quantity=qty,
            quantity_unit="tokens" if qty else "",
        )  # fmt: skip
    # By tokens, gpt-4.1 leads: the Overview used to rank by them.
    USAGE_MODELS["completions"].objects.create(
        org=org, bucket_start=timezone.now().replace(minute=0, second=0, microsecond=0)
        - dt.timedelta(hours=2), project_id="proj_a", user_id="", api_key_id="",
        model="gpt-4.1-2025-04-14", batch="false", service_tier="default",
        input_tokens=9_000_000, output_tokens=100_000, num_model_requests=3,
    )  # fmt: skip
    usage_rollup(
        org=org, family=FAMILIES["completions"], start=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        end=timezone.now() + dt.timedelta(days=1),
    )  # fmt: skip
    return org


def _labels(response) -> list[list[str]]:
    return [[c["label"] for c in row["cells"]] for row in response.context["table"]]


def test_a_finance_user_finds_the_most_expensive_model(acme, client_as, finance):
    client = client_as(finance)

    by_item = client.get(reverse("costs"), {**PERIOD, "group_by": "line_item"})
    by_model = client.get(reverse("costs"), {**PERIOD, "group_by": "model"})

    assert _labels(by_item)[0] == ["gpt-4.1-2025-04-14, input"]
    assert _labels(by_model) == [
        ["o3-2025-04-16"],
        ["gpt-4.1-2025-04-14"],
        ["web search tool calls, low context"],
    ]
    assert [row["amount"] for row in by_model.context["table"]] == [
        Decimal("8.000000000001"),
        Decimal("6.004"),
        Decimal("0.25"),
    ]
    body = by_model.content.decode()
    assert '<option value="model" selected>Model</option>' in body
    assert "$8.00" in body
    # A quantity adds up within one line item only: not shown across a model's line items.
    assert "Quantity" not in body
    # The chart has one series per model.
    assert {t.name for t in by_model.context["figure"].data} == {
        "o3-2025-04-16",
        "gpt-4.1-2025-04-14",
        "web search tool calls, low context",
    }


def test_a_model_opens_its_line_items(acme, client_as, finance):
    client = client_as(finance)
    page = client.get(reverse("costs"), {**PERIOD, "group_by": "model"})
    drill = page.context["table"][0]["drill"]

    assert "model=o3-2025-04-16" in drill
    assert "group_by=line_item" in drill
    narrowed = client.get(drill)
    assert narrowed.context["total"] == Decimal("8.000000000001")
    assert sorted(label for (label,) in _labels(narrowed)) == [
        "o3-2025-04-16, cached input (batch)",
        "o3-2025-04-16, input",
        "o3-2025-04-16, output",
    ]
    assert narrowed.context["chips"][0]["label"] == "Model"


def test_the_overview_ranks_models_by_dollars_with_tokens_beside(acme, client_as, finance):
    response = client_as(finance).get(reverse("home"))

    top = response.context["top_models"]
    assert [r["model"] for r in top] == [
        "o3-2025-04-16",
        "gpt-4.1-2025-04-14",
        "web search tool calls, low context",
    ]
    assert top[0]["amount"] == Decimal("8.000000000001")
    assert top[0]["tokens"] == 4_000_000
    assert top[2]["tokens"] is None
    assert "model=o3-2025-04-16" in top[0]["url"]
    body = response.content.decode()
    assert "$8.00" in body
    assert "4.0M tokens" in body


def test_the_sync_and_the_migration_store_each_rows_model(acme):
    CostBucket.objects.update(model="")  # rows from before the column
    fill = __import__("dashboard.migrations.0004_cost_bucket_model", fromlist=["fill_models"])

    fill.fill_models(apps, None)

    stored = dict(CostBucket.objects.values_list("line_item", "model"))
    assert stored == {item: line_item_parts(item).model for _, item, *_ in LINES}


def test_the_sync_writes_the_model_beside_the_line_item(org, simulator):
    from dashboard.sync.usage import usage_sync
    from tests.conftest import SIM_NOW

    now = dt.datetime.fromtimestamp(SIM_NOW, dt.UTC)
    usage_sync(org=org, start=now - dt.timedelta(days=2), families=["completions"])

    rows = list(CostBucket.objects.values_list("line_item", "model").distinct())
    assert rows
    assert all(model == line_item_parts(item).model for item, model in rows)
    assert any(model != item for item, model in rows)


# --- exports: this table, daily rows, precision ----------------------------------------------


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def _json(response):
    assert response.status_code == 200, response.content
    return json.loads(b"".join(response.streaming_content), parse_float=Decimal)


def test_this_table_exports_the_rows_on_screen(acme, client_as, finance):
    client = client_as(finance)
    params = {**PERIOD, "group_by": "model"}
    page = client.get(reverse("costs"), params)
    link = page.context["exports"]["table"]["csv"]

    rows = _csv(client.get(link))

    assert "rows=table" in link
    assert "precision=currency" in link
    assert rows[0] == ["provider", "model", "amount", "currency", "share_percent"]
    screen = [
        [row["cells"][0]["label"], f"{row['amount']:.2f}", "usd", f"{float(row['share']):.1f}"]
        for row in page.context["table"]
    ]
    assert {p for p, *_ in rows[1:]} == {"OpenAI"}
    assert [[m, f"{Decimal(a):.2f}", c, f"{Decimal(s):.1f}"] for _, m, a, c, s in rows[1:]] == (
        screen
    )
    assert rows[1] == ["OpenAI", "o3-2025-04-16", "8", "usd", "56.1"]
    assert rows[2][2] == "6"  # $6.004 to the cent


def test_this_table_names_ids_and_keeps_the_quantity_of_line_items(acme, client_as, finance):
    client = client_as(finance)
    params = {**PERIOD, "group_by": "project_id,line_item", "rows": "table"}

    rows = _json(client.get(reverse("costs_export", kwargs={"fmt": "json"}), params))
    page = client.get(reverse("costs"), params)

    assert len(rows) == len(page.context["table"])
    first = rows[0]
    assert list(first) == [
        "provider", "project_id", "project_name", "line_item", "amount", "currency",
        "share_percent", "quantity", "quantity_unit",
    ]  # fmt: skip
    assert first["provider"] == "OpenAI"
    assert first["project_id"] == "proj_a"
    assert first["project_name"] == "Search"
    assert first["line_item"] == "gpt-4.1-2025-04-14, input"
    assert first["amount"] == Decimal("5.00")  # no precision asked: to the cent
    assert first["quantity"] == 5_000_000
    assert rows[1]["project_id"] == "proj_b"
    assert rows[1]["project_name"] is None  # no name in the directory


def test_daily_rows_have_the_currencys_precision_unless_full_is_asked(acme, client_as, finance):
    client = client_as(finance)
    url = reverse("costs_export", kwargs={"fmt": "csv"})
    params = {**PERIOD, "group_by": "model", "rows": "daily"}

    cents = _csv(client.get(url, {**params, "precision": "currency"}))
    full = _csv(client.get(url, {**params, "precision": "full"}))
    # The page's form sends precision=currency, then precision=full when the box is ticked.
    both = urlencode({**params, "precision": ["currency", "full"]}, doseq=True)
    ticked = _csv(client.get(f"{url}?{both}"))

    header = cents[0]
    assert header == [
        "date", "provider", "project_id", "project_name", "line_item", "model", "api_key_id",
        "amount", "currency", "quantity",
    ]  # fmt: skip
    amount, model = header.index("amount"), header.index("model")
    by_model = {(r[0], r[model]): r[amount] for r in cents[1:]}
    assert by_model[(D1.isoformat(), "gpt-4.1-2025-04-14")] == "5"  # 5.004 to the cent
    assert by_model[(D2.isoformat(), "o3-2025-04-16")] == "2.5"
    assert {(r[0], r[model]): r[amount] for r in full[1:]}[(D2.isoformat(), "o3-2025-04-16")] == (
        "2.500000000001"
    )
    assert ticked == full


def test_a_cost_export_url_of_before_keeps_its_rows_with_money_to_the_cent(
    acme, client_as, finance
):
    url = reverse("costs_export", kwargs={"fmt": "json"})

    rows = _json(client_as(finance).get(url, {**PERIOD, "group_by": "line_item"}))

    assert len(rows) == len(LINES)  # daily rows
    assert "model" not in rows[0]
    amounts = [r["amount"] for r in rows]
    assert Decimal("1.000000000001") not in amounts  # to the cent unless asked for every digit
    assert Decimal("1") in amounts


def test_a_bad_export_option_is_refused(acme, client_as, finance):
    url = reverse("costs_export", kwargs={"fmt": "csv"})

    response = client_as(finance).get(url, {**PERIOD, "rows": "everything"})

    assert response.status_code == 400
    assert "rows" in response.content.decode()


def test_the_costs_page_offers_both_exports_labelled(acme, client_as, finance):
    body = client_as(finance).get(reverse("costs"), {**PERIOD, "group_by": "model"}).content
    text = body.decode()

    assert 'name="rows" value="table" checked> This table' in text
    assert 'name="rows" value="daily"> Daily rows' in text
    assert 'name="precision" value="full"> Full precision' in text
    assert '<input type="hidden" name="group_by" value="model">' in text


def test_usage_exports_its_table_too(acme, client_as, finance):
    client = client_as(finance)
    params = {"preset": "7d", "family": "completions", "group_by": "model"}
    page = client.get(reverse("usage"), params)

    rows = _csv(client.get(page.context["exports"]["table"]["csv"]))

    assert rows[0][:4] == ["model", "input_tokens", "output_tokens", "num_model_requests"]
    assert [r[0] for r in rows[1:]] == [row["cells"][0]["label"] for row in page.context["table"]]
    assert rows[1][:4] == ["gpt-4.1-2025-04-14", "9000000", "100000", "3"]
    assert "Full precision" not in page.content.decode()  # no money on the Usage page
