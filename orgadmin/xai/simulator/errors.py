"""Errors in the shape the xAI Management API sends them.

*Inferred*: xAI publishes no error schema. The API is a grpc-gateway in front of gRPC services
(the billing proto is the only machine-readable contract), and grpc-gateway answers errors as
`{"code": <gRPC status code>, "message": "...", "details": []}` with a matching HTTP status.
Only the 401 wording ("Invalid bearer token. ...") is documented.
"""

from __future__ import annotations

from typing import Any

# gRPC status codes (google.rpc.Code) and the HTTP status grpc-gateway maps each to.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
UNAUTHENTICATED = 16
HTTP_STATUS = {
    INVALID_ARGUMENT: 400,
    NOT_FOUND: 404,
    PERMISSION_DENIED: 403,
    RESOURCE_EXHAUSTED: 429,
    FAILED_PRECONDITION: 400,
    UNIMPLEMENTED: 405,
    INTERNAL: 500,
    UNAVAILABLE: 503,
    UNAUTHENTICATED: 401,
}
INVALID_BEARER = "Invalid bearer token. Please ensure you use a valid management key."


class XAIError(Exception):
    """An error answer: a gRPC code, its HTTP status, a message and extra headers."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or HTTP_STATUS.get(code, 500)
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The grpc-gateway error body (*inferred*)."""
        return {"code": self.code, "message": self.message, "details": []}


def invalid(message: str) -> XAIError:
    """A 400: the request is malformed."""
    return XAIError(INVALID_ARGUMENT, message)


def not_found(message: str) -> XAIError:
    """A 404: no such object (or no such route)."""
    return XAIError(NOT_FOUND, message)


def denied(message: str) -> XAIError:
    """A 403: the management key may not do this."""
    return XAIError(PERMISSION_DENIED, message)


def unauthenticated() -> XAIError:
    """A 401 with the documented wording."""
    return XAIError(UNAUTHENTICATED, INVALID_BEARER)


def from_fault(status: int, headers: dict[str, str]) -> XAIError:
    """The xAI-shaped answer for a fault that `orgadmin.simulator.faults` decided.

    The fault injector is shared with the OpenAI simulator and raises OpenAI-shaped errors; only
    their status and headers (`Retry-After`) are kept, the body is re-shaped here (*inferred*
    wording: xAI's rate-limit message is not published).
    """
    if status == 429:
        return XAIError(
            RESOURCE_EXHAUSTED,
            "Too many requests: the management API rate limit was reached. Try again later.",
            headers=headers,
        )
    if status == 503:
        return XAIError(UNAVAILABLE, "The service is currently unavailable.", headers=headers)
    return XAIError(INTERNAL, "Internal error. Please try again later.", status=status)
