"""The usage families of the Admin API: endpoints, dimensions and metrics, as the spec gives them.

Pure data (no Django): the sync, the selectors, the pages and the exports all read this table, so a
family's fields are named once, exactly like the API's fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Dimension labels for people; the keys are the API's field names.
DIMENSION_LABELS: dict[str, str] = {
    "project_id": "Project",
    "user_id": "User",
    "api_key_id": "API key",
    "model": "Model",
    "batch": "Batch",
    "service_tier": "Service tier",
    "size": "Size",
    "source": "Source",
    "vector_store_id": "Vector store",
    "context_level": "Context level",
    "line_item": "Line item",
}

# Dimensions whose values are ids that the directory can name.
NAMED_DIMENSIONS = ("project_id", "user_id", "api_key_id")

# The order a drill-down walks: after filtering to one model, group by project, and so on.
DRILL_ORDER = ("model", "project_id", "api_key_id", "user_id")


@dataclass(frozen=True)
class Metric:
    name: str  # the API's field name
    label: str
    unit: str  # what it counts, for axis titles
    required: bool = True
    # "sum" adds up over time; "gauge" is a level (bytes stored), averaged over time.
    over_time: str = "sum"


@dataclass(frozen=True)
class Family:
    slug: str  # the endpoint's last path segment, e.g. "audio_speeches"
    label: str
    method: str  # the SDK method on `admin.organization.usage`
    dimensions: tuple[str, ...]
    metrics: tuple[Metric, ...]
    default_metric: str
    default_group: str
    extras: tuple[str, ...] = field(default=())

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def metric(self, name: str) -> Metric:
        return next(m for m in self.metrics if m.name == name)

    @property
    def endpoint(self) -> str:
        return f"usage/{self.slug}"


def _m(name: str, label: str, unit: str, *, required: bool = True, gauge: bool = False) -> Metric:
    return Metric(name, label, unit, required, "gauge" if gauge else "sum")


_REQUESTS = _m("num_model_requests", "Model requests", "requests")
_KEY_DIMS = ("project_id", "user_id", "api_key_id", "model")

FAMILIES: dict[str, Family] = {
    f.slug: f
    for f in (
        Family(
            slug="completions",
            label="Completions",
            method="completions",
            dimensions=(*_KEY_DIMS, "batch", "service_tier"),
            metrics=(
                _m("input_tokens", "Input tokens", "tokens"),
                _m("output_tokens", "Output tokens", "tokens"),
                _REQUESTS,
                _m("input_cached_tokens", "Cached input tokens", "tokens", required=False),
                _m("input_cache_write_tokens", "Cache-write tokens", "tokens", required=False),
                _m("input_uncached_tokens", "Uncached input tokens", "tokens", required=False),
                _m("input_text_tokens", "Input text tokens", "tokens", required=False),
                _m("output_text_tokens", "Output text tokens", "tokens", required=False),
                _m("input_cached_text_tokens", "Cached text tokens", "tokens", required=False),
                _m("input_audio_tokens", "Input audio tokens", "tokens", required=False),
                _m("input_cached_audio_tokens", "Cached audio tokens", "tokens", required=False),
                _m("output_audio_tokens", "Output audio tokens", "tokens", required=False),
                _m("input_image_tokens", "Input image tokens", "tokens", required=False),
                _m("input_cached_image_tokens", "Cached image tokens", "tokens", required=False),
                _m("output_image_tokens", "Output image tokens", "tokens", required=False),
            ),
            default_metric="input_tokens",
            default_group="model",
            extras=("batch", "cache"),
        ),
        Family(
            slug="embeddings",
            label="Embeddings",
            method="embeddings",
            dimensions=_KEY_DIMS,
            metrics=(_m("input_tokens", "Input tokens", "tokens"), _REQUESTS),
            default_metric="input_tokens",
            default_group="model",
        ),
        Family(
            slug="moderations",
            label="Moderations",
            method="moderations",
            dimensions=_KEY_DIMS,
            metrics=(_m("input_tokens", "Input tokens", "tokens"), _REQUESTS),
            default_metric="input_tokens",
            default_group="model",
        ),
        Family(
            slug="images",
            label="Images",
            method="images",
            dimensions=(*_KEY_DIMS, "size", "source"),
            metrics=(_m("images", "Images", "images"), _REQUESTS),
            default_metric="images",
            default_group="model",
        ),
        Family(
            slug="audio_speeches",
            label="Audio speeches",
            method="audio_speeches",
            dimensions=_KEY_DIMS,
            metrics=(_m("characters", "Characters", "characters"), _REQUESTS),
            default_metric="characters",
            default_group="model",
        ),
        Family(
            slug="audio_transcriptions",
            label="Audio transcriptions",
            method="audio_transcriptions",
            dimensions=_KEY_DIMS,
            metrics=(_m("seconds", "Seconds", "seconds"), _REQUESTS),
            default_metric="seconds",
            default_group="model",
        ),
        Family(
            slug="vector_stores",
            label="Vector stores",
            method="vector_stores",
            dimensions=("project_id",),
            metrics=(_m("usage_bytes", "Bytes stored", "bytes", gauge=True),),
            default_metric="usage_bytes",
            default_group="project_id",
        ),
        Family(
            slug="code_interpreter_sessions",
            label="Code interpreter",
            method="code_interpreter_sessions",
            dimensions=("project_id",),
            metrics=(_m("num_sessions", "Sessions", "sessions"),),
            default_metric="num_sessions",
            default_group="project_id",
        ),
        Family(
            slug="file_search_calls",
            label="File search",
            method="file_search_calls",
            dimensions=("project_id", "user_id", "api_key_id", "vector_store_id"),
            metrics=(_m("num_requests", "File search calls", "calls"),),
            default_metric="num_requests",
            default_group="project_id",
        ),
        Family(
            slug="web_search_calls",
            label="Web search",
            method="web_search_calls",
            dimensions=(*_KEY_DIMS, "context_level"),
            metrics=(_m("num_requests", "Web search calls", "calls"), _REQUESTS),
            default_metric="num_requests",
            default_group="model",
        ),
    )
}

# The metric a family's sparkline shows on the Overview.
HEADLINE: dict[str, tuple[str, ...]] = {
    "completions": ("input_tokens", "output_tokens"),
    "embeddings": ("input_tokens",),
    "moderations": ("input_tokens",),
    "images": ("images",),
    "audio_speeches": ("characters",),
    "audio_transcriptions": ("seconds",),
    "vector_stores": ("usage_bytes",),
    "code_interpreter_sessions": ("num_sessions",),
    "file_search_calls": ("num_requests",),
    "web_search_calls": ("num_requests",),
}

COST_DIMENSIONS = ("project_id", "line_item", "api_key_id")
# What the Costs page groups and filters by: the API's dimensions, and the model of a line item
# (stored beside it on each cost row, see line_item_parts).
COST_GROUPINGS = ("line_item", "model", "project_id", "api_key_id")
COSTS_ENDPOINT = "costs"  # the costs stream's name in watermarks and capabilities

# Hourly buckets: the finest width every page needs (1d in any timezone is built from them).
SYNC_BUCKET_WIDTH = "1h"
# The largest `limit` the API takes for a page of that width, so a window costs the fewest pages.
MAX_BUCKETS_PER_PAGE = {"1d": 31, "1h": 168, "1m": 1440}
MAX_COST_BUCKETS_PER_PAGE = 180


# --- line items ----------------------------------------------------------------------------------

# What a line item bills when it says so without a comma ("gpt-4.1 input"): the kinds we know.
_KINDS = ("cached input", "cache write", "input", "output")
_KIND_ONLY = re.compile(
    r"^(?P<model>\w\S*) (?P<kind>(?:" + "|".join(_KINDS) + r")(?: \(.+\))?)$", re.IGNORECASE
)


@dataclass(frozen=True)
class LineItemParts:
    """A cost line item read as the model it bills and the kind of use ("input", "output",
    "cached input (batch)", "1024x1024"...)."""

    model: str
    kind: str


def line_item_parts(line_item: str | None) -> LineItemParts:
    """The model and kind of a cost line item, e.g. "gpt-4.1-2025-04-14, cached input (batch)".

    The API writes a line item as "<model>, <kind>". A model id has no spaces, so a line item
    whose head has some ("web search tool calls, low context") or that has no kind at all
    ("input_tokens", "vector store storage") names no model: its model is the line item itself,
    so that grouping by model never merges what it can't tell apart.
    """
    text = " ".join((line_item or "").split())
    head, comma, tail = text.partition(",")
    head, tail = head.strip(), tail.strip()
    if comma and head and not any(c.isspace() for c in head):
        return LineItemParts(model=head, kind=tail)
    match = _KIND_ONLY.match(text)
    if match:
        return LineItemParts(model=match["model"], kind=match["kind"])
    return LineItemParts(model=text, kind="")
