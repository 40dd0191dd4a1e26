"""Signing in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing a username longer than any account's before it
    authenticates: the lock-out's failure record (django-axes) holds 255 characters, and
    PostgreSQL refuses a longer value with an error instead of a message."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if len(username) > self.username_field.max_length:
            raise self.get_invalid_login_error()
        return super().clean()
