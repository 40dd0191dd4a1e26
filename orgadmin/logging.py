"""Keeps secrets out of log output, whatever logged them and in whichever process."""

from __future__ import annotations

import logging
import re

# OpenAI keys (sk-, sk-admin-, sk-proj-, sk-svcacct-) and xAI keys (xai-). Masks such as
# sk-admin-…wxyz are too short to match.
_KEY = re.compile(r"(?<![A-Za-z0-9])(?:sk|xai)-[A-Za-z0-9_\-]{8,}")
# The dashboard's own access tokens (orgadmin/tokens/), wherever they appear: in a URL someone
# pasted one into, in a message. Their mask odt_…abcd is too short to match.
_ACCESS_TOKEN = re.compile(r"(?<![A-Za-z0-9])odt_[A-Za-z0-9_\-]{8,}")
# Whatever token follows "Bearer"; the word stays.
_BEARER = re.compile(r"(?P<scheme>(?:[Bb]earer|BEARER)\s+)[A-Za-z0-9\-._~+/]+=*")
# A URL's password (postgres://user:password@host, redis://:password@host); the user stays.
_URL_PASSWORD = re.compile(r"(?P<user>://[^\s:/@]*:)[^\s@/]+(?=@)")
MARK = "[redacted key]"


def redact(text: str) -> str:
    """Replace anything that looks like a key, a token or a URL's password with a marker."""
    # Each pattern runs only on text that holds its plain marker: a substring test costs a
    # fraction of a regex scan, and most lines hold none.
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(rf"\g<scheme>{MARK}", text)
    if "sk-" in text or "xai-" in text:
        text = _KEY.sub(MARK, text)
    if "odt_" in text:
        text = _ACCESS_TOKEN.sub(MARK, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\g<user>{MARK}", text)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats a record, then redacts the whole text: message, arguments, traceback and stack."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))

    def formatException(self, ei) -> str:
        # format() caches this on the record (exc_text), where other handlers find it.
        return redact(super().formatException(ei))


class RefusedRequestsOneLine(logging.Filter):
    """A refused request (4xx: 400, 403, 404, a CSRF failure, a sign-in limit) is one line: the
    traceback Django attaches to some of them (PermissionDenied, SuspiciousOperation) says
    nothing about our code. Server errors (5xx, or no status) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
