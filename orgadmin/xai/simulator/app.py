"""The WSGI application: routing, management-key authentication and ACLs, errors, request ids
and faults, for the xAI Management API (`https://management-api.x.ai`, paths as the reference).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from orgadmin.simulator.errors import ApiError
from orgadmin.simulator.faults import ConnectionDropped, FaultConfig, FaultInjector, GatewayError
from orgadmin.xai.simulator import audit, billing, keys  # noqa: F401 - registers the routes
from orgadmin.xai.simulator.errors import (
    UNIMPLEMENTED,
    XAIError,
    denied,
    from_fault,
    invalid,
    not_found,
    unauthenticated,
)
from orgadmin.xai.simulator.routing import ALL, ROUTES, Request, Route, allows
from orgadmin.xai.simulator.scenarios import build
from orgadmin.xai.simulator.shapes import Shaper
from orgadmin.xai.simulator.store import Store

log = logging.getLogger(__name__)
StartResponse = Callable[..., Any]
DEFAULT_MANAGEMENT_KEY = "xai-mgmt-simulator-local-key"
TEST_MANAGEMENT_KEY = "xai-mgmt-simulator-test-key-0000000000wxyz"
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class XAISimulatorApp:
    """A WSGI callable serving the xAI Management API for one seeded team."""

    def __init__(
        self,
        store: Store,
        *,
        faults: FaultConfig | None = None,
        now: Callable[[], float] | None = None,
        mixed_shapes: bool = True,
    ) -> None:
        self.store = store
        self.now = now or store.clock
        store.clock = self.now
        self.shaper = Shaper(store.seed, mixed=mixed_shapes)
        self._injector = FaultInjector(faults or FaultConfig())
        self._request_rng = random.Random(f"xai-requests:{store.scenario}:{store.seed}")
        self._request_lock = threading.Lock()

    @property
    def faults(self) -> FaultConfig:
        """The live fault configuration; assign a new one or mutate it mid-run."""
        return self._injector.config

    @faults.setter
    def faults(self, config: FaultConfig) -> None:
        self._injector = FaultInjector(config)

    @property
    def fault_counts(self) -> dict[str, int]:
        return dict(self._injector.counts)

    @property
    def team_id(self) -> str:
        return self.store.team_id

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request_id = self._request_id()
        content_type = "application/json"
        headers: dict[str, str] = {}
        try:
            status, payload = self._faulted_or_dispatched(environ)
        except GatewayError as exc:
            status, payload, content_type = 502, exc.html, "text/html"
        except XAIError as exc:
            status, payload, headers = exc.status, _dumps(exc.body()), exc.headers
        except ConnectionDropped:
            raise
        except Exception:
            log.exception("xai simulator: unhandled error (request %s)", request_id)
            error = XAIError(13, "Internal error.")
            status, payload = 500, _dumps(error.body())
        response_headers = [
            ("content-type", content_type),
            ("content-length", str(len(payload))),
            ("x-request-id", request_id),
            *headers.items(),
        ]
        start_response(f"{status} {_REASONS.get(status, 'Error')}", response_headers)
        return [payload]

    def _request_id(self) -> str:
        """*Inferred*: xAI's request-id header and its format (a UUID) are not documented."""
        with self._request_lock:
            bits = self._request_rng.getrandbits(128)
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def _faulted_or_dispatched(self, environ: dict[str, Any]) -> tuple[int, bytes]:
        try:
            self._injector.apply()  # decided before the handler: a faulted request changes nothing
        except GatewayError:
            raise
        except ApiError as exc:  # the shared injector's OpenAI-shaped error: re-shape it
            raise from_fault(exc.status, exc.headers) from None
        return self._dispatch(environ)

    def _dispatch(self, environ: dict[str, Any]) -> tuple[int, bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = (environ.get("PATH_INFO", "") or "/").rstrip("/") or "/"
        key = self._authenticate(environ)
        route, params = self._match(method, path)
        if route.acl is not None and not allows(key.acls, route.acl):
            raise denied(f"Permission denied: this management key lacks the ACL {route.acl}")
        team = params.get("teamId", params.get("team_id"))
        if team is not None and team != self.store.team_id:
            # *Inferred*: a team key used on another team's path is refused like a missing ACL.
            raise denied(f"Permission denied: this management key has no access to team {team}")
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        body = _read_body(environ) if method in ("POST", "PUT") else {}
        now = datetime.fromtimestamp(self.now(), UTC)
        request = Request(self.store, self.shaper, now, params, query, body, key)
        with self.store.lock:
            result = route.handler(request)
        return 200, _dumps(result)

    def _authenticate(self, environ: dict[str, Any]) -> Any:
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        key = self.store.management_keys.get(token.strip())
        if scheme.lower() != "bearer" or key is None:
            raise unauthenticated()
        return key

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed = False
        for candidate in ROUTES:
            found = candidate.regex.match(path)
            if found is None:
                continue
            if candidate.method == method:
                return candidate, found.groupdict()
            allowed = True
        if allowed:
            raise XAIError(UNIMPLEMENTED, "Method Not Allowed")
        raise not_found("Not Found")


def _read_body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise invalid("The request body must be a JSON object.")
    return parsed


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _key_acls(
    management_keys: Iterable[str] | Mapping[str, Iterable[str]],
) -> dict[str, tuple[str, ...]]:
    if isinstance(management_keys, Mapping):
        return {value: tuple(acls) for value, acls in management_keys.items()}
    return {value: (ALL,) for value in management_keys}


def create_app(
    *,
    scenario: str = "demo",
    seed: int = 0,
    management_keys: Iterable[str] | Mapping[str, Iterable[str]] = (),
    now: Callable[[], float] | None = None,
    faults: FaultConfig | None = None,
    mixed_shapes: bool = True,
) -> XAISimulatorApp:
    """Build a scenario and the WSGI app that serves it.

    `management_keys` are the secrets that authenticate: a list (each with every ACL,
    `management-api:*`) or a dict of secret → ACL strings (a key lacking a route's ACL gets a
    403). With none, `DEFAULT_MANAGEMENT_KEY` does, with every ACL. `now` is the clock (epoch
    seconds; default `time.time`); `faults` as in the OpenAI simulator; `mixed_shapes=False`
    sends only the canonical shapes (numbers, `aclStrings`, booleans).
    """
    clock = now or time.time
    acls = _key_acls(management_keys) or {DEFAULT_MANAGEMENT_KEY: (ALL,)}
    store = build(scenario, seed=seed, now=clock, management_keys=acls)
    return XAISimulatorApp(store, faults=faults, now=clock, mixed_shapes=mixed_shapes)
