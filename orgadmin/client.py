"""The only place that builds OpenAI SDK clients, and turns their errors into one readable error.

Everything that talks to the Admin API calls `admin_client(org)` and wraps calls in
`api_errors()`. Nothing else knows base URLs, headers or keys.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import openai
from django.conf import settings

if TYPE_CHECKING:
    from openai.resources.admin.organization import Organization as OrganizationResource

    from orgadmin.models import Organization

__all__ = ["OrgAPIError", "admin_client", "api_errors", "install_transport", "request_id_of"]


class OrgAPIError(Exception):
    """An Admin API call failed: the status, code, message and request id, ready to show."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.status:
            parts.append(f"HTTP {self.status}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return " · ".join(parts)

    @property
    def account_wide(self) -> bool:
        """True when every other request would fail the same way: the key is refused, the
        quota is spent, or the API can't be reached. One endpoint's error is not."""
        return (
            self.status in (401, 403)
            or self.code == "insufficient_quota"
            or self.code == "connection_error"
        )

    @property
    def retryable(self) -> bool:
        """True for faults worth retrying later: no response, 408/409/429, or a 5xx."""
        return self.status is None or self.status in (408, 409, 429) or self.status >= 500


# Transports by base URL: tests mount the in-process simulator here, and a gateway or proxy can
# mount its own transport the same way. Anything not mounted goes over the network.
_transports: dict[str, httpx.BaseTransport] = {}
_transports_lock = threading.Lock()


@contextmanager
def install_transport(base_url: str, transport: httpx.BaseTransport) -> Iterator[None]:
    """Route every client for `base_url` through `transport` while the block runs."""
    key = base_url.rstrip("/")
    with _transports_lock:
        previous = _transports.get(key)
        _transports[key] = transport
    try:
        yield
    finally:
        with _transports_lock:
            if previous is None:
                _transports.pop(key, None)
            else:
                _transports[key] = previous


class _Client(httpx.Client):
    """httpx's client, except that a response read in full lets go of its spent stream.

    httpx holds each response in a reference cycle with its stream (encode/httpx#3733), so the
    body of every page read would wait for the cyclic garbage collector: a dozen pages of
    completions at once, each megabytes, during a usage backfill. Unbound, a page goes as soon as
    its last reference does.
    """

    def send(
        self, request: httpx.Request, *, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        response = super().send(request, stream=stream, **kwargs)
        if not stream:
            response.stream = httpx.ByteStream(b"")  # read and closed: nothing left to stream
        return response


def admin_client(
    org: Organization, *, max_retries: int | None = None, timeout: float | None = None
) -> OrganizationResource:
    """Build the SDK's `admin.organization` resource for a connection.

    Raises `KeyUnreadable` when the stored key can't be decrypted.
    """
    timeout = settings.OPENAI_TIMEOUT if timeout is None else timeout
    transport = _transports.get(org.base_url.rstrip("/"))
    http_client = _Client(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
        follow_redirects=False,
    )
    client = openai.OpenAI(
        admin_api_key=org.admin_key,
        # An empty project key keeps OPENAI_API_KEY from the environment out of our requests.
        api_key="",
        base_url=org.base_url,
        max_retries=settings.OPENAI_MAX_RETRIES if max_retries is None else max_retries,
        timeout=timeout,
        http_client=http_client,
    )
    return client.admin.organization


def request_id_of(obj: Any) -> str:
    """The `x-request-id` of the response an SDK object came from, when the SDK kept it."""
    return getattr(obj, "_request_id", None) or ""


@contextmanager
def api_errors() -> Iterator[None]:
    """Turn any SDK error raised inside the block into an OrgAPIError."""
    try:
        yield
    except openai.APIStatusError as exc:
        raise _from_status_error(exc) from None
    except openai.APITimeoutError:
        raise OrgAPIError(
            "The OpenAI API did not answer in time. Try again.", code="timeout"
        ) from None
    except openai.APIConnectionError:
        raise OrgAPIError(
            "Could not reach the OpenAI API. Check the base URL and the network.",
            code="connection_error",
        ) from None
    except openai.APIError as exc:  # e.g. a response the SDK could not parse
        raise OrgAPIError(f"Unexpected answer from the OpenAI API: {exc.message}") from None


def _from_status_error(exc: openai.APIStatusError) -> OrgAPIError:
    body = exc.body if isinstance(exc.body, dict) else {}
    # The SDK unwraps {"error": {...}} into body for most errors; accept both shapes.
    error = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    message = str(error.get("message") or "").strip() or _fallback_message(exc.status_code)
    return OrgAPIError(
        message,
        status=exc.status_code,
        code=error.get("code") or error.get("type"),
        param=error.get("param"),
        request_id=exc.request_id or exc.response.headers.get("x-request-id"),
    )


def _fallback_message(status: int) -> str:
    return {
        401: "The admin key was rejected.",
        403: "The admin key is not allowed to do this.",
        404: "Not found: it may have been deleted by someone else.",
        429: "The OpenAI API is rate limiting us. Try again in a moment.",
    }.get(status, f"The OpenAI API answered with HTTP {status}.")
