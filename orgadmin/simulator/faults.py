"""Faults on demand: rate limits, server errors, slow responses and dropped connections.

Faults are decided before a request reaches its handler, so a faulted request changes nothing.
The decision sequence is reproducible: it comes from a RNG seeded by `FaultConfig.seed`, and
`script` lets a test name the exact faults of the next requests.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import httpx

from orgadmin.simulator.errors import ApiError

KINDS = ("429", "quota", "500", "502", "503", "slow", "drop")


class ConnectionDropped(httpx.RemoteProtocolError):
    """The simulated server hung up without answering.

    Raised out of the WSGI app: `httpx.WSGITransport` re-raises it, and since it is an
    `httpx.RequestError` the SDK treats it as a connection error (`openai.APIConnectionError`,
    retried like one). The HTTP server closes the socket instead of answering.
    """

    def __init__(self) -> None:
        super().__init__("Server disconnected without sending a response.")


@dataclass
class FaultConfig:
    """How often and how a request fails. Mutable at runtime: the app reads it per request.

    - `rate`: probability (0..1) that a request is faulted.
    - `mix`: relative weights over `KINDS`: "429" (rate limited, with `Retry-After`), "quota"
      (a 429 that needs user action: no `Retry-After`), "500", "502" (an HTML gateway page),
      "503", "slow" (answers normally after `slow_ms`), "drop" (no answer at all).
    - `latency_ms`: base latency added to every request.
    - `retry_after`: seconds for `Retry-After` on a "429"; None leaves the header out.
    - `retry_after_ms`: also send `retry-after-ms` (the SDK reads it first; keeps tests fast).
    - `seed`: seeds the fault RNG, so a run's fault sequence is reproducible.
    - `script`: faults for the next requests, consumed in order before `rate` applies
      (e.g. `["429", "500"]`); "ok" lets a request through.
    """

    rate: float = 0.0
    mix: dict[str, float] = field(
        default_factory=lambda: {"429": 4, "500": 1, "502": 1, "503": 2, "slow": 1, "drop": 1}
    )
    latency_ms: int = 0
    slow_ms: int = 2000
    retry_after: int | None = 1
    retry_after_ms: int | None = None
    seed: int = 0
    script: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("FaultConfig.rate must be between 0 and 1")
        unknown = set(self.mix) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")


@dataclass
class Fault:
    """A decided fault: either an error response or a delay."""

    kind: str
    status: int = 0
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class FaultInjector:
    """Applies a `FaultConfig` to requests, one decision per request."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed)
        self._seed = config.seed
        self.counts: dict[str, int] = dict.fromkeys(KINDS, 0)

    def decide(self) -> str | None:
        """The fault kind for the next request, or None."""
        config = self.config
        with self._lock:
            if config.seed != self._seed:  # a test swapped the seed: restart the sequence
                self._rng = random.Random(config.seed)
                self._seed = config.seed
            if config.script:
                kind = config.script.pop(0)
                return None if kind == "ok" else kind
            if config.rate <= 0 or self._rng.random() >= config.rate:
                return None
            kinds = [k for k, w in config.mix.items() if w > 0]
            if not kinds:
                return None
            return self._rng.choices(kinds, weights=[config.mix[k] for k in kinds])[0]

    def apply(self) -> None:
        """Sleep for the base latency, then raise the fault decided for this request, if any.

        Raises `ApiError` for error responses and `ConnectionDropped` for "drop".
        """
        config = self.config
        if config.latency_ms > 0:
            time.sleep(config.latency_ms / 1000)
        kind = self.decide()
        if kind is None:
            return
        with self._lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "slow":
            time.sleep(config.slow_ms / 1000)
            return
        if kind == "drop":
            raise ConnectionDropped
        raise _error(kind, config)


class GatewayError(ApiError):
    """A 502 from the edge: an HTML page, not JSON, as a real gateway sends."""

    html = (
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
        b"</body>\r\n</html>\r\n"
    )


def _error(kind: str, config: FaultConfig) -> ApiError:
    if kind == "429":
        headers: dict[str, str] = {}
        if config.retry_after is not None:
            headers["retry-after"] = str(config.retry_after)
        if config.retry_after_ms is not None:
            headers["retry-after-ms"] = str(config.retry_after_ms)
        return ApiError(
            429,
            "Rate limit reached for requests. Please try again in a moment.",
            type="requests",
            code="rate_limit_exceeded",
            headers=headers,
        )
    if kind == "quota":
        return ApiError(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            type="insufficient_quota",
            code="insufficient_quota",
        )
    if kind == "502":
        return GatewayError(502, "Bad gateway.", type="server_error")
    if kind == "503":
        return ApiError(
            503,
            "The server is overloaded or not ready yet.",
            type="server_error",
            code="service_unavailable",
        )
    return ApiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
    )
