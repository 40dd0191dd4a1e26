"""Print a fresh `.env` for the local demo: `python -m dashboard.envfile > .env`.

It holds generated secrets, so it is written once and never committed.
"""

from __future__ import annotations

import base64
import os
import secrets


def render() -> str:
    """Return the text of a demo `.env` with newly generated secrets."""
    fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return "\n".join(
        [
            "# Written by `make run` for the local demo. Not for production; never commit it.",
            "DEBUG=true",
            f"SECRET_KEY={secrets.token_urlsafe(50)}",
            f"FIELD_ENCRYPTION_KEYS={fernet_key}",
            "HTTPS=false",
            f"SIMULATOR_ADMIN_KEY=sk-admin-{secrets.token_urlsafe(32)}",
            "",
        ]
    )


if __name__ == "__main__":
    print(render(), end="")
