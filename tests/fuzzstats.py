"""How many fuzz examples and access-matrix cells ran, reported at the end of the pytest run."""

from __future__ import annotations

import os
from collections import Counter
from typing import Literal

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
# Examples per URL: pages (query strings), forms (bodies), and per argument of a URL's path
# (`/members/<user_id>/`), per method. `ci` is the service tier's.
_PER_URL = {
    "dev": {"page": 12, "form": 10, "path": 4},
    "ci": {"page": 40, "form": 30, "path": 20},
}

ran: Counter[str] = Counter()
matrix_cells = 0  # access-matrix cells answered in this run


def examples(kind: Literal["page", "form", "path"]) -> int:
    return _PER_URL.get(PROFILE, _PER_URL["dev"])[kind]


def count(name: str) -> None:
    ran[name] += 1


def matrix_cell() -> None:
    global matrix_cells
    matrix_cells += 1


def dump() -> dict:
    """This process's figures, for the controller of a `pytest -n` run."""
    return {"ran": dict(ran), "matrix_cells": matrix_cells}


def load(figures: dict | None) -> None:
    """Add a worker's figures to this process's."""
    global matrix_cells
    if figures:
        ran.update(figures["ran"])
        matrix_cells += figures["matrix_cells"]
