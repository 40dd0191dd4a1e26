"""The usage families: each usage endpoint's dimensions, filters and leaf metrics."""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86400
WIDTHS = {"1m": 60, "1h": 3600, "1d": DAY}
LIMITS = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}  # (default, max) buckets per page
COST_LIMIT = (7, 180)
CHUNKS = 24  # at most this many instants of activity per stream and day
PICO = 10**12  # pico-dollars per dollar


@dataclass(frozen=True)
class Family:
    """One usage endpoint: its dimensions, filters, leaf metrics and result shape."""

    name: str
    result_object: str
    dims: tuple[str, ...]  # dimension fields, in the result's order
    group_by: tuple[str, ...]  # the spec's group_by enum, in its order
    filters: tuple[tuple[str, str], ...]  # (query parameter, dimension)
    leaves: tuple[str, ...]  # stored integer metrics
    count_leaf: int  # the leaf that counts events (drives the chunking)
    gauge: bool = False  # a level (vector store bytes), not a flow

    @property
    def path(self) -> str:
        return f"/organization/usage/{self.name}"

    def derive(self, v: list[int]) -> dict[str, int]:
        """The result's metric fields from the leaf values, in the spec's order."""
        if self.name != "completions":
            return dict(zip(self.leaves, v, strict=True))
        cached = v[3] + v[4] + v[5]
        uncached = v[0] + v[1] + v[2]
        return {
            "input_tokens": uncached + cached + v[6],
            "input_cached_tokens": cached,
            "input_cache_write_tokens": v[6],
            "input_uncached_tokens": uncached,
            "output_tokens": v[7] + v[8] + v[9],
            "input_text_tokens": v[0],
            "output_text_tokens": v[7],
            "input_cached_text_tokens": v[3],
            "input_audio_tokens": v[1],
            "input_cached_audio_tokens": v[4],
            "output_audio_tokens": v[8],
            "input_image_tokens": v[2],
            "input_cached_image_tokens": v[5],
            "output_image_tokens": v[9],
            "num_model_requests": v[10],
        }


_KEYED = ("project_id", "user_id", "api_key_id", "model")
_KEYED_FILTERS = (
    ("project_ids", "project_id"),
    ("user_ids", "user_id"),
    ("api_key_ids", "api_key_id"),
    ("models", "model"),
)
COMPLETION_LEAVES = (
    "input_text_tokens",
    "input_audio_tokens",
    "input_image_tokens",
    "input_cached_text_tokens",
    "input_cached_audio_tokens",
    "input_cached_image_tokens",
    "input_cache_write_tokens",
    "output_text_tokens",
    "output_audio_tokens",
    "output_image_tokens",
    "num_model_requests",
)

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "completions",
            "organization.usage.completions.result",
            (*_KEYED, "batch", "service_tier"),
            (*_KEYED, "batch", "service_tier"),
            (*_KEYED_FILTERS, ("batch", "batch")),
            COMPLETION_LEAVES,
            10,
        ),
        Family(
            "embeddings",
            "organization.usage.embeddings.result",
            _KEYED,
            _KEYED,
            _KEYED_FILTERS,
            ("input_tokens", "num_model_requests"),
            1,
        ),
        Family(
            "moderations",
            "organization.usage.moderations.result",
            _KEYED,
            _KEYED,
            _KEYED_FILTERS,
            ("input_tokens", "num_model_requests"),
            1,
        ),
        Family(
            "images",
            "organization.usage.images.result",
            ("source", "size", *_KEYED),
            (*_KEYED, "size", "source"),
            (("sources", "source"), ("sizes", "size"), *_KEYED_FILTERS),
            ("images", "num_model_requests"),
            1,
        ),
        Family(
            "audio_speeches",
            "organization.usage.audio_speeches.result",
            _KEYED,
            _KEYED,
            _KEYED_FILTERS,
            ("characters", "num_model_requests"),
            1,
        ),
        Family(
            "audio_transcriptions",
            "organization.usage.audio_transcriptions.result",
            _KEYED,
            _KEYED,
            _KEYED_FILTERS,
            ("seconds", "num_model_requests"),
            1,
        ),
        Family(
            "vector_stores",
            "organization.usage.vector_stores.result",
            ("project_id",),
            ("project_id",),
            (("project_ids", "project_id"),),
            ("usage_bytes",),
            0,
            gauge=True,
        ),
        Family(
            "code_interpreter_sessions",
            "organization.usage.code_interpreter_sessions.result",
            ("project_id",),
            ("project_id",),
            (("project_ids", "project_id"),),
            ("num_sessions",),
            0,
        ),
        Family(
            "file_search_calls",
            "organization.usage.file_searches.result",
            ("project_id", "user_id", "api_key_id", "vector_store_id"),
            ("project_id", "user_id", "api_key_id", "vector_store_id"),
            (
                ("project_ids", "project_id"),
                ("user_ids", "user_id"),
                ("api_key_ids", "api_key_id"),
                ("vector_store_ids", "vector_store_id"),
            ),
            ("num_requests",),
            0,
        ),
        Family(
            "web_search_calls",
            "organization.usage.web_searches.result",
            (*_KEYED, "context_level"),
            (*_KEYED, "context_level"),
            (*_KEYED_FILTERS, ("context_levels", "context_level")),
            ("num_model_requests", "num_requests"),
            1,
        ),
    )
}
