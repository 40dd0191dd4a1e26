"""Signing in."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm
from django import forms

from orgadmin.accounts.lockout import SIGN_IN_REFUSED

# The lock-out's failure record (django-axes) holds 255 characters, and PostgreSQL refuses a
# longer value with an error instead of a message; no username or email is longer than this.
LONGEST_LOGIN = 254


class SignInForm(LoginForm):
    """allauth's sign-in form (a username or an email, and a password), refusing a login longer
    than any account's before it authenticates."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Username or email"
        self.fields["login"].widget.attrs.update(autocomplete="username", autofocus=True)
        self.fields["login"].widget.attrs.pop("placeholder", None)
        self.fields["password"].help_text = ""
        self.fields["password"].widget.attrs.pop("placeholder", None)

    def clean(self) -> dict[str, Any]:
        if len(self.cleaned_data.get("login") or "") > LONGEST_LOGIN:
            raise forms.ValidationError(SIGN_IN_REFUSED, code="username_password_mismatch")
        return super().clean()
