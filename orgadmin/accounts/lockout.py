"""What the lock-out (django-axes) counts failed sign-ins against."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

# What a refused password says, whatever the reason (no such account, a wrong password, or a
# password sign-in that SSO_ONLY turned off): nothing tells which.
SIGN_IN_REFUSED = (
    "Please enter a correct username and password. An email address works in place of the "
    "username; the password is case-sensitive."
)


def username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The name typed into the sign-in form, a username or an email, in lower case: allauth
    finds the account whatever the case, so "Admin" and "admin" are one account to lock."""
    found = None
    if credentials:
        found = credentials.get("username") or credentials.get("email")
    if found is None:
        found = request.POST.get("login")
    return str(found).strip().lower() if found is not None else None
