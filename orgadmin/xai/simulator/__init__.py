"""A faithful local implementation of the xAI Management API (keys, billing, usage, audit).

Plain Python with no Django: `create_app()` builds a seeded scenario and returns a WSGI app that
a client can talk to in-process (`httpx.WSGITransport(app=app)`) or over HTTP
(`manage.py simulate_xai`, `python -m orgadmin.xai.simulator`). `app.store` holds the ground truth
tests compare against (`usage_cents`, `usage_totals`, `secret_valid`, `top_ups`, ...).
"""

from __future__ import annotations

from orgadmin.simulator.faults import FaultConfig
from orgadmin.xai.simulator.app import (
    DEFAULT_MANAGEMENT_KEY,
    TEST_MANAGEMENT_KEY,
    XAISimulatorApp,
    create_app,
)
from orgadmin.xai.simulator.routing import MANAGEMENT_ACLS
from orgadmin.xai.simulator.scenarios import SIZES
from orgadmin.xai.simulator.store import Store

__all__ = [
    "DEFAULT_MANAGEMENT_KEY",
    "MANAGEMENT_ACLS",
    "SIZES",
    "TEST_MANAGEMENT_KEY",
    "FaultConfig",
    "Store",
    "XAISimulatorApp",
    "create_app",
]
