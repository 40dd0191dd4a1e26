"""The secrets on disk are private: `.env` (the Fernet keys) is 0600 and `var/` (the SQLite
databases, with the admin keys those keys decrypt) 0700, whatever the umask."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import envfile
from tests.test_settings import ROOT, _settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _umask_022() -> None:
    os.umask(0o022)  # the usual umask, under which a plain `> .env` is world-readable


def _make_setup(cwd: Path) -> subprocess.CompletedProcess:
    """The Makefile's `setup` recipe and the `.env` it needs, in `cwd`: the virtualenv taken as
    installed (`-o`), this interpreter as its Python, and the manage.py steps left out."""
    return subprocess.run(
        [
            "make",
            "-f",
            str(ROOT / "Makefile"),
            "-o",
            ".venv/.runtime",
            f"PY={sys.executable}",
            "MANAGE=true",
            "setup",
        ],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=_umask_022,
        capture_output=True,
        text=True,
        timeout=120,
    )


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@needs_make
def test_it_writes_the_demo_env_and_var_for_their_owner_only(tmp_path):
    result = _make_setup(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _mode(tmp_path / ".env") == 0o600
    assert _mode(tmp_path / "var") == 0o700
    text = (tmp_path / ".env").read_text()
    assert "FIELD_ENCRYPTION_KEYS=" in text
    assert "DEBUG=false" in text  # the demo runs as production does (issue 16)


@needs_make
def test_it_makes_an_env_and_var_left_readable_by_an_earlier_make_private(tmp_path):
    (tmp_path / ".env").write_text("SECRET_KEY=kept\n")
    (tmp_path / ".env").chmod(0o644)
    (tmp_path / "var").mkdir(mode=0o755)
    (tmp_path / "var").chmod(0o755)

    result = _make_setup(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert _mode(tmp_path / ".env") == 0o600
    assert _mode(tmp_path / "var") == 0o700
    assert (tmp_path / ".env").read_text() == "SECRET_KEY=kept\n"  # its secrets stay


def test_it_never_overwrites_an_existing_env(tmp_path, capsys):
    path = tmp_path / ".env"
    path.write_text("FIELD_ENCRYPTION_KEYS=the-only-key-that-decrypts\n")
    assert envfile.main([str(path)]) == 1
    assert path.read_text() == "FIELD_ENCRYPTION_KEYS=the-only-key-that-decrypts\n"
    assert "not overwriting" in capsys.readouterr().err


def test_the_settings_create_var_dir_for_its_owner_only(tmp_path):
    var = tmp_path / "data" / "var"
    old = os.umask(0o022)
    try:
        _settings("VAR_DIR", VAR_DIR=str(var))
    finally:
        os.umask(old)
    assert _mode(var) == 0o700
