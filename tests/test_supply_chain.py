"""Every install takes the hashed lock files, they hold what pyproject.toml asks for, and
`make audit` either audits them or says in one line that it could not."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def _lock(name: str) -> dict[str, tuple[str, int]]:
    """A lock file's pins: canonical name -> (version, number of hashes)."""
    text = re.sub(r"\\\n", " ", (ROOT / name).read_text())
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("--") else ""
        if not line:
            continue
        requirement = Requirement(HASH.sub("", line).strip())
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{name}: {line} is not pinned with =="
        pins[canonicalize_name(requirement.name)] = (spec.version, len(HASH.findall(line)))
    return pins


def _asked(*groups: str) -> list[Requirement]:
    asked = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["build-system"]["requires"]]
    for group in groups:
        asked += PYPROJECT["dependency-groups"][group]
    return [Requirement(line) for line in asked]


@pytest.mark.parametrize(
    ("lock", "groups"),
    [("requirements.txt", ("install",)), ("requirements-dev.txt", ("install", "dev"))],
)
def test_it_pins_everything_pyproject_asks_for_with_hashes(lock, groups):
    pins = _lock(lock)
    for requirement in _asked(*groups):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock} does not pin {requirement}: run make lock"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside pyproject.toml's {requirement}: run make lock"
        )
    unhashed = [name for name, (_, hashes) in pins.items() if not hashes]
    assert not unhashed, f"{lock} has no hash for {unhashed}"


def test_it_tests_the_versions_that_ship():
    runtime, dev = _lock("requirements.txt"), _lock("requirements-dev.txt")
    differ = {name: (v, dev.get(name, (None,))[0]) for name, (v, _) in runtime.items()}
    assert {n: vs for n, vs in differ.items() if vs[0] != vs[1]} == {}


def test_it_installs_nothing_but_the_lock_and_the_project_itself():
    installs = []
    for name in ("Makefile", "Dockerfile", ".ci/run"):
        text = re.sub(r"\\\n", " ", (ROOT / name).read_text())
        installs += [line for line in text.splitlines() if re.search(r"pip(3)? install", line)]
    assert installs
    for line in installs:
        for command in re.split(r"&&|;", line):
            if re.search(r"pip(3)? install", command):
                assert "--require-hashes" in command or "--no-deps" in command, command


def _make_dry_run(tmp_path: Path, *changed: str) -> str:
    """What `make .venv/.dev` would run in an installed copy once the files `changed` change."""
    for name in ("Makefile", "pyproject.toml", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
        os.utime(tmp_path / name, (1_000_000, 1_000_000))
    for name in (".venv/bin/python", ".venv/.runtime", ".venv/.dev"):  # installed after them
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    what_if = [arg for name in changed for arg in ("--what-if", name)]
    return subprocess.run(
        ["make", "--dry-run", *what_if, ".venv/.dev"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_it_reinstalls_when_a_lock_changes(tmp_path):
    assert "pip install" not in _make_dry_run(tmp_path)

    runtime_changed = _make_dry_run(tmp_path, "requirements.txt")
    assert "--require-hashes --only-binary :all: -r requirements.txt" in runtime_changed
    assert "--require-hashes --only-binary :all: -r requirements-dev.txt" in runtime_changed

    dev_changed = _make_dry_run(tmp_path, "requirements-dev.txt")
    assert "--require-hashes --only-binary :all: -r requirements-dev.txt" in dev_changed
    assert "-r requirements.txt" not in dev_changed


# --- make audit ------------------------------------------------------------------


@pytest.fixture
def audit():
    """.ci/audit.py, the script behind `make audit`."""
    spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def service():
    """A stand-in for PyPI's JSON API: set `.status` and `.body`; `.paths` records the asks."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            server.paths.append(self.path)
            body = json.dumps(server.body).encode()
            self.send_response(server.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.status, server.body, server.paths = 200, {"info": {}, "vulnerabilities": []}, []
    server.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _fake_pip_audit(tmp_path: Path, *, output: str, exit_code: int) -> list[str]:
    """A pip-audit that records its arguments, prints `output` and exits with `exit_code`."""
    code = (
        "import json, sys; "
        f"open({str(tmp_path / 'argv.json')!r}, 'w').write(json.dumps(sys.argv[1:])); "
        f"print({output!r}); sys.exit({exit_code})"
    )
    return [sys.executable, "-c", code]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_skips_the_audit_saying_why_when_the_service_cannot_be_reached(audit, tmp_path, capsys):
    never = _fake_pip_audit(tmp_path, output="", exit_code=3)
    url = f"http://127.0.0.1:{_closed_port()}/pypi/django/5.2.19/json"

    exit_code = audit.main(ROOT / "requirements-dev.txt", probe_url=url, pip_audit=never)

    line = capsys.readouterr().out.strip()
    assert exit_code == 0
    assert line.startswith("pip-audit: skipped, the vulnerability service did not answer (")
    assert "Connection refused" in line
    assert not (tmp_path / "argv.json").exists()


def test_it_skips_the_audit_when_only_the_package_index_answers(audit, service, tmp_path, capsys):
    # As behind a proxy that serves pip's index but not the JSON API: plain pip-audit would skip
    # every package and still print "No known vulnerabilities found".
    service.status, service.body = 404, {"message": "Not Found"}
    never = _fake_pip_audit(tmp_path, output="", exit_code=3)

    exit_code = audit.main(ROOT / "requirements-dev.txt", probe_url=service.url, pip_audit=never)

    line = capsys.readouterr().out.strip()
    assert exit_code == 0
    assert line == (
        "pip-audit: skipped, the vulnerability service did not answer "
        f"({service.url} answered HTTP 404)"
    )
    assert not (tmp_path / "argv.json").exists()


def test_it_fails_on_a_finding_when_the_service_answers(
    audit, service, tmp_path, monkeypatch, capfd
):
    monkeypatch.setattr(audit, "RELEASE_URL", service.url + "/pypi/{name}/{version}/json")
    lock = tmp_path / "requirements.txt"
    lock.write_text("django==4.2.1 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    finding = "django 4.2.1 PYSEC-2023-100 4.2.2"
    pip_audit = _fake_pip_audit(tmp_path, output=finding, exit_code=1)

    exit_code = audit.main(lock, pip_audit=pip_audit)

    assert exit_code == 1
    assert finding in capfd.readouterr().out
    assert service.paths == ["/pypi/django/4.2.1/json"]
    argv = json.loads((tmp_path / "argv.json").read_text())
    assert "--strict" in argv  # a package it could not check fails too, instead of passing
    assert argv[-2:] == ["--requirement", str(lock)]


def test_it_passes_a_clean_audit(audit, service, tmp_path):
    clean = _fake_pip_audit(tmp_path, output="No known vulnerabilities found", exit_code=0)

    exit_code = audit.main(ROOT / "requirements-dev.txt", probe_url=service.url, pip_audit=clean)

    assert exit_code == 0
    assert (tmp_path / "argv.json").exists()
