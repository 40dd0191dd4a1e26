"""Errors in the shape of the spec's `ErrorResponse`."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error response: an HTTP status and the `{"error": {...}}` body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body, with all four keys the spec requires."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def invalid(param: str, message: str, *, code: str = "invalid_value") -> ApiError:
    """A 400 naming the offending parameter."""
    return ApiError(400, message, param=param, code=code)


def not_found(kind: str, object_id: str, *, param: str | None = None) -> ApiError:
    """A 404 for an id that does not exist."""
    return ApiError(404, f"No such {kind}: '{object_id}'.", param=param, code="not_found")


def conflict(message: str, *, param: str | None = None) -> ApiError:
    """A 400 for a request that the current state does not allow."""
    return ApiError(400, message, param=param, code="invalid_state")
