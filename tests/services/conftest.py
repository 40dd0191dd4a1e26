"""Fixtures of the service tier."""

from __future__ import annotations

import os

import pytest

from tests.conftest import need_service
from tests.test_celery_worker import _redis_up


@pytest.fixture
def redis_url():
    """The shared Redis (the CI service tier starts it); each test picks its own db numbers."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
    need_service(_redis_up(url), f"Redis is not reachable at {url}")
    return url
