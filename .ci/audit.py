"""`make audit`: pip-audit a lock file, or say in one line why it could not.

pip-audit asks PyPI's JSON API for the known vulnerabilities of each pinned release. Without that
API (no network, or a proxy that serves the package index but not the API) pip-audit would skip
every package and still report "No known vulnerabilities found". So one locked release is asked
first: no usable answer prints "pip-audit: skipped, ..." and exits 0; an answer runs pip-audit
with --strict, where a finding, or a package it could not check, fails.

Usage: python .ci/audit.py requirements-dev.txt
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import requests

RELEASE_URL = "https://pypi.org/pypi/{name}/{version}/json"
TIMEOUT = 15  # seconds, pip-audit's own default
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def first_pin(lock: Path) -> tuple[str, str]:
    """Return the name and version of the first package pinned in a lock file."""
    match = PIN.search(lock.read_text())
    if match is None:
        raise SystemExit(f"{lock}: no pinned package (name==version) to audit")
    return match[1], match[2]


def service_error(url: str) -> str | None:
    """Why the vulnerability API gave no usable answer for a release, or None when it did."""
    host = urlsplit(url).netloc
    try:
        response = requests.get(url, timeout=TIMEOUT)
    except requests.Timeout:
        return f"no answer from {host} within {TIMEOUT} s"
    except requests.RequestException as error:
        reason = error.args[0] if error.args else error
        reason = getattr(reason, "reason", reason) or reason  # urllib3's retry error wraps it
        # Drop urllib3's "HTTPSConnection(host=..., port=...): " before the cause itself.
        return f"cannot reach {host}: {str(reason).split('): ', 1)[-1]}"
    if response.status_code != 200:
        return f"{url} answered HTTP {response.status_code}"
    try:
        response.json()["vulnerabilities"]
    except (ValueError, KeyError, TypeError):
        return f"{url} answered without vulnerability data"
    return None


def main(
    lock: Path, *, probe_url: str | None = None, pip_audit: Sequence[str] | None = None
) -> int:
    """Audit `lock` with pip-audit; exit 0 with a skip line when the service doesn't answer."""
    if probe_url is None:
        name, version = first_pin(lock)
        probe_url = RELEASE_URL.format(name=name, version=version)
    error = service_error(probe_url)
    if error:
        print(f"pip-audit: skipped, the vulnerability service did not answer ({error})")
        return 0
    command = pip_audit or [str(Path(sys.executable).with_name("pip-audit"))]
    flags = ["--vulnerability-service", "pypi", "--strict", "--require-hashes", "--disable-pip"]
    flags += ["--progress-spinner", "off"]
    return subprocess.call([*command, *flags, "--requirement", str(lock)])  # noqa: S603


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.rsplit("Usage: ", 1)[1].strip())
    sys.exit(main(Path(sys.argv[1])))
