"""`python -m orgadmin.simulator`: serve the simulator without Django."""

from __future__ import annotations

import argparse

from orgadmin.simulator.quirks import Quirks
from orgadmin.simulator.scenarios.base import SIZES
from orgadmin.simulator.scopes import AREAS, parse_permissions
from orgadmin.simulator.server import RefusedToServe, debug_from_environment, run
from orgadmin.simulator.usage.surges import Surge


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve (only with `DEBUG` on in the environment, or --force)."""
    parser = argparse.ArgumentParser(prog="python -m orgadmin.simulator", description=__doc__)
    add_arguments(parser)
    options = parser.parse_args(argv)
    try:
        run(
            host=options.host,
            port=options.port,
            scenario=options.scenario,
            seed=options.seed,
            fault_rate=options.faults,
            latency_ms=options.latency_ms,
            admin_key=options.admin_key,
            quirks=quirks_of(options.quirks, strict_costs=options.strict_costs),
            key_permissions=options.key_permissions,
            surges=options.spike,
            debug=debug_from_environment(),
            force=options.force,
        )
    except RefusedToServe as refused:
        parser.exit(2, f"{parser.prog}: {refused}\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared with the `simulate_openai` management command."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default: SIMULATOR_PORT, else 8001")
    parser.add_argument("--scenario", default="demo", choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--faults", type=float, default=0.0, help="fault rate, 0..1")
    parser.add_argument("--latency-ms", type=int, default=0, help="base latency per request")
    parser.add_argument(
        "--admin-key",
        default=None,
        help="admin key to accept (prefer the SIMULATOR_ADMIN_KEY environment variable)",
    )
    parser.add_argument(
        "--quirks",
        choices=("live", "none"),
        default="live",
        help="live (the default): what the real API is known to do beyond the spec; "
        "none: the spec's behaviour only (see orgadmin/simulator/README.md)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="serve even with DEBUG off (never with the default admin key): the simulator is "
        "for the local demo and tests, and refuses to start in production otherwise",
    )
    parser.add_argument(
        "--key-permissions",
        type=_permissions,
        default=None,
        metavar="SPEC",
        help="restrict the admin key as OpenAI's restricted keys are: read_only, or "
        "area=none|read|write,… (areas: " + ", ".join(AREAS) + "; the others write), "
        "e.g. audit_log=none,members=read",
    )
    parser.add_argument(
        "--spike",
        type=_spike,
        default=(),
        metavar="FACTORxDAYS",
        help="plant a spike: the busiest API key's usage times FACTOR on the DAYS days ending "
        "yesterday, e.g. 5x3 (the anomaly detector's demo; the scenario's numbers stay as "
        "they are otherwise)",
    )
    parser.add_argument(
        "--strict-costs",
        action="store_true",
        help="the costs endpoint refuses group_by=api_key_id and api_key_ids with a 400, "
        "as some organizations' do",
    )


def _permissions(value: str) -> str:
    try:
        parse_permissions(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _spike(value: str) -> tuple[Surge, ...]:
    factor, _, days = value.lower().partition("x")
    try:
        return (Surge(factor=float(factor), days=int(days or 3)),)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected FACTORxDAYS such as 5x3, not {value!r}"
        ) from None


def quirks_of(choice: str, *, strict_costs: bool = False) -> Quirks:
    """The `Quirks` that `--quirks` and `--strict-costs` ask for."""
    if choice == "live":
        return Quirks.live(strict_costs=strict_costs)
    return Quirks(strict_costs=strict_costs)


if __name__ == "__main__":
    main()
