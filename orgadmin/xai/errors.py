"""How the xAI client reads a failure: whether to retry it and after how long, and the
`OrgAPIError` it becomes (the message, the gRPC code, the request id), never showing the key.

xAI publishes no error schema. The API is a grpc-gateway in front of gRPC services, so an error
is taken to be `{"code": <gRPC code>, "message": "…", "details": []}` (*inferred*); an
`{"error": …}` body is read too. Only the 401 wording is documented.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from orgadmin.client import OrgAPIError, address_refused, answer_shown

# All the attempts of one request, and the waits between them, end within this many seconds: a
# Retry-After that would pass it is not waited for, the error says when to try again instead.
RETRY_BUDGET = 90.0
RETRY_STATUSES = frozenset({408, 409, 429})
# google.rpc.Code by number, as grpc-gateway writes it in an error body (*inferred*).
GRPC_CODES = dict(
    enumerate(
        (
            *("cancelled", "unknown", "invalid_argument", "deadline_exceeded", "not_found"),
            *("already_exists", "permission_denied", "resource_exhausted"),
            *("failed_precondition", "aborted", "out_of_range", "unimplemented", "internal"),
            *("unavailable", "data_loss", "unauthenticated"),
        ),
        start=1,
    )
)


class RetryableAnswer(Exception):
    """A 408, 409, 429 or 5xx answer, raised inside an attempt so that stamina may retry it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code} from {response.request.url.path}")
        self.response = response
        self.retry_after = retry_after_of(response)


def should_retry(response: httpx.Response) -> bool:
    status = response.status_code
    return status in RETRY_STATUSES or status >= 500


def retry_after_of(response: httpx.Response) -> float | None:
    """Retry-After in seconds (a number or an HTTP date), or None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def request_id_of(response: httpx.Response) -> str:
    """`x-request-id`, else any header named like a request id (*inferred*: not documented)."""
    found = response.headers.get("x-request-id")
    if found:
        return found
    for name, value in response.headers.items():
        if "request-id" in name.lower() or "requestid" in name.lower():
            return value
    return ""


def retry_hook(*, idempotent: bool, deadline: float) -> Callable[[Exception], bool | float]:
    """stamina's `on=`: whether to retry an attempt's failure, and after how long.

    A float is the wait itself (Retry-After); True is stamina's backoff. A request that creates
    something is retried only when the API can't have acted on it: it was rate limited, or no
    connection was made.
    """

    def retry(exc: Exception) -> bool | float:
        if isinstance(exc, RetryableAnswer):
            if not idempotent and exc.response.status_code != 429:
                return False
            if exc.retry_after is None:
                return True
            # Waiting past the budget would hold the caller longer than it allows: give up,
            # and the error says when to try again.
            return exc.retry_after if exc.retry_after <= deadline - time.monotonic() else False
        if isinstance(exc, httpx.TransportError):
            if address_refused(exc):
                return False
            if not idempotent:
                return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            return isinstance(
                exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError
            )
        return False

    return retry


def answer_error(response: httpx.Response, *, secret: str) -> OrgAPIError:
    """The answer's status, message, gRPC code and request id, ready to show; `secret` (the
    management key) is blanked out should the answer quote it."""
    request, status = response.request, response.status_code
    message, code = "", None
    if answer_shown(request.url):  # else only its status and request id are shown
        message, code = _message_of(response)
    if secret:
        message = message.replace(secret, "[the management key]")
    retry_after = retry_after_of(response)
    if not message:
        message = _fallback_message(status, retry_after)
    elif status == 401:
        message = f"The xAI API rejected the management key: {message}"
    elif status == 429 and retry_after:
        message = f"{message} Try again in {math.ceil(retry_after)} seconds."
    return OrgAPIError(
        message,
        status=status,
        code=code,
        request_id=request_id_of(response),
        method=request.method,
        path=request.url.path,
    )


def transport_error(exc: httpx.TransportError, *, method: str, path: str) -> OrgAPIError:
    """No answer: a timeout, a refused address, or no connection."""
    sent = {"method": method, "path": path}
    if isinstance(exc, httpx.TimeoutException):
        return OrgAPIError("The xAI API did not answer in time. Try again.", code="timeout", **sent)
    if address_refused(exc):
        return OrgAPIError(
            "The API host now resolves to a loopback, private or link-local address; "
            "nothing was sent. ALLOWED_API_HOSTS has to name that address for it to be used.",
            code="base_url_refused",
            **sent,
        )
    return OrgAPIError(
        "Could not reach the xAI API. Check the base URL and the network.",
        code="connection_error",
        **sent,
    )


def bad_answer(response: httpx.Response, detail: str) -> OrgAPIError:
    """An answer that doesn't decode into what the API documents."""
    return OrgAPIError(
        f"Unexpected answer from the xAI API: {detail}",
        status=response.status_code,
        code="bad_answer",
        request_id=request_id_of(response),
        method=response.request.method,
        path=response.request.url.path,
    )


def _message_of(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        return "", None
    if not isinstance(body, dict):
        return "", None
    error = body.get("error")
    if isinstance(error, dict):
        body, error = error, None
    message = body.get("message") or (error if isinstance(error, str) else "")
    code = body.get("code")
    if isinstance(code, int) and not isinstance(code, bool):
        code = GRPC_CODES.get(code, str(code))
    return str(message or "").strip(), (str(code) if code else None)


def _fallback_message(status: int, retry_after: float | None) -> str:
    if status == 429:
        later = f"in {math.ceil(retry_after)} seconds" if retry_after else "in a moment"
        return f"The xAI API is rate limiting us. Try again {later}."
    return {
        401: "The xAI API rejected the management key.",
        403: "The management key is not allowed to do this.",
        404: "Not found: it may have been deleted by someone else.",
    }.get(status, f"The xAI API answered with HTTP {status}.")
