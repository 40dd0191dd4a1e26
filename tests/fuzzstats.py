"""How many fuzz examples and access-matrix cells ran, reported at the end of the pytest run."""

from __future__ import annotations

import os
from collections import Counter

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
# Examples per URL: pages (query strings) and forms (bodies). `ci` is the service tier's.
_PER_URL = {"dev": (12, 10), "ci": (40, 30)}

ran: Counter[str] = Counter()
matrix_cells = 0  # access-matrix cells answered in this run


def examples(*, get: bool) -> int:
    pages, bodies = _PER_URL.get(PROFILE, _PER_URL["dev"])
    return pages if get else bodies


def count(name: str) -> None:
    ran[name] += 1


def matrix_cell() -> None:
    global matrix_cells
    matrix_cells += 1
