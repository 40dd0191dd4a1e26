"""Access tokens: a person's token made the way the page makes it, and a client that sends it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from orgadmin.tokens import services


@pytest.fixture
def token_for(db) -> Callable[..., str]:
    """`token_for(user, name=..., days=...)`: a new token of `user`, the secret itself."""

    def make(user, *, name: str = "Power BI", days: int = 30) -> str:
        return services.token_create(user=user, name=name, days=days)[1]

    return make


@pytest.fixture
def bearer() -> Callable[[str], Client]:
    """`bearer(secret)`: a client with no session that sends `Authorization: Bearer <secret>`."""

    def make(secret: str) -> Client:
        return Client(headers={"Authorization": f"Bearer {secret}"})

    return make
