"""The WSGI application: routing, authentication, parsing, errors, request ids and faults."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from orgadmin.simulator import endpoints, scopes  # noqa: F401 - registers the routes
from orgadmin.simulator.audit import Actor
from orgadmin.simulator.errors import ApiError, invalid
from orgadmin.simulator.faults import ConnectionDropped, FaultConfig, FaultInjector, GatewayError
from orgadmin.simulator.params import parse_query, validate_body
from orgadmin.simulator.quirks import Quirks
from orgadmin.simulator.routing import ROUTES, Ctx, RawJSON, Route
from orgadmin.simulator.scenarios.base import HISTORY_DAYS
from orgadmin.simulator.scenarios.builder import build
from orgadmin.simulator.store import Store
from orgadmin.simulator.usage.surges import Surge, surge_apply

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
DEFAULT_ADMIN_KEY = "sk-admin-simulator-local-key"


class SimulatorApp:
    """A WSGI callable serving the OpenAI Administration API under `/v1/organization`."""

    def __init__(self, store: Store, *, faults: FaultConfig, now: Callable[[], float]) -> None:
        self.store = store
        self.now = now
        store.clock = now
        self._injector = FaultInjector(faults)
        self._request_rng = random.Random(f"requests:{store.scenario}:{store.seed}")
        self._request_lock = threading.Lock()
        self._routes: dict[str, list[Route]] = {}
        self.surges: tuple[Surge, ...] = ()  # as planted by create_app, their keys filled in
        for r in sorted(ROUTES, key=lambda r: -r.literal_segments):
            self._routes.setdefault(r.method, []).append(r)

    @property
    def faults(self) -> FaultConfig:
        """The live fault configuration; assign a new one or mutate it mid-run."""
        return self._injector.config

    @faults.setter
    def faults(self, config: FaultConfig) -> None:
        self._injector = FaultInjector(config)

    @property
    def quirks(self) -> Quirks:
        """The live-API behaviours on (see `orgadmin.simulator.quirks`); mutable mid-run."""
        return self.store.quirks

    @quirks.setter
    def quirks(self, quirks: Quirks) -> None:
        self.store.quirks = quirks

    @property
    def fault_counts(self) -> dict[str, int]:
        """How many faults of each kind were injected so far."""
        return dict(self._injector.counts)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = self._request_id()
        content_type = "application/json"
        extra: dict[str, str] = {}
        try:
            self._injector.apply()
            status, payload = self._dispatch(environ)
        except ConnectionDropped:
            raise
        except GatewayError as exc:
            status, payload, content_type = exc.status, exc.html, "text/html"
        except ApiError as exc:
            status, payload, extra = exc.status, _dumps(exc.body()), exc.headers
        except Exception:
            log.exception("simulator: unhandled error (request %s)", request_id)
            error = ApiError(
                500,
                "The server had an error while processing your request. Sorry about that!",
                type="server_error",
            )
            status, payload = 500, _dumps(error.body())
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        headers = [
            ("content-type", content_type),
            ("content-length", str(len(payload))),
            ("x-request-id", request_id),
            ("openai-processing-ms", str(elapsed_ms)),
            ("openai-version", "2020-10-01"),
            *extra.items(),
        ]
        start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
        return [payload]

    # --- internals -----------------------------------------------------------------------------

    def _request_id(self) -> str:
        with self._request_lock:
            return f"req_{self._request_rng.getrandbits(128):032x}"

    def _dispatch(self, environ: dict[str, Any]) -> tuple[int, bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        full_path = environ.get("PATH_INFO", "") or "/"
        now = int(self.now())
        admin_key = self._authenticate(environ, now)
        found = self._match(method, full_path)
        if found is None:
            raise ApiError(404, f"Invalid URL ({method} {full_path})")
        route, path_params = found
        # As the live API: a key's scopes are checked before the request is parsed or the
        # path's ids are looked up, so a key that lacks them is refused whatever the ids.
        scopes.check(admin_key.permissions, method, route.template)
        pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        query = parse_query(pairs, route.query)
        body = self._read_body(environ, route)
        owner = self.store.users.get(admin_key.owner_user_id)
        actor = Actor(
            "api_key",
            user_id=admin_key.owner_user_id,
            email=owner.email if owner else None,
            key_id=admin_key.id,
        )
        ctx = Ctx(self.store, now, path_params, query, body, admin_key, actor)
        if route.locked:
            with self.store.lock:
                result = route.handler(ctx)
        else:
            result = route.handler(ctx)
        if isinstance(result, RawJSON):
            return 200, result.payload
        return 200, _dumps(result)

    def _match(self, method: str, full_path: str) -> tuple[Route, dict[str, str]] | None:
        if not full_path.startswith("/v1/"):
            return None
        path = full_path[3:].rstrip("/") or "/"
        for candidate in self._routes.get(method, ()):
            found = candidate.regex.match(path)
            if found:
                return candidate, found.groupdict()
        return None

    def _authenticate(self, environ: dict[str, Any], now: int) -> Any:
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        key = self.store.authenticate(token, now)
        if key is None:
            shown = f"{token[:8]}***{token[-4:]}" if len(token) > 12 else "***"
            raise ApiError(
                401,
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        return key

    def _read_body(self, environ: dict[str, Any], route: Route) -> dict[str, Any]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        if route.body is None:
            return {}  # the operation takes no body; like the real API, ignore one
        if not raw:  # whitespace is a body, and not JSON (schemathesis sent "\t")
            if route.body_optional or not route.body.get("required"):
                return {}
            raise invalid("body", "The request body is missing; it must be a JSON object.")
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise invalid(
                "body",
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly.)",
                code="invalid_json",
            ) from exc
        return validate_body(parsed, route.body)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def create_app(
    *,
    scenario: str = "demo",
    seed: int = 0,
    admin_keys: Iterable[str] = (),
    faults: FaultConfig | None = None,
    now: Callable[[], float] | None = None,
    quirks: Quirks | None = None,
    key_permissions: Mapping[str, str | Mapping[str, str]] | None = None,
    surges: Sequence[Surge] = (),
) -> SimulatorApp:
    """Build a scenario and the WSGI app that serves it.

    `admin_keys` are the secret values that authenticate (each becomes an admin API key of the
    organization); with none, `DEFAULT_ADMIN_KEY` does. Keys created through the API
    authenticate too, and deleting a key revokes it. `key_permissions` restricts keys by value
    ("read_only", "audit_log=none,members=read" or a dict: see `scopes.parse_permissions`); a
    value not in `admin_keys` becomes a key of its own. `quirks` turns on live-API behaviours
    beyond the spec (none by default); `app.quirks` changes them mid-run. `surges` plant extra
    usage on a key (a spike ending yesterday, a weekly job: `usage.surges`); `app.surges` says
    which key each one hit.
    """
    clock = now or time.time
    store = build(
        scenario, seed=seed, now=clock, admin_keys=tuple(admin_keys) or (DEFAULT_ADMIN_KEY,)
    )
    for value, spec in (key_permissions or {}).items():
        permissions = scopes.parse_permissions(spec)
        key = next((k for k in store.admin_keys.values() if k.value == value), None)
        if key is None:
            store.admin_key_add(value, permissions=permissions)
        else:
            key.permissions = permissions
    store.quirks = quirks or Quirks()
    app = SimulatorApp(store, faults=faults or FaultConfig(), now=clock)
    app.surges = tuple(surge_apply(store, surge, history_days=HISTORY_DAYS) for surge in surges)
    return app
