"""A logging filter that keeps secrets out of log output, whatever logged them."""

from __future__ import annotations

import logging
import re

# Bearer tokens and OpenAI-style keys (sk-..., sk-admin-..., sk-proj-..., sk-svcacct-...).
_SECRET = re.compile(r"(Bearer\s+)?\bsk-[A-Za-z0-9_\-]{8,}")


def redact(text: str) -> str:
    """Replace anything that looks like a key with a marker."""
    return _SECRET.sub("[redacted key]", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message (after formatting its arguments) with keys redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
