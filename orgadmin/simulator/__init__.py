"""A faithful local implementation of the OpenAI Administration API (`/v1/organization/...`).

Plain Python with no Django: `create_app()` builds a scenario and returns a WSGI app that the
official `openai` SDK can talk to in-process (`httpx.WSGITransport`) or over HTTP
(`orgadmin.simulator.server`).
"""

from __future__ import annotations

from orgadmin.simulator.app import DEFAULT_ADMIN_KEY, SimulatorApp, create_app
from orgadmin.simulator.faults import FaultConfig
from orgadmin.simulator.store import Store

__all__ = ["DEFAULT_ADMIN_KEY", "FaultConfig", "SimulatorApp", "Store", "create_app"]
