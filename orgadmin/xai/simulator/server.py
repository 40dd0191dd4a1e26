"""Serve the xAI simulator over HTTP: the OpenAI simulator's threaded server and DEBUG guard."""

from __future__ import annotations

import os
import sys
from typing import Any

from orgadmin.simulator.faults import FaultConfig
from orgadmin.simulator.server import RefusedToServe, make_server, refusal
from orgadmin.xai.simulator.app import DEFAULT_MANAGEMENT_KEY, create_app
from orgadmin.xai.simulator.routing import ALL

DEFAULT_PORT = 8002
KEY_ENV = "XAI_SIMULATOR_MANAGEMENT_KEY"


def configured_port() -> int:
    """`XAI_SIMULATOR_PORT` as this process sees it (the environment, else `.env` under
    Django), else 8002: the simulator (`simulate_xai`) and `demo_setup` read it alike."""
    value = os.environ.get("XAI_SIMULATOR_PORT", "").strip()
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise ValueError(f"XAI_SIMULATOR_PORT must be a port number, not {value!r}.")
    return int(value)


def configured_management_key() -> str:
    """`XAI_SIMULATOR_MANAGEMENT_KEY` as this process sees it ("" when unset)."""
    return os.environ.get(KEY_ENV, "").strip()


def run(
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    scenario: str = "demo",
    seed: int = 0,
    fault_rate: float = 0.0,
    latency_ms: int = 0,
    management_key: str | None = None,
    acls: tuple[str, ...] = (ALL,),
    debug: bool,
    force: bool = False,
    write: Any = print,
    warn: Any = None,
) -> None:
    """Build a scenario and serve it until interrupted (the management command's body).

    The key is `management_key`, else `XAI_SIMULATOR_MANAGEMENT_KEY`, else the public
    `DEFAULT_MANAGEMENT_KEY`, which is refused with `debug` off. With `debug` off the simulator
    refuses to serve unless `force`d (`RefusedToServe`).
    """
    key = management_key or configured_management_key() or DEFAULT_MANAGEMENT_KEY
    reason = refusal(
        debug=debug,
        force=force,
        key=key,
        default_key=DEFAULT_MANAGEMENT_KEY,
        api="xAI Management API",
        key_kind="management key",
        key_source=f"{KEY_ENV} (or --management-key)",
    )
    if reason:
        raise RefusedToServe(reason)
    if not debug:
        (warn or (lambda line: print(line, file=sys.stderr)))(
            "WARNING: serving the xAI Management API simulator with DEBUG off (--force). It "
            "answers like the real API with made-up data: never point a production dashboard at it."
        )
    app = create_app(
        scenario=scenario,
        seed=seed,
        management_keys={key: acls},
        faults=FaultConfig(rate=fault_rate, latency_ms=latency_ms, seed=seed),
    )
    server = make_server(app, host, port)
    bound_host, bound_port = server.server_address[:2]
    write(f"xAI Management API simulator: scenario {scenario!r}, seed {seed}, faults {fault_rate}")
    write(f"Base URL: http://{bound_host}:{bound_port} (team {app.team_id})")
    if key == DEFAULT_MANAGEMENT_KEY:
        write(f"Management key: {key} (set {KEY_ENV} to choose another)")
    else:
        write(f"Management key: the one you gave (--management-key or {KEY_ENV})")
    write(f"Its ACLs: {', '.join(acls)}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
