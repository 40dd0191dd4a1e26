"""`python -m orgadmin.xai.simulator`: serve the xAI simulator without Django."""

from __future__ import annotations

import argparse

from orgadmin.simulator.server import RefusedToServe, debug_from_environment
from orgadmin.xai.simulator.routing import ALL, MANAGEMENT_ACLS
from orgadmin.xai.simulator.scenarios import SIZES
from orgadmin.xai.simulator.server import DEFAULT_PORT, run


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve (only with `DEBUG` on in the environment, or --force)."""
    parser = argparse.ArgumentParser(prog="python -m orgadmin.xai.simulator", description=__doc__)
    add_arguments(parser)
    options = parser.parse_args(argv)
    try:
        run(**run_options(vars(options)), debug=debug_from_environment())
    except RefusedToServe as refused:
        parser.exit(2, f"{parser.prog}: {refused}\n")


def run_options(options: dict) -> dict:
    """`run`'s keyword arguments from the parsed options (shared with `simulate_xai`)."""
    return {
        "host": options["host"],
        "port": options["port"],
        "scenario": options["scenario"],
        "seed": options["seed"],
        "fault_rate": options["faults"],
        "latency_ms": options["latency_ms"],
        "management_key": options["management_key"],
        "acls": options["acls"],
        "force": options["force"],
    }


def _acls(value: str) -> tuple[str, ...]:
    acls = tuple(a.strip() for a in value.split(",") if a.strip())
    unknown = [a for a in acls if a not in MANAGEMENT_ACLS]
    if not acls or unknown:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(MANAGEMENT_ACLS)}")
    return acls


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared with the `simulate_xai` management command."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default: 8002")
    parser.add_argument("--scenario", default="demo", choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--faults", type=float, default=0.0, help="fault rate, 0..1")
    parser.add_argument("--latency-ms", type=int, default=0, help="base latency per request")
    parser.add_argument(
        "--management-key",
        default=None,
        help="management key to accept (prefer the XAI_SIMULATOR_MANAGEMENT_KEY variable)",
    )
    parser.add_argument(
        "--acls",
        type=_acls,
        default=(ALL,),
        help="the management key's ACLs, comma-separated (default management-api:*), e.g. "
        "management-api:billing:read to see the 403s of a billing read-only key",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="serve even with DEBUG off (never with the default management key): the simulator "
        "is for the local demo and tests, and refuses to start in production otherwise",
    )


if __name__ == "__main__":
    main()
