"""Deterministic usage and cost generator, computed on request.

The unit of generation is a *stream*: one full combination of a family's dimensions (for
completions: project, user, API key, model, batch, service tier). For every stream and UTC day
a seeded generator gives integer daily values of the family's *leaf* metrics (weekday
seasonality, growth, noise, a few one-day spikes). A day's activity is then spread over at most
`CHUNKS` instants of that day (seeded, following an hour-of-day profile); chunk `j` of `n` carries
`floor(V*(j+1)/n) - floor(V*j/n)` of each leaf value `V`. Any time window therefore holds an
exact integer share of each value, so totals agree across bucket widths (1m/1h/1d) and, since
coarser `group_by` results are sums of streams, across `group_by` choices too. Derived metrics
(e.g. `input_tokens`) are sums of leaves, so their identities hold at every granularity.

Only what a request asks for is computed; day values and chunk instants are cached per
(family, day). Usage after `now` does not exist yet: the current buckets grow as time passes.

Costs are usage times the price table below, daily, in integer pico-dollars (10^-12 USD), so
they reconcile exactly; `amount.value` is reported as float dollars.
"""

from __future__ import annotations

import base64
import math
import random
import struct
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from orgadmin.simulator.errors import invalid
from orgadmin.simulator.quirks import Quirks

DAY = 86400
WIDTHS = {"1m": 60, "1h": 3600, "1d": DAY}
LIMITS = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}  # (default, max) buckets per page
COST_LIMIT = (7, 180)
CHUNKS = 24  # at most this many instants of activity per stream and day
PICO = 10**12  # pico-dollars per dollar

# --- families ----------------------------------------------------------------------------------


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

# --- the price table ---------------------------------------------------------------------------
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
    model = dims.get("model")
    if family == "completions":
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
    if family == "embeddings":
        assert isinstance(model, str)
        return (LineItem(f"{model}, input", "tokens", (0,), _pico(EMBEDDING_PRICES[model], 10**6)),)
    if family == "images":
        assert isinstance(model, str)
        size = dims["size"]
        return (LineItem(f"{model}, {size}", "images", (0,), _pico(IMAGE_PRICES[model][size])),)
    if family == "audio_speeches":
        assert isinstance(model, str)
        return (
            LineItem(
                f"{model}, characters", "characters", (0,), _pico(SPEECH_PRICES[model], 10**6)
            ),
        )
    if family == "audio_transcriptions":
        assert isinstance(model, str)
        return (
            LineItem(
                f"{model}, audio duration",
                "duration_seconds",
                (0,),
                _pico(TRANSCRIPTION_PRICES[model], 60),
            ),
        )
    if family == "web_search_calls":
        level = dims["context_level"]
        return (
            LineItem(
                f"web search tool calls, {level} context",
                None,
                (1,),
                _pico(WEB_SEARCH_PRICES[level], 1000),
            ),
        )
    if family == "file_search_calls":
        return (LineItem("file search tool calls", None, (0,), _pico(FILE_SEARCH_PRICE, 1000)),)
    if family == "code_interpreter_sessions":
        return (LineItem("code interpreter sessions", None, (0,), _pico(CODE_INTERPRETER_PRICE)),)
    return ()  # moderations are free; vector storage is billed by its level (see below)


VECTOR_STORE_LINE_ITEM = "vector store storage"
COST_DIMS = ("project_id", "line_item", "api_key_id")


def _tier_suffix(tier: str) -> str:
    return "" if tier == "default" else f" ({tier})"


# --- streams and the engine --------------------------------------------------------------------

# Hour-of-day weights (UTC): interactive traffic follows office hours across Europe and the
# Americas; batch traffic is flat.
_INTERACTIVE_HOURS = (
    3, 2, 2, 2, 2, 3, 4, 6, 8, 10, 11, 12, 12, 13, 14, 15, 15, 14, 13, 11, 9, 7, 5, 4,
)  # fmt: skip
_FLAT_HOURS = (1,) * 24
_HOUR_CUM = tuple(
    tuple(sum(w[: i + 1]) / sum(w) for i in range(24)) for w in (_INTERACTIVE_HOURS, _FLAT_HOURS)
)
# Monday..Sunday factors for interactive and batch traffic.
_WEEKDAY = ((1.0, 1.08, 1.1, 1.06, 0.97, 0.42, 0.36), (1.0, 1.0, 1.0, 1.0, 1.0, 0.85, 0.8))


@dataclass
class Stream:
    """One full combination of a family's dimensions, with its baseline daily values."""

    family: str
    dims: tuple[Any, ...]
    base: tuple[float, ...]  # leaf values per day at today's level, before noise
    start: int  # first second with activity
    end: int | None  # last second with activity (stale keys, archived projects)
    profile: int = 0  # 0 interactive, 1 flat (batch)
    key_id: str | None = None
    project_id: str | None = None
    items: tuple[LineItem, ...] = ()
    index: int = 0
    cutoff: int | None = None  # set at run time (key deleted, project archived): no use after


@dataclass
class _Day:
    """One family's values on one UTC day."""

    values: list[tuple[int, tuple[int, ...]]]  # (stream index, leaf values), streams with usage
    by_stream: dict[int, tuple[int, ...]] = field(default_factory=dict)
    chunks: dict[int, list[int]] = field(default_factory=dict)  # stream index -> instants
    cost_rows: list[tuple[int, tuple[tuple[str, str | None, int, int], ...]]] | None = None


class UsageEngine:
    """Generates usage and costs for a fixed set of streams, deterministically per seed."""

    def __init__(self, *, seed: int, anchor: int, growth_per_year: float = 1.1) -> None:
        self.seed = seed
        self.anchor_day = anchor // DAY
        self.growth = growth_per_year  # continuous rate: e^1.1, about 3x a year
        self.streams: dict[str, list[Stream]] = {name: [] for name in FAMILIES}
        self.spikes: dict[tuple[int, str], float] = {}  # (day, key or project id) -> factor
        self.key_streams: dict[str, list[Stream]] = {}
        self._cache: OrderedDict[tuple[str, int], _Day] = OrderedDict()
        self._cache_size = 4000
        self._lock = threading.Lock()
        self._family_index = {name: i for i, name in enumerate(FAMILIES)}
        self._items_by_dims: dict[tuple[str, tuple[Any, ...]], tuple[LineItem, ...]] = {}
        self.bucket_cache = BucketCache()
        self.quirks = Quirks()  # the store's, once the scenario is built

    @property
    def revision(self) -> int:
        """Seconds after which every instant is reported (0: at once); see `_visible`."""
        return max(0, int(getattr(self.quirks, "revision_hours", 0) or 0)) * 3600

    def settled(self, moment: int, now: int) -> bool:
        """True when nothing before `moment` can still change (no late report outstanding)."""
        return moment + self.revision <= now

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_lock"] = None
        state["_cache"] = OrderedDict()  # caches are rebuilt on demand, identically
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # --- setup ---------------------------------------------------------------------------------

    def add_stream(
        self,
        family: str,
        dims: dict[str, Any],
        base: dict[str, float],
        *,
        start: int,
        end: int | None = None,
        profile: int = 0,
    ) -> Stream:
        """Register a stream; `dims` must name every dimension of the family."""
        fam = FAMILIES[family]
        stream = Stream(
            family=family,
            dims=tuple(dims[d] for d in fam.dims),
            base=tuple(float(base.get(leaf, 0.0)) for leaf in fam.leaves),
            start=start,
            end=end,
            profile=profile,
            key_id=dims.get("api_key_id"),
            project_id=dims.get("project_id"),
            items=line_items(family, dims),
            index=len(self.streams[family]),
        )
        self.streams[family].append(stream)
        if stream.key_id is not None:
            self.key_streams.setdefault(stream.key_id, []).append(stream)
        return stream

    def stop(self, *, at: int, key_id: str | None = None, project_id: str | None = None) -> None:
        """No more usage after `at` for a key's or a project's streams (deletion, archival)."""
        for streams in self.streams.values():
            for stream in streams:
                hit = (key_id is not None and stream.key_id == key_id) or (
                    project_id is not None and stream.project_id == project_id
                )
                if hit and (stream.cutoff is None or stream.cutoff > at):
                    stream.cutoff = at

    # --- per-day generation --------------------------------------------------------------------

    def _day(self, family: str, day: int) -> _Day:
        key = (family, day)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        computed = self._generate(family, day)
        with self._lock:
            self._cache[key] = computed
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return computed

    def _generate(self, family: str, day: int) -> _Day:
        fam = FAMILIES[family]
        rng = random.Random(self._mix(self._family_index[family], day, 0x5EED))
        day0, day1 = day * DAY, (day + 1) * DAY
        years = (day - self.anchor_day) / 365.0
        growth = math.exp(self.growth * years)
        dow = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        values: list[tuple[int, tuple[int, ...]]] = []
        for stream in self.streams[family]:
            noise = math.exp(rng.gauss(0.0, 0.16))
            tokens = math.exp(rng.gauss(0.0, 0.07))
            if stream.start >= day1 or (stream.end is not None and stream.end < day0):
                continue
            if fam.gauge:
                # A level: grows with the project, hardly moves from one day to the next.
                age = max(0, day - stream.start // DAY)
                level = stream.base[0] * min(1.0, 0.25 + age / 240) * math.exp(rng.gauss(0, 0.01))
                values.append((stream.index, (max(1, int(level)) * MIB,)))
                continue
            factor = _WEEKDAY[stream.profile][dow] * growth * noise
            ramp = (day - stream.start // DAY + 1) / 14.0
            if ramp < 1.0:
                factor *= ramp
            spike = self.spikes.get((day, stream.key_id or stream.project_id or ""))
            if spike:
                factor *= spike
            count = int(stream.base[fam.count_leaf] * factor + 0.5)
            if stream.end is not None and stream.end < day1:
                count = max(count, 1)  # a stale key's last use falls on its last day
            if count <= 0:
                continue
            scale = factor * tokens
            computed = [int(b * scale + 0.5) for b in stream.base]
            computed[fam.count_leaf] = (
                count  # token counts vary per request; the count is the count
            )
            values.append((stream.index, tuple(computed)))
        return _Day(values=values, by_stream=dict(values))

    def _chunks(self, family: str, day: int, data: _Day, stream_index: int) -> list[int]:
        """The sorted instants at which the stream's activity of that day happened."""
        found = data.chunks.get(stream_index)
        if found is not None:
            return found
        stream = self.streams[family][stream_index]
        leaves = data.by_stream[stream_index]
        count = leaves[FAMILIES[family].count_leaf]
        n = min(count, CHUNKS)
        rng = random.Random(self._mix(self._family_index[family], day, stream_index + 1))
        day0 = day * DAY
        lo = max(0, stream.start - day0)
        hi = DAY - 1 if stream.end is None else min(DAY - 1, stream.end - day0)
        if lo == 0 and hi == DAY - 1:
            cum = _HOUR_CUM[stream.profile]
            times = []
            for _ in range(n):
                u = rng.random()
                hour = min(23, bisect_right(cum, u))
                lower = cum[hour - 1] if hour else 0.0
                within = (u - lower) / (cum[hour] - lower)
                times.append(day0 + hour * 3600 + min(3599, int(within * 3600)))
        else:
            times = [day0 + lo + int(rng.random() * (hi - lo + 1)) for _ in range(n)]
            if stream.end is not None and stream.end < day0 + DAY:
                times[-1] = stream.end  # the key's recorded last use is exactly its last activity
        times.sort()
        data.chunks[stream_index] = times
        return times

    def _visible(self, family: str, day: int, stream_index: int, times: list[int], now: int):
        """Which instants are reported by `now`: with revisions on, about a third of them are
        reported late, from minutes to `revision` seconds after they happened, so a closed
        bucket grows for a while after it closes, as the live API's do."""
        rng = random.Random(self._mix(self._family_index[family], day, stream_index + 1, 0xDE1A))
        revision = self.revision
        out = []
        for t in times:
            late = rng.random() < 0.35
            delay = 60 + int(rng.random() * (revision - 60)) if late and revision > 60 else 0
            out.append(t + delay <= now)
        return out

    def _mix(self, *parts: int) -> int:
        value = self.seed & 0xFFFFFFFF
        for part in parts:
            value = (value * 1_000_003 + part + 0x9E3779B9) & 0xFFFFFFFFFFFF
        return value

    # --- windows -------------------------------------------------------------------------------

    def _allowed(self, family: str, filters: dict[str, Iterable[Any]]) -> set[int] | None:
        """Indices of the streams that pass the filters, or None when nothing is filtered."""
        fam = FAMILIES[family]
        conditions: list[tuple[int, set[Any]]] = []
        for param, dim in fam.filters:
            wanted = filters.get(param)
            if wanted is None:
                continue
            if isinstance(wanted, bool):
                wanted = [wanted]
            conditions.append((fam.dims.index(dim), set(wanted)))
        if not conditions:
            return None
        return {
            s.index
            for s in self.streams[family]
            if all(s.dims[i] in allowed for i, allowed in conditions)
        }

    def accumulate(
        self,
        family: str,
        start: int,
        end: int,
        *,
        now: int,
        width: int | None,
        base: int,
        group_idx: tuple[int, ...],
        allowed: set[int] | None,
    ) -> dict[int, dict[tuple[Any, ...], list[int]]]:
        """Sum the leaves over `[start, end)` (clipped at `now`) into buckets and groups.

        Buckets are `[base + k*width, base + (k+1)*width)`; `width=None` means one bucket.
        """
        fam = FAMILIES[family]
        out: dict[int, dict[tuple[Any, ...], list[int]]] = {}
        stop = min(end, now + 1)
        if stop <= start:
            return out
        streams = self.streams[family]
        for day in range(start // DAY, (stop - 1) // DAY + 1):
            day0, day1 = day * DAY, (day + 1) * DAY
            data = self._day(family, day)
            revising = not self.settled(day1, now)
            whole = (
                start <= day0 and day1 <= stop and (width is None or width >= DAY) and not revising
            )
            if fam.gauge:
                self._accumulate_gauge(
                    data,
                    day0,
                    max(start, day0),
                    min(stop, day1),
                    width,
                    base,
                    group_idx,
                    allowed,
                    out,
                )
                continue
            for index, leaves in data.values:
                if allowed is not None and index not in allowed:
                    continue
                stream = streams[index]
                group = tuple(stream.dims[i] for i in group_idx)
                cutoff = stream.cutoff
                if whole and (cutoff is None or cutoff >= day1):
                    _add(out, 0 if width is None else (day0 - base) // width, group, leaves)
                    continue
                if cutoff is not None and cutoff < day0:
                    continue
                times = self._chunks(family, day, data, index)
                lo = bisect_left(times, max(start, day0))
                end_at = min(stop, day1) if cutoff is None else min(stop, day1, cutoff + 1)
                hi = bisect_left(times, end_at)
                if lo >= hi:
                    continue
                n = len(times)
                if revising:
                    visible = self._visible(family, day, index, times, now)
                    for j in range(lo, hi):
                        if visible[j]:
                            bucket = 0 if width is None else (times[j] - base) // width
                            part = tuple(v * (j + 1) // n - v * j // n for v in leaves)
                            _add(out, bucket, group, part)
                    continue
                j = lo
                while j < hi:
                    bucket = 0 if width is None else (times[j] - base) // width
                    k = j + 1
                    if width is not None:
                        limit = base + (bucket + 1) * width
                        while k < hi and times[k] < limit:
                            k += 1
                    else:
                        k = hi
                    part = tuple(v * k // n - v * j // n for v in leaves)
                    _add(out, bucket, group, part)
                    j = k
        return out

    def _accumulate_gauge(
        self,
        data: _Day,
        day0: int,
        lo: int,
        hi: int,
        width: int | None,
        base: int,
        group_idx: tuple[int, ...],
        allowed: set[int] | None,
        out: dict[int, dict[tuple[Any, ...], list[int]]],
    ) -> None:
        """A level is reported once per bucket that overlaps the day (it is not summed)."""
        if width is None:
            buckets = [0]
        else:
            first = (lo - base) // width
            last = (hi - 1 - base) // width
            buckets = list(range(first, last + 1))
        streams = self.streams["vector_stores"]
        for index, leaves in data.values:
            if allowed is not None and index not in allowed:
                continue
            stream = streams[index]
            if stream.cutoff is not None and stream.cutoff < day0:
                continue
            group = tuple(stream.dims[i] for i in group_idx)
            for bucket in buckets:
                _add(out, bucket, group, leaves)

    def totals(
        self, family: str, start: int, end: int, *, now: int, filters: dict[str, Iterable[Any]]
    ) -> dict[str, int]:
        """Exact totals of every metric of `family` over `[start, end)`."""
        fam = FAMILIES[family]
        allowed = self._allowed(family, filters)
        if fam.gauge:
            sums = [0] * len(fam.leaves)
            streams = self.streams[family]
            for day in range(start // DAY, (min(end, now + 1) - 1) // DAY + 1):
                for index, leaves in self._day(family, day).values:
                    cutoff = streams[index].cutoff
                    if cutoff is not None and cutoff < day * DAY:
                        continue
                    if allowed is None or index in allowed:
                        sums = [a + b for a, b in zip(sums, leaves, strict=True)]
            return fam.derive(sums)
        out = self.accumulate(
            family, start, end, now=now, width=None, base=start, group_idx=(), allowed=allowed
        )
        sums = out.get(0, {}).get((), [0] * len(fam.leaves))
        return fam.derive(list(sums))

    # --- costs ---------------------------------------------------------------------------------

    def cost_groups(
        self,
        start: int,
        end: int,
        *,
        now: int,
        width: int | None,
        base: int,
        group_by: tuple[str, ...],
        filters: dict[str, Iterable[Any]],
    ) -> dict[int, dict[tuple[Any, ...], list[Any]]]:
        """Costs over `[start, end)` by daily bucket and group: `[pico-dollars, quantity, unit]`.

        `width` is one day (aligned on `base`) or None for a single bucket.
        """
        project_ids = set(filters["project_ids"]) if filters.get("project_ids") else None
        key_ids = set(filters["api_key_ids"]) if filters.get("api_key_ids") else None
        by_item = "line_item" in group_by
        picks = tuple(COST_DIMS.index(g) for g in group_by)
        out: dict[int, dict[tuple[Any, ...], list[Any]]] = {}

        def put(bucket: int, row: tuple[Any, ...], unit: str | None, qty: Any, pico: int) -> None:
            groups = out.get(bucket)
            if groups is None:
                groups = out[bucket] = {}
            group = tuple(row[i] for i in picks)
            slot = groups.get(group)
            if slot is None:
                groups[group] = [pico, qty if by_item else None, unit if by_item else None]
            else:
                slot[0] += pico
                if by_item:
                    slot[1] += qty

        stop = min(end, now + 1)
        days = range(start // DAY, (stop - 1) // DAY + 1) if stop > start else range(0)
        for family, fam in FAMILIES.items():
            if fam.gauge:
                self._gauge_costs(start, stop, days, width, base, project_ids, key_ids, put)
                continue
            streams = self.streams[family]
            allowed = None
            if project_ids is not None or key_ids is not None:
                allowed = {
                    s.index
                    for s in streams
                    if (project_ids is None or s.project_id in project_ids)
                    and (key_ids is None or s.key_id in key_ids)
                }
            for day in days:
                day0, day1 = day * DAY, (day + 1) * DAY
                whole = start <= day0 and day1 <= stop and self.settled(day1, now)
                bucket = 0 if width is None else (day0 - base) // width
                partial: set[int] = set()
                for index, rows in self._cost_rows(family, day):
                    if allowed is not None and index not in allowed:
                        continue
                    stream = streams[index]
                    if not whole or (stream.cutoff is not None and stream.cutoff < day1):
                        partial.add(index)
                        continue
                    for name, unit, qty, pico in rows:
                        put(bucket, (stream.project_id, name, stream.key_id), unit, qty, pico)
                if not partial:
                    continue
                sums = self.accumulate(
                    family, max(start, day0), min(stop, day1), now=now, width=None, base=day0,
                    group_idx=tuple(range(len(fam.dims))), allowed=partial,
                )  # fmt: skip
                project_at = fam.dims.index("project_id")
                key_at = fam.dims.index("api_key_id") if "api_key_id" in fam.dims else None
                for dims, leaves in sums.get(0, {}).items():
                    key = None if key_at is None else dims[key_at]
                    for item in self._items(family, dims):
                        qty = sum([leaves[i] for i in item.leaves])
                        if qty:
                            row = (dims[project_at], item.name, key)
                            put(bucket, row, item.unit, qty, qty * item.pico_per_unit)
        return out

    def _cost_rows(
        self, family: str, day: int
    ) -> list[tuple[int, tuple[tuple[str, str | None, int, int], ...]]]:
        """Each stream's whole-day cost lines: (name, unit, quantity, pico-dollars)."""
        data = self._day(family, day)
        if data.cost_rows is None:
            streams = self.streams[family]
            rows = []
            for index, leaves in data.values:
                lines = []
                for item in streams[index].items:
                    qty = _quantity(item.leaves)(leaves)
                    if qty:
                        lines.append((item.name, item.unit, qty, qty * item.pico_per_unit))
                if lines:
                    rows.append((index, tuple(lines)))
            data.cost_rows = rows
        return data.cost_rows

    def _items(self, family: str, dims: tuple[Any, ...]) -> tuple[LineItem, ...]:
        found = self._items_by_dims.get((family, dims))
        if found is None:
            fam = FAMILIES[family]
            found = line_items(family, dict(zip(fam.dims, dims, strict=True)))
            self._items_by_dims[(family, dims)] = found
        return found

    def _gauge_costs(
        self,
        start: int,
        stop: int,
        days: range,
        width: int | None,
        base: int,
        project_ids: set[str] | None,
        key_ids: set[str] | None,
        put: Callable[..., None],
    ) -> None:
        """Vector storage is billed per GiB-hour of each day's level, to the project."""
        if key_ids is not None:
            return  # storage is billed to the project, not to an API key
        streams = self.streams["vector_stores"]
        for day in days:
            day0 = day * DAY
            bucket = 0 if width is None else (day0 - base) // width
            for index, leaves in self._day("vector_stores", day).values:
                project = streams[index].dims[0]
                if project_ids is not None and project not in project_ids:
                    continue
                cutoff = streams[index].cutoff
                until = (
                    min(stop, day0 + DAY) if cutoff is None else min(stop, day0 + DAY, cutoff + 1)
                )
                hours = (until - max(start, day0)) // 3600
                if hours <= 0:
                    continue
                mib_hours = leaves[0] // MIB * hours
                row = (project, VECTOR_STORE_LINE_ITEM, None)
                put(
                    bucket,
                    row,
                    "gibibyte_hours",
                    mib_hours / 1024,
                    mib_hours * VECTOR_STORE_PICO_MIB_HOUR,
                )

    def cost_total(
        self, start: int, end: int, *, now: int, filters: dict[str, Iterable[Any]]
    ) -> Decimal:
        """The exact total cost over `[start, end)`, in dollars."""
        groups = self.cost_groups(
            start, end, now=now, width=None, base=start, group_by=(), filters=filters
        )
        pico = sum(slot[0] for bucket in groups.values() for slot in bucket.values())
        return Decimal(pico) / PICO

    # --- key activity --------------------------------------------------------------------------

    def last_used(self, key_id: str, now: int) -> int | None:
        """The last instant at or before `now` at which the key was used, if ever."""
        streams = self.key_streams.get(key_id)
        if not streams:
            return None
        first_day = min(s.start for s in streams) // DAY
        for day in range(now // DAY, first_day - 1, -1):
            best: int | None = None
            for stream in streams:
                data = self._day(stream.family, day)
                if stream.index not in data.by_stream:
                    continue
                times = self._chunks(stream.family, day, data, stream.index)
                i = bisect_right(times, now if stream.cutoff is None else min(now, stream.cutoff))
                if i and (best is None or times[i - 1] > best):
                    best = times[i - 1]
            if best is not None:
                return best
        return None


_QUANTITY: dict[tuple[int, ...], Callable[[tuple[int, ...]], int]] = {}


def _quantity(leaves: tuple[int, ...]) -> Callable[[tuple[int, ...]], int]:
    """A fast function summing the given leaf positions of a values tuple."""
    found = _QUANTITY.get(leaves)
    if found is None:
        if len(leaves) == 1:
            found = itemgetter(leaves[0])
        else:
            pick = itemgetter(*leaves)
            found = _QUANTITY[leaves] = lambda values: sum(pick(values))
        _QUANTITY[leaves] = found
    return found


def _add(
    out: dict[int, dict[tuple[Any, ...], list[int]]],
    bucket: int,
    group: tuple[Any, ...],
    leaves: tuple[int, ...],
) -> None:
    groups = out.get(bucket)
    if groups is None:
        groups = out[bucket] = {}
    acc = groups.get(group)
    if acc is None:
        groups[group] = list(leaves)
    else:
        for i, v in enumerate(leaves):
            acc[i] += v


# --- serialised bucket cache -------------------------------------------------------------------


class BucketCache:
    """Serialised JSON of complete past buckets, bounded by size (least recently used first).

    A bucket that ended before "now" never changes, so a repeated query (a second sync, a
    benchmark run) reuses its JSON instead of computing and serialising it again.
    """

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> str | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: str) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._bytes += len(value)
            while self._bytes > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def __getstate__(self) -> dict[str, Any]:
        return {"max_bytes": self.max_bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["max_bytes"])  # type: ignore[misc]


# --- page cursors ------------------------------------------------------------------------------


def encode_page(bucket_start: int, query_start: int) -> str:
    """An opaque `next_page` cursor, shaped like the real API's `page_AAAA...`."""
    raw = struct.pack(">qq", bucket_start, query_start)
    return "page_" + base64.urlsafe_b64encode(raw).decode()


def decode_page(cursor: str, *, start: int, width: int, base: int = 0) -> int:
    """The bucket start that a `page` cursor points at; a 400 if it is not one of ours.

    Buckets are `base + k * width` (base 0: aligned to the width)."""
    try:
        if not cursor.startswith("page_"):
            raise ValueError(cursor)
        bucket_start, query_start = struct.unpack(">qq", base64.urlsafe_b64decode(cursor[5:]))
    except (ValueError, struct.error, TypeError) as exc:
        raise invalid("page", f"Invalid 'page' cursor: '{cursor}'.") from exc
    if query_start != start or (bucket_start - base) % width or bucket_start < start - width:
        raise invalid("page", f"Invalid 'page' cursor for this query: '{cursor}'.")
    return bucket_start


def sort_key(group: tuple[Any, ...]) -> tuple[str, ...]:
    """Order groups deterministically even when they hold None or booleans."""
    return tuple("" if v is None else str(v) for v in group)
