"""One attempt at sending one message to one channel URL: Apprise for Slack, Teams, Discord and
email, and our own signed POST for generic webhooks. No Django models here; the caller records.

Why webhooks don't go through Apprise's json:// plugin (apprise 2.3, plugins/custom_json.py):
its headers are fixed when the URL is parsed (`+Header=value`), so a signature computed per
message and per attempt (over a fresh timestamp) can't be added; it builds and serialises its
own body ({"version", "title", "message", "attachments", "type"}), so we could neither send our
JSON nor sign exactly the bytes it sends; and it answers True/False, without the HTTP status
each attempt should log. httpx (already ours) does all three in a few lines.

Signing, for receivers: `X-Dashboard-Timestamp: <unix seconds>` and
`X-Dashboard-Signature: sha256=<hex>`, the HMAC-SHA256 with the channel's secret of
`<timestamp>.<raw body>`. A receiver recomputes it over the raw bytes it got, compares in
constant time, and refuses a timestamp more than a few minutes old (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import apprise
import httpx

from dashboard.alerts.targets import apprise_logs_scrubbed, scrub
from orgadmin.client import address_refused

SIGNATURE_HEADER = "X-Dashboard-Signature"
TIMESTAMP_HEADER = "X-Dashboard-Timestamp"
DELIVERY_HEADER = "X-Dashboard-Delivery"
USER_AGENT = "OrgDashboard-Alerts/1"
REFUSED_ADDRESS = (
    "Not sent: the webhook's host resolves to a loopback, private or link-local address. An "
    "operator can allow a receiver on this network with ALERT_WEBHOOK_HTTP_HOSTS."
)
# What an error keeps of a receiver's answer or a service's log lines.
ERROR_LIMIT = 500
_STATUS_IN_LOG = re.compile(r"error=(\d{3})\b")


@dataclass(frozen=True)
class Message:
    """What is sent: the subject and text every kind gets, and the webhook's extra data."""

    delivery_id: int
    subject: str
    body: str
    topic: str = "alert"
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """How one attempt went. `error` never holds the channel's URL or any secret part of it."""

    ok: bool
    error: str = ""
    http_status: int | None = None
    duration_ms: int = 0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` with the channel's secret."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_valid(
    secret: str, *, timestamp: str, body: bytes, signature: str, tolerance: int = 300
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance
    except ValueError:
        return False
    expected = "sha256=" + sign(secret, timestamp, body)
    return fresh and hmac.compare_digest(expected, signature)


def webhook_body(message: Message) -> bytes:
    """The JSON a webhook gets (the same bytes at every attempt of a delivery)."""
    document = {
        "delivery_id": message.delivery_id,
        "topic": message.topic,
        "subject": message.subject,
        "body": message.body,
        "data": message.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True, default=str).encode()


def send_webhook(
    url: str,
    *,
    secret: str,
    message: Message,
    timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> Outcome:
    """POST the signed JSON body to a webhook's http(s) URL; any 2xx is success. Redirects are
    not followed: the signed body goes to the URL that was checked, nowhere else. `transport`
    decides which addresses may be reached (dashboard.alerts.delivery passes a public-only one
    unless an operator named the host)."""
    body = webhook_body(message)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: "sha256=" + sign(secret, timestamp, body),
        DELIVERY_HEADER: str(message.delivery_id),
    }
    started = time.monotonic()
    try:
        with httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
        ) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        if address_refused(exc):
            return Outcome(False, REFUSED_ADDRESS, None, _ms(started))
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return Outcome(False, scrub(error, url)[:ERROR_LIMIT], None, _ms(started))
    if response.is_success:
        return Outcome(True, "", response.status_code, _ms(started))
    answer = response.text.strip().replace("\n", " ")[:200]
    error = f"HTTP {response.status_code} {response.reason_phrase}" + (
        f": {answer}" if answer else ""
    )
    return Outcome(False, scrub(error, url)[:ERROR_LIMIT], response.status_code, _ms(started))


def send_apprise(url: str, *, message: Message) -> Outcome:
    """Send the subject and body through Apprise (Slack, Teams, Discord, email over SMTP)."""
    started = time.monotonic()
    with apprise_logs_scrubbed(url):
        notifier = apprise.Apprise()
        if not notifier.add(url):
            return Outcome(False, "Apprise can no longer read this channel's URL.", None, 0)
        result = notifier.notify(body=message.body, title=message.subject)
    if result:
        return Outcome(True, "", None, _ms(started))
    lines = [
        entry.message
        for service in result
        for entry in service.logs()
        if entry.level in ("WARNING", "ERROR", "CRITICAL")
    ]
    error = " ".join(dict.fromkeys(lines)) or "The service did not accept the message."
    status = _STATUS_IN_LOG.search(error)
    return Outcome(
        False,
        scrub(error, url)[:ERROR_LIMIT],
        int(status.group(1)) if status else None,
        _ms(started),
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
