"""Run the FinOps Foundation's focus-validator (in .venv-focus, `make focus-validator`) on a file.

It runs from its package directory (it opens focus_validator/rules/currency_codes.csv by a
relative path), offline (`--block-download`), against the FOCUS 1.2 rules (model 1.2.0.1), and
exits 0 even when rules fail: the result is read from its `Total: … | Fail: N` line and its
`❌ <rule>: FAIL` lines. Outside CI a missing validator (or Python 3.12) skips the test, saying
why; under CI (env CI set) it fails it.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-focus"
VERSION = "1.2.0.1"
SUMMARY = re.compile(r"Total: (\d+) \| Pass: (\d+) \| Fail: (\d+) \| Skipped: (\d+)")
RULE = re.compile(r"^\S+ (\S+-[A-Z]-\d{3}-[A-Z]): (PASS|FAIL|SKIPPED)", re.M)

# focus-validator 2.x checks both branches of InvoiceId's nullability OR (C-003-C) as rules of
# their own, though the model leaves out their conditions: "MUST be null" (C-004-C) and "MUST NOT
# be null" (C-005-C) can't both pass on any row, so every file with an InvoiceId column reports
# one of them. Triaged upstream as a reporting artifact (FOCUS_Spec#2394). It is let through only
# while its OR passes and the other branch does.
ARTIFACT = "InvoiceId-C-004-C"


@dataclass(frozen=True)
class Result:
    total: int
    passed: int
    failed: int
    skipped: int
    statuses: dict[str, str]
    output: str

    @property
    def failures(self) -> list[str]:
        """The failed rules, less the InvoiceId artifact when its OR is satisfied."""
        failed = sorted(r for r, s in self.statuses.items() if s == "FAIL")
        satisfied = (
            self.statuses.get("InvoiceId-C-003-C") == "PASS"
            and self.statuses.get("InvoiceId-C-005-C") == "PASS"
        )
        return [r for r in failed if not (r == ARTIFACT and satisfied)]


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"The FOCUS validator is required under CI: {why}")
    pytest.skip(f"{why} (run `make focus-validator`: it needs Python 3.12)")


def package_dir() -> Path:
    found = sorted(VENV.glob("lib/python3.*/site-packages/focus_validator"))
    if not (VENV / "bin" / "focus-validator").exists() or not found:
        _missing(f"no focus-validator in {VENV.name}/")
    return found[-1].parent


def validate(path: Path) -> Result:
    """The validator's verdict on a FOCUS CSV file."""
    cwd = package_dir()
    done = subprocess.run(
        [
            str(VENV / "bin" / "focus-validator"),
            "--data-file",
            str(path),
            "--block-download",
            "--validate-version",
            VERSION,
            "--show-violations",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    summary = SUMMARY.search(output)
    assert summary, f"the validator printed no summary (exit {done.returncode}):\n{output[-3000:]}"
    total, passed, failed, skipped = map(int, summary.groups())
    statuses = {m.group(1): m.group(2) for m in RULE.finditer(output)}
    return Result(total, passed, failed, skipped, statuses, output)
