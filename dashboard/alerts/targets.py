"""What a channel URL is: its kind, its mask, and whether it may be used. No Django models here.

Apprise reads every URL (its own schemes, `slack://`, `discord://`, `workflows://`, `mailto://`,
`json://`, and the services' native https URLs such as a Slack or Discord webhook). A plain
`https://` URL Apprise doesn't know is a generic webhook, as are `json://` and `jsons://`; those
are sent by dashboard.alerts.send with a signed body.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

import apprise
from apprise.plugins.custom_json import NotifyJSON
from apprise.plugins.discord import NotifyDiscord
from apprise.plugins.email import NotifyEmail
from apprise.plugins.slack import NotifySlack
from apprise.plugins.workflows import NotifyWorkflows
from django.conf import settings

# Apprise's service → our kind (Channel.Kind's values). Teams is Power Automate's Workflows:
# Microsoft retired the Office 365 connectors behind the old msteams:// URLs.
KINDS: tuple[tuple[type, str], ...] = (
    (NotifySlack, "slack"),
    (NotifyWorkflows, "msteams"),
    (NotifyDiscord, "discord"),
    (NotifyEmail, "email"),
    (NotifyJSON, "webhook"),
)
WEBHOOK_SCHEMES = {"http": "http", "https": "https", "json": "http", "jsons": "https"}
HIDDEN = "…"
# A host worth showing in a mask: a name with a dot, an address, localhost. Slack's and
# Discord's own schemes put a token where the host goes (slack://T0000/…): never shown.
_SHOWN_HOST = re.compile(r"(?:[a-z0-9-]+\.)+[a-z0-9-]+|\[[0-9a-f:]+\]|localhost", re.I)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.I)


class TargetRefused(ValueError):
    """A URL a channel may not use; `message` says why, ready to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Target:
    """A channel URL that may be used: `url` to store (encrypted), `kind`, `masked` to show,
    and for a webhook `webhook_url`, the http(s) URL its signed POST goes to."""

    url: str
    kind: str
    masked: str
    webhook_url: str = ""


def target_of(url: str) -> Target:
    """Read a channel URL; raises TargetRefused saying why it can't be used."""
    url = url.strip()
    if not url or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise TargetRefused(
            "A channel URL is one line without spaces, e.g. slack://… or https://…."
        )
    match = _SCHEME.match(url)
    if match is None:
        raise TargetRefused(
            "A channel URL starts with its service, e.g. slack://…, mailto://… or https://…."
        )
    scheme = match.group(1).lower()
    if scheme == "msteams":
        raise TargetRefused(
            "Microsoft retired the Teams connectors behind msteams:// URLs. In Teams, add the "
            "“Post to a channel when a webhook request is received” workflow and paste its "
            "https://…logic.azure.com/… URL (or workflows://…)."
        )
    # An https URL Apprise doesn't know is a webhook here, not the error Apprise logs.
    quiet = ("Unparseable URL",) if scheme in ("http", "https") else ()
    with apprise_logs_scrubbed(url, quiet=quiet):
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None and scheme in ("http", "https"):
        return _webhook(url, scheme)
    if plugin is None:
        raise TargetRefused(
            f"Apprise can't read this {scheme}:// URL: check it against the service's page on "
            "appriseit.com/services (a token or a part may be missing)."
        )
    kind = next((k for cls, k in KINDS if isinstance(plugin, cls)), None)
    if kind is None:
        raise TargetRefused(
            f"This is a {plugin.service_name} URL. A channel is Slack, Microsoft Teams, Discord, "
            "email (mailto:// or mailtos://) or a webhook (https://…)."
        )
    if kind == "webhook":
        return _webhook(url, scheme)
    return Target(url=url, kind=kind, masked=mask(url))


def webhook_url(url: str) -> str:
    """Where a stored webhook channel's POST goes, checked against today's settings (Apprise is
    not asked again); raises TargetRefused."""
    match = _SCHEME.match(url.strip())
    return _webhook(url.strip(), match.group(1).lower() if match else "").webhook_url


def _webhook(url: str, scheme: str) -> Target:
    """A generic webhook: sent over http(s) by us, so http only to the hosts an operator allows."""
    if scheme not in WEBHOOK_SCHEMES:
        raise TargetRefused("A webhook is an https:// URL.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("This URL's host or port can't be read.") from None
    if not parts.hostname:
        raise TargetRefused("A webhook URL names a host: https://host/path.")
    if parts.fragment:
        raise TargetRefused("A webhook URL can't have a fragment (#…): it is never sent.")
    web_scheme = WEBHOOK_SCHEMES[scheme]
    if web_scheme == "http" and not _plain_http_allowed(parts.hostname, port):
        raise TargetRefused(
            "Use https: over plain http every alert, and its signature, would cross the network "
            "readable by anyone on the way. An operator can allow a host on this network with "
            "ALERT_WEBHOOK_HTTP_HOSTS."
        )
    webhook_url = urlunsplit((web_scheme, parts.netloc, parts.path or "/", parts.query, ""))
    return Target(url=url, kind="webhook", masked=mask(url), webhook_url=webhook_url)


def operator_named(url: str) -> bool:
    """Whether ALERT_WEBHOOK_HTTP_HOSTS names the webhook's host: then it may be reached over
    plain http and on this machine or its network. Every other webhook goes only to public
    addresses, checked as it connects (orgadmin.client.public_transport): a URL a person typed
    must not make the server call itself or its neighbours."""
    try:
        parts = urlsplit(url)
        return bool(parts.hostname) and _plain_http_allowed(parts.hostname, parts.port)
    except ValueError:
        return False


def _plain_http_allowed(host: str, port: int | None) -> bool:
    allowed = {entry.strip().lower() for entry in settings.ALERT_WEBHOOK_HTTP_HOSTS}
    return host.lower() in allowed or (port is not None and f"{host}:{port}".lower() in allowed)


def mask(url: str) -> str:
    """The URL as pages show it: its scheme and host, the rest `…` (`slack://…`,
    `https://hooks.slack.com/…`, `mailto://smtp.example.com:587/…`)."""
    match = _SCHEME.match(url.strip())
    if match is None:
        return HIDDEN
    scheme = match.group(1).lower()
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return f"{scheme}://{HIDDEN}"
    if not _SHOWN_HOST.fullmatch(host):
        return f"{scheme}://{HIDDEN}"
    where = f"[{host}]" if ":" in host else host
    return f"{scheme}://{where}{f':{port}' if port else ''}/{HIDDEN}"


def secret_parts(url: str) -> list[str]:
    """The pieces of a URL that may be secret (user, password, path segments, query values, a
    token in the host's place), as written and decoded, longest first: what `scrub` takes out
    of a text. Pieces shorter than 6 characters are left (they would eat common words), except
    the user and password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    pieces = {url, parts.netloc, parts.path, parts.query}
    pieces |= set(parts.path.split("/"))
    pieces |= {value for _name, value in parse_qsl(parts.query)}
    host = parts.netloc.rpartition("@")[2].split(":")[0]
    if host and not _SHOWN_HOST.fullmatch(host):
        pieces.add(host)
    pieces = {p for p in pieces if len(p) >= 6}
    pieces |= {p for p in (parts.username, parts.password) if p and len(p) >= 3}
    pieces |= {unquote(p) for p in pieces} | {quote(p, safe="") for p in pieces}
    return sorted(pieces, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """`text` with every secret piece of `url` replaced by `…` (an error a service sent back)."""
    for piece in secret_parts(url):
        text = text.replace(piece, HIDDEN)
    return text


class _Scrub(logging.Filter):
    """Takes a channel URL's secret parts out of Apprise's own log lines: it logs a URL it can't
    parse in full (ERROR), and at DEBUG the URL it posts to (a Slack or Discord token)."""

    def __init__(self, url: str, quiet: tuple[str, ...]) -> None:
        super().__init__()
        self.url = url
        self.quiet = quiet

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(self.quiet):
            return False
        record.msg = scrub(message, self.url)
        record.args = None
        return True


@contextmanager
def apprise_logs_scrubbed(url: str, *, quiet: tuple[str, ...] = ()) -> Iterator[None]:
    """While Apprise reads or sends `url`, its log lines lose the URL's secret parts (and
    those starting with one of `quiet` are dropped)."""
    logger = logging.getLogger(apprise.LOGGER_NAME)
    scrubber = _Scrub(url, quiet)
    logger.addFilter(scrubber)
    try:
        yield
    finally:
        logger.removeFilter(scrubber)
