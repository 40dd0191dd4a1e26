"""The usage engine: streams, their seeded daily values and the instants of their activity,
and sums over any window (see the package's docstring)."""

from __future__ import annotations

import math
import random
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from orgadmin.simulator.quirks import Quirks
from orgadmin.simulator.usage.costs import CostLedger
from orgadmin.simulator.usage.families import CHUNKS, DAY, FAMILIES
from orgadmin.simulator.usage.prices import MIB, LineItem, line_items
from orgadmin.simulator.usage.query import BucketCache

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


class UsageEngine(CostLedger):
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

    def forget_days(self) -> None:
        """Drop what was computed from the streams and spikes (after changing them)."""
        with self._lock:
            self._cache.clear()
        self.bucket_cache = BucketCache()

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
                lo, hi = max(start, day0), min(stop, day1)
                self._accumulate_gauge(data, day0, lo, hi, width, base, group_idx, allowed, out)
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
                end_at = min(stop, day1) if cutoff is None else min(stop, day1, cutoff + 1)
                span, revising_at = (max(start, day0), end_at), now if revising else None
                self._add_chunks(
                    out, family, day, data, index, leaves, group, span, width, base, revising_at
                )
        return out

    def _add_chunks(
        self,
        out: dict[int, dict[tuple[Any, ...], list[int]]],
        family: str,
        day: int,
        data: _Day,
        index: int,
        leaves: tuple[int, ...],
        group: tuple[Any, ...],
        span: tuple[int, int],
        width: int | None,
        base: int,
        revising_at: int | None,
    ) -> None:
        """Add the chunks of a stream's day that fall in `span`, each to its bucket; while the
        day is still revised (`revising_at` is "now"), only the chunks reported by then."""
        times = self._chunks(family, day, data, index)
        lo = bisect_left(times, span[0])
        hi = bisect_left(times, span[1])
        if lo >= hi:
            return
        n = len(times)
        if revising_at is not None:
            visible = self._visible(family, day, index, times, revising_at)
            for j in range(lo, hi):
                if visible[j]:
                    bucket = 0 if width is None else (times[j] - base) // width
                    part = tuple(v * (j + 1) // n - v * j // n for v in leaves)
                    _add(out, bucket, group, part)
            return
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
