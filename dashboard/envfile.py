"""Write a fresh `.env` for the local demo: `python -m dashboard.envfile .env` (what `make` runs).

It holds generated secrets (the Fernet key among them), so it is created readable by its owner
only, written once, and never committed. Without a path, the text goes to standard output.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

from orgadmin.simulator.server import DEFAULT_PORT as SIMULATOR_PORT
from orgadmin.xai.simulator.server import DEFAULT_PORT as XAI_SIMULATOR_PORT


def render() -> str:
    """Return the text of a demo `.env` with newly generated secrets."""
    fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return "\n".join(
        [
            "# Written by `make run` for the local demo. Not for production; never commit it.",
            # The demo runs as production does, DEBUG off: the product's error pages, no
            # technical 404 listing the URL patterns, static files from WhiteNoise.
            "DEBUG=false",
            f"SECRET_KEY={secrets.token_urlsafe(50)}",
            f"FIELD_ENCRYPTION_KEYS={fernet_key}",
            "HTTPS=false",
            # The demo connections reach the simulators over plain http on this machine (with
            # DEBUG off only what is listed here is allowed); Procfile starts them with --force.
            "ALLOWED_API_HOSTS=api.openai.com,management-api.x.ai,"
            f"http://127.0.0.1:{SIMULATOR_PORT},http://127.0.0.1:{XAI_SIMULATOR_PORT}",
            f"SIMULATOR_ADMIN_KEY=sk-admin-{secrets.token_urlsafe(32)}",
            f"XAI_SIMULATOR_MANAGEMENT_KEY=xai-mgmt-{secrets.token_urlsafe(32)}",
            "",
        ]
    )


def write(path: Path) -> None:
    """Create `path` with mode 0600 (whatever the umask) and a fresh demo `.env` in it; an
    existing file is never overwritten, since its key is the only one that decrypts the database.
    """
    # O_EXCL: the mode applies from the first byte, and an existing file makes this fail.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(render())


def main(argv: list[str]) -> int:
    if not argv:
        print(render(), end="")
        return 0
    try:
        write(Path(argv[0]))
    except FileExistsError:
        print(f"{argv[0]} exists already; not overwriting its secrets.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
