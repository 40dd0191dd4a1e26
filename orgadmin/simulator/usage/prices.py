"""The price table and the cost line items that a usage stream produces.

Prices are exact decimals; every unit price is a whole number of pico-dollars (`PICO`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from orgadmin.simulator.usage.families import PICO

# Dollars per 1M tokens: (input, cached input, output). Cache writes are billed as input; audio
# and image tokens at the model's token prices. Batch and flex cost half, priority twice.

COMPLETION_PRICES: dict[str, tuple[str, str, str]] = {
    "gpt-5-2025-08-07": ("1.25", "0.125", "10"),
    "gpt-5-mini-2025-08-07": ("0.25", "0.025", "2"),
    "gpt-5-nano-2025-08-07": ("0.05", "0.005", "0.4"),
    "gpt-4.1-2025-04-14": ("2", "0.5", "8"),
    "gpt-4.1-mini-2025-04-14": ("0.4", "0.1", "1.6"),
    "gpt-4.1-nano-2025-04-14": ("0.1", "0.025", "0.4"),
    "gpt-4o-2024-08-06": ("2.5", "1.25", "10"),
    "gpt-4o-2024-11-20": ("2.5", "1.25", "10"),
    "gpt-4o-mini-2024-07-18": ("0.15", "0.075", "0.6"),
    "o3-2025-04-16": ("2", "0.5", "8"),
    "o4-mini-2025-04-16": ("1.1", "0.275", "4.4"),
    "o3-mini-2025-01-31": ("1.1", "0.55", "4.4"),
    "o1-2024-12-17": ("15", "7.5", "60"),
    "gpt-4o-audio-preview-2024-12-17": ("2.5", "1.25", "10"),
    "gpt-realtime-2025-08-28": ("4", "0.4", "16"),
    "gpt-4-turbo-2024-04-09": ("10", "10", "30"),
    "gpt-3.5-turbo-0125": ("0.5", "0.5", "1.5"),
    "codex-mini-latest": ("1.5", "0.375", "6"),
    "ft:gpt-4o-mini-2024-07-18:helio::B7x2Qd9L": ("0.3", "0.15", "1.2"),
}
TIER_MULTIPLIER = {"default": Decimal(1), "flex": Decimal("0.5"), "priority": Decimal(2)}
BATCH_MULTIPLIER = Decimal("0.5")
EMBEDDING_PRICES = {  # dollars per 1M tokens
    "text-embedding-3-small": "0.02",
    "text-embedding-3-large": "0.13",
    "text-embedding-ada-002": "0.10",
}
MODERATION_MODELS = ("omni-moderation-2024-09-26", "text-moderation-007")  # free
IMAGE_PRICES = {  # dollars per image, by model and size
    "gpt-image-1": {"1024x1024": "0.042", "1024x1792": "0.063", "1792x1792": "0.084"},
    "dall-e-3": {"1024x1024": "0.04", "1024x1792": "0.08", "1792x1792": "0.12"},
    "dall-e-2": {"256x256": "0.016", "512x512": "0.018", "1024x1024": "0.02"},
}
SPEECH_PRICES = {"tts-1": "15", "tts-1-hd": "30", "gpt-4o-mini-tts": "12"}  # per 1M characters
TRANSCRIPTION_PRICES = {  # dollars per minute, billed per second
    "whisper-1": "0.006",
    "gpt-4o-transcribe": "0.006",
    "gpt-4o-mini-transcribe": "0.003",
}
WEB_SEARCH_PRICES = {"low": "25", "medium": "27.5", "high": "30"}  # dollars per 1k calls
FILE_SEARCH_PRICE = "2.5"  # dollars per 1k calls
CODE_INTERPRETER_PRICE = "0.03"  # dollars per session
VECTOR_STORE_PRICE_GIB_HOUR = "0.004"  # dollars per GiB-hour (about $0.10 per GiB-day)

MIB = 2**20


def _pico(dollars: str | Decimal, per: int = 1) -> int:
    value = Decimal(dollars) * PICO / per
    if value != value.to_integral_value():
        raise ValueError(f"price {dollars}/{per} is not a whole number of pico-dollars")
    return int(value)


VECTOR_STORE_PICO_MIB_HOUR = _pico(VECTOR_STORE_PRICE_GIB_HOUR, 1024)


@dataclass(frozen=True)
class LineItem:
    """One cost line: which leaves it bills and at what price per unit."""

    name: str
    unit: str | None  # the spec's `quantity_unit`
    leaves: tuple[int, ...]
    pico_per_unit: int


def line_items(family: str, dims: dict[str, Any]) -> tuple[LineItem, ...]:
    """The cost lines that a stream of `family` with these dimensions produces."""
    if family == "completions":
        return _completion_items(dims)
    item = _single_item(family, dims)
    return () if item is None else (item,)


def _completion_items(dims: dict[str, Any]) -> tuple[LineItem, ...]:
    """Input, cached input and output, at the model's prices times the tier's (or batch's)."""
    model = dims.get("model")
    assert isinstance(model, str)
    price_in, price_cached, price_out = COMPLETION_PRICES[model]
    mult = TIER_MULTIPLIER[dims["service_tier"]] if not dims["batch"] else BATCH_MULTIPLIER
    suffix = " (batch)" if dims["batch"] else _tier_suffix(dims["service_tier"])
    return (
        LineItem(
            f"{model}, input{suffix}",
            "tokens",
            (0, 1, 2, 6),
            _pico(Decimal(price_in) * mult, 10**6),
        ),
        LineItem(
            f"{model}, cached input{suffix}",
            "tokens",
            (3, 4, 5),
            _pico(Decimal(price_cached) * mult, 10**6),
        ),
        LineItem(
            f"{model}, output{suffix}",
            "tokens",
            (7, 8, 9),
            _pico(Decimal(price_out) * mult, 10**6),
        ),
    )


def _single_item(family: str, dims: dict[str, Any]) -> LineItem | None:
    """The one cost line of the other families; None for the free ones."""
    model = dims.get("model")
    if family == "embeddings":
        assert isinstance(model, str)
        return LineItem(f"{model}, input", "tokens", (0,), _pico(EMBEDDING_PRICES[model], 10**6))
    if family == "images":
        assert isinstance(model, str)
        size = dims["size"]
        return LineItem(f"{model}, {size}", "images", (0,), _pico(IMAGE_PRICES[model][size]))
    if family == "audio_speeches":
        assert isinstance(model, str)
        return LineItem(
            f"{model}, characters", "characters", (0,), _pico(SPEECH_PRICES[model], 10**6)
        )
    if family == "audio_transcriptions":
        assert isinstance(model, str)
        return LineItem(
            f"{model}, audio duration",
            "duration_seconds",
            (0,),
            _pico(TRANSCRIPTION_PRICES[model], 60),
        )
    if family == "web_search_calls":
        level = dims["context_level"]
        return LineItem(
            f"web search tool calls, {level} context",
            None,
            (1,),
            _pico(WEB_SEARCH_PRICES[level], 1000),
        )
    if family == "file_search_calls":
        return LineItem("file search tool calls", None, (0,), _pico(FILE_SEARCH_PRICE, 1000))
    if family == "code_interpreter_sessions":
        return LineItem("code interpreter sessions", None, (0,), _pico(CODE_INTERPRETER_PRICE))
    return None  # moderations are free; vector storage is billed by its level (see costs)


VECTOR_STORE_LINE_ITEM = "vector store storage"


def _tier_suffix(tier: str) -> str:
    return "" if tier == "default" else f" ({tier})"
