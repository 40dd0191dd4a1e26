"""The README's feature table lists every admin write operation of the spec, each with a test."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from tests.contract.spec_tools import operations

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(
    r"^\| [^|]+ \| `(POST|DELETE) (/organization[^`]*)` \| ([^|]+) \| `([\w.]+)::(\w+)` \|$"
)


def _rows() -> list[tuple[str, str, str, str, str]]:
    text = README.read_text()
    table = text.split("## Features", 1)[1].split("\n## ", 1)[0]
    return [m.groups() for line in table.splitlines() if (m := ROW.match(line))]


def test_it_lists_every_write_operation_of_the_spec_once():
    listed = [(method, path) for method, path, *_ in _rows()]
    spec = [
        (op.method, op.path)
        for op in operations()
        if op.method in ("POST", "DELETE") and op.path.startswith("/organization")
    ]
    assert len(listed) == len(set(listed)), "an operation is listed twice"
    assert sorted(listed) == sorted(spec)


def test_it_names_a_test_that_exists_for_every_row():
    for _method, path, where, module, test in _rows():
        assert where.strip(), path
        tests = importlib.import_module(f"tests.orgadmin.{module.removesuffix('.py')}")
        assert callable(getattr(tests, test, None)), f"{module}::{test} (for {path}) does not exist"
