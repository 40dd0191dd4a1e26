"""The only place that builds OpenAI SDK clients, and turns their errors into one readable error.

Everything that talks to the Admin API calls `admin_client(org)` and wraps calls in
`api_errors()`. Nothing else knows base URLs, headers or keys.

It also decides where an admin key may go. A base URL names an allowed API host
(`ALLOWED_API_HOSTS`), over https unless `DEBUG` is on or the entry says `http://`, with no
query, fragment or user info, and its host resolves to public addresses only, unless the list
names the address. Forms, services and `org_add` check a URL when it is entered
(`base_url_check`); `admin_client` checks the stored one again before every client it builds,
and the client's connections go only to addresses checked as they connect (`_VettingBackend`),
so a name that resolves elsewhere later (DNS rebinding) reaches nothing.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import httpcore
import httpx
import openai
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from orgadmin.areas import area_of, names_permissions

if TYPE_CHECKING:
    from openai.resources.admin.organization import Organization as OrganizationResource

    from orgadmin.models import Organization

__all__ = [
    "BaseURLRefused",
    "KeyUnreadable",
    "OrgAPIError",
    "address_refused",
    "admin_client",
    "admin_key_well_formed",
    "allowed_api_hosts_check",
    "answer_shown",
    "api_errors",
    "base_url_check",
    "connection_badge",
    "install_transport",
    "request_id_of",
    "usable_key",
    "vetted_http_client",
]


class OrgAPIError(Exception):
    """An Admin API call failed: the status, code, message and request id, ready to show."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id
        self.method = method  # of the request refused, when there was one
        self.path = path

    def __str__(self) -> str:
        parts = [self.message]
        if self.status:
            parts.append(f"HTTP {self.status}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return " · ".join(parts)

    @property
    def permission_denied(self) -> bool:
        """True when the key works but may not do this: a 401 or 403 whose message names
        permissions or scopes ("…insufficient permissions… Missing scopes: …"), as the live API
        answers a restricted or read-only admin key. Other areas may still be allowed."""
        return self.status in (401, 403) and names_permissions(self.message)

    @property
    def writing(self) -> bool:
        """True when the refused request would have changed something (not a GET)."""
        return (self.method or "GET").upper() != "GET"

    @property
    def area(self) -> str | None:
        """The area of the API the refused request was in (see orgadmin.areas), if known."""
        return area_of(self.path) if self.path else None

    @property
    def account_wide(self) -> bool:
        """True when every other request would fail the same way: the key is refused, the
        quota is spent, or the API can't be reached. One endpoint's error is not, nor one area
        the key may not use."""
        if self.permission_denied:
            return False
        return self.status in (401, 403) or self.code in (
            "insufficient_quota",
            "connection_error",
            *_REFUSED_HERE,
        )

    @property
    def retryable(self) -> bool:
        """True for faults worth retrying later: no response, 408/409/429, or a 5xx."""
        if self.code in _REFUSED_HERE:
            return False
        return self.status is None or self.status in (408, 409, 429) or self.status >= 500


class KeyUnreadable(OrgAPIError):
    """The stored admin key can't be decrypted with this server's encryption keys: nothing can
    be sent until someone enters it again, so retrying won't help."""

    def __init__(self) -> None:
        super().__init__(
            "The stored admin key can't be decrypted any more. Re-enter it on Connections.",
            code="key_unreadable",
        )


# Refused here before anything was sent: the base URL, a key no header can carry, or a key
# that can't be decrypted.
_REFUSED_HERE = ("base_url_refused", "key_malformed", "key_unreadable")


# --- where an admin key may go ----------------------------------------------------------------

# The vendors' own APIs: a connection to anything else wears a badge (`connection_badge`).
VENDOR_API_HOSTS = frozenset({"api.openai.com", "management-api.x.ai"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NOT_A_URL = "Enter a full http(s) URL, such as https://api.openai.com/v1."
_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BaseURLRefused(ValueError):
    """A base URL a connection may not use; `message` says why, ready to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _HostEntry:
    host: str  # lower case, IDNA-encoded, no trailing dot; an IPv6 address without brackets
    port: int | None  # None: the scheme's default port
    plain_http: bool  # written `http://host`: http allowed even with DEBUG off
    text: str


@dataclass(frozen=True)
class _Policy:
    hosts: tuple[_HostEntry, ...]
    networks: tuple[_IPNetwork, ...]  # addresses named by the list: private ones allowed


def _policy() -> _Policy:
    entries = list(settings.ALLOWED_API_HOSTS)
    if settings.DEBUG:
        # `make run`'s demo: the built-in simulators, where demo_setup registers them.
        from orgadmin.simulator.server import configured_port
        from orgadmin.xai.simulator.server import configured_port as xai_port

        entries.append(f"http://127.0.0.1:{configured_port()}")
        entries.append(f"http://127.0.0.1:{xai_port()}")
    return _parse_policy(tuple(entries))


@lru_cache(maxsize=16)
def _parse_policy(entries: tuple[str, ...]) -> _Policy:
    hosts: list[_HostEntry] = []
    networks: list[_IPNetwork] = []
    for raw in entries:
        text = raw.strip().lower()
        if not text:
            continue
        if "/" in text and "://" not in text:  # an address range, e.g. 10.20.0.0/16
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ImproperlyConfigured(
                    f"ALLOWED_API_HOSTS: {raw!r} is not an address range."
                ) from None
            continue
        try:
            url = httpx.URL(text if "://" in text else f"https://{text}")
        except httpx.InvalidURL:
            url = None
        if (
            url is None
            or url.scheme not in _DEFAULT_PORTS
            or not url.raw_host
            or url.userinfo
            or url.raw_path != b"/"
            or url.query
            or url.fragment
        ):
            raise ImproperlyConfigured(
                f"ALLOWED_API_HOSTS: {raw!r} is not a host, host:port or address range."
            )
        entry = _HostEntry(_host_of(url), url.port, url.scheme == "http", text)
        hosts.append(entry)
        if (address := _ip(entry.host)) is not None:
            networks.append(ipaddress.ip_network(address))
    return _Policy(tuple(hosts), tuple(networks))


def allowed_api_hosts_check() -> None:
    """Raise ImproperlyConfigured when an entry of ALLOWED_API_HOSTS can't be read."""
    _policy()


def _host_of(url: httpx.URL) -> str:
    return url.raw_host.decode("ascii").lower().rstrip(".")


def _ip(host: str) -> _IPAddress | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _entry_for(policy: _Policy, url: httpx.URL) -> _HostEntry | None:
    host, default = _host_of(url), _DEFAULT_PORTS[url.scheme]
    port = url.port or default
    return next((e for e in policy.hosts if e.host == host and (e.port or default) == port), None)


def _address_allowed(policy: _Policy, address: str) -> bool:
    """Public unicast, or named by ALLOWED_API_HOSTS; never loopback, private, link-local,
    reserved or multicast otherwise."""
    ip = _ip(address.partition("%")[0])  # an IPv6 scope (fe80::1%eth0) is not part of it
    if ip is None:
        return False
    if any(ip in network for network in policy.networks):
        return True
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (an address resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def base_url_check(base_url: str, *, resolve: bool = True) -> str:
    """Return the base URL, without its trailing slash, if a connection may use it.

    Raises `BaseURLRefused` saying why not. `resolve` also looks the host up in DNS (skipped for
    a URL with a mounted transport: nothing of it reaches the network); an address that can't be
    found now is left to the check every connection makes.
    """
    url_text = base_url.strip()
    if "?" in url_text or "#" in url_text:
        raise BaseURLRefused(
            "A base URL can't have a query (?…) or a fragment (#…): the API's paths go after it."
        )
    if "@" in url_text:
        raise BaseURLRefused("A base URL can't carry a user name or password (…@).")
    if not url_text or any(ch.isspace() or not ch.isprintable() or ch == "\\" for ch in url_text):
        raise BaseURLRefused(_NOT_A_URL)
    try:
        url = httpx.URL(url_text)
    except httpx.InvalidURL:
        raise BaseURLRefused(_NOT_A_URL) from None
    if url.scheme not in _DEFAULT_PORTS or not url.raw_host or url.userinfo:
        raise BaseURLRefused(_NOT_A_URL)
    policy = _policy()
    entry = _entry_for(policy, url)
    if entry is None:
        where = url.netloc.decode("ascii")
        allowed = ", ".join(e.text for e in policy.hosts) or "none"
        raise BaseURLRefused(
            f"{where} is not an allowed API host (allowed: {allowed}). To use a gateway or a "
            "simulator, an operator adds it to ALLOWED_API_HOSTS."
        )
    if url.scheme == "http" and not (settings.DEBUG or entry.plain_http):
        raise BaseURLRefused(
            "Use https: over plain http the admin key would cross the network readable by anyone "
            "on the way."
        )
    if resolve and url_text.rstrip("/") not in _transports:
        try:
            addresses = _resolve(_host_of(url), url.port or _DEFAULT_PORTS[url.scheme])
        except OSError:
            addresses = []  # not found now: each connection checks again
        if not all(_address_allowed(policy, a) for a in addresses):
            raise BaseURLRefused(
                f"{_host_of(url)} resolves to a loopback, private or link-local address, which a "
                "connection may reach only when ALLOWED_API_HOSTS names that address."
            )
    return url_text.rstrip("/")


def _request_host_allowed(url: httpx.URL) -> bool:
    return url.scheme in _DEFAULT_PORTS and _entry_for(_policy(), url) is not None


def connection_badge(base_url: str) -> str:
    """The badge of a connection: none for a vendor's own API, "Simulator" for a loopback or
    `.test` host, "Gateway" for any other."""
    try:
        url = httpx.URL(base_url)
        host = _host_of(url)
    except (httpx.InvalidURL, UnicodeDecodeError):
        return "Gateway"
    if host in VENDOR_API_HOSTS:
        return ""
    ip = _ip(host)
    if (
        host == "localhost"
        or host.endswith((".test", ".localhost"))
        or (ip is not None and ip.is_loopback)
    ):
        return "Simulator"
    return "Gateway"


_KEY_CHARACTERS = re.compile(r"[!-~]+")  # visible ASCII: what an HTTP header carries as is


def admin_key_well_formed(key: str) -> bool:
    """True when the key is visible ASCII only: no accent, space, invisible or control character."""
    return _KEY_CHARACTERS.fullmatch(key) is not None


# Transports by base URL: tests mount the in-process simulator here, and a gateway or proxy can
# mount its own transport the same way. Anything not mounted goes over the network.
_transports: dict[str, httpx.BaseTransport] = {}
_transports_lock = threading.Lock()


@contextmanager
def install_transport(base_url: str, transport: httpx.BaseTransport) -> Iterator[None]:
    """Route every client for `base_url` through `transport` while the block runs."""
    key = base_url.rstrip("/")
    with _transports_lock:
        previous = _transports.get(key)
        _transports[key] = transport
    try:
        yield
    finally:
        with _transports_lock:
            if previous is None:
                _transports.pop(key, None)
            else:
                _transports[key] = previous


class _Client(httpx.Client):
    """httpx's client, except that a response read in full lets go of its spent stream.

    httpx holds each response in a reference cycle with its stream (encode/httpx#3733), so the
    body of every page read would wait for the cyclic garbage collector: a dozen pages of
    completions at once, each megabytes, during a usage backfill. Unbound, a page goes as soon as
    its last reference does.
    """

    def send(
        self, request: httpx.Request, *, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        response = super().send(request, stream=stream, **kwargs)
        if not stream:
            response.stream = httpx.ByteStream(b"")  # read and closed: nothing left to stream
        return response


class _AddressRefused(httpcore.ConnectError):
    """The host resolved to an address a connection may not reach; nothing was sent."""


class _VettingBackend(httpcore.SyncBackend):
    """httpcore's sockets, opened only to addresses the policy allows, checked as they connect:
    the address connected to is the one checked, whatever the name resolves to later."""

    def __init__(self, policy: Callable[[], _Policy] | None = None) -> None:
        self._policy = policy or _policy

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        try:
            addresses = _resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        policy = self._policy()
        if not addresses or not all(_address_allowed(policy, a) for a in addresses):
            raise _AddressRefused(f"{host} resolves to an address connections may not reach")
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, *args, **kwargs)
            except httpcore.ConnectError as exc:  # the next address, as socket.create_connection
                error = exc
        raise error or httpcore.ConnectError(host)


class _VettedTransport(httpx.HTTPTransport):
    """httpx's transport over `_VettingBackend`. TLS still checks the host's name, not the
    address's. (A proxy from the environment is httpx's own transport: it resolves the host.)"""

    def __init__(self, policy: Callable[[], _Policy] | None = None) -> None:
        super().__init__()
        # httpx 0.28 takes no network backend; its pool has one, used for every new connection.
        self._pool._network_backend = _VettingBackend(policy)


def public_transport() -> httpx.BaseTransport:
    """A transport that connects only to public unicast addresses, checked as it connects: for
    URLs a person typed (a webhook), which must not reach this machine or its network."""
    policy = _parse_policy(())
    return _VettedTransport(lambda: policy)


def usable_key(org: Organization, *, noun: str = "admin key") -> str:
    """The connection's key, once its stored base URL and key are checked again.

    Raises `OrgAPIError` when the stored base URL or key may not be used (a connection saved
    before they were checked), and its subclass `KeyUnreadable` when the stored key can't be
    decrypted (raised by `Organization.admin_key`). `noun` names the key in the message.
    """
    try:
        base_url_check(org.base_url, resolve=False)  # addresses: checked as each one connects
    except BaseURLRefused as exc:
        raise OrgAPIError(
            f"This connection's base URL is refused: {exc.message} Remove the connection, or "
            "add it again with an allowed URL.",
            code="base_url_refused",
        ) from None
    key = org.admin_key
    if not admin_key_well_formed(key):
        raise OrgAPIError(
            f"The stored {noun} has a character that can't be part of an API key. "
            "Replace the key on Connections.",
            code="key_malformed",
        )
    return key


def vetted_http_client(
    base_url: str, *, timeout: float, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The httpx client every API client is built on: the transport mounted for the base URL
    (`install_transport`) or given, else connections vetted as they connect; no redirect is
    followed. The base URL is the caller's to check first (`usable_key`)."""
    transport = transport or _transports.get(base_url.rstrip("/")) or _VettedTransport()
    return _Client(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
        follow_redirects=False,  # a redirect could lead anywhere: it is an error, never followed
    )


def admin_client(
    org: Organization, *, max_retries: int | None = None, timeout: float | None = None
) -> OrganizationResource:
    """Build the SDK's `admin.organization` resource for a connection.

    Raises `OrgAPIError` when the stored base URL or key may not be used (a connection saved
    before they were checked), and its subclass `KeyUnreadable` when the stored key can't be
    decrypted (raised by `Organization.admin_key`): callers only ever see an `OrgAPIError`.
    """
    admin_key = usable_key(org)
    timeout = settings.OPENAI_TIMEOUT if timeout is None else timeout
    client = openai.OpenAI(
        admin_api_key=admin_key,
        # An empty project key keeps OPENAI_API_KEY from the environment out of our requests.
        api_key="",
        base_url=org.base_url,
        max_retries=settings.OPENAI_MAX_RETRIES if max_retries is None else max_retries,
        timeout=timeout,
        http_client=vetted_http_client(org.base_url, timeout=timeout),
    )
    return client.admin.organization


def request_id_of(obj: Any) -> str:
    """The `x-request-id` of the response an SDK object came from, when the SDK kept it."""
    return getattr(obj, "_request_id", None) or ""


@contextmanager
def api_errors() -> Iterator[None]:
    """Turn any SDK error raised inside the block into an OrgAPIError."""
    try:
        yield
    except openai.APIStatusError as exc:
        raise _from_status_error(exc) from None
    except openai.APITimeoutError:
        raise OrgAPIError(
            "The OpenAI API did not answer in time. Try again.", code="timeout"
        ) from None
    except openai.APIConnectionError as exc:
        if address_refused(exc):
            raise OrgAPIError(
                "The API host now resolves to a loopback, private or link-local address; "
                "nothing was sent. ALLOWED_API_HOSTS has to name that address for it to be used.",
                code="base_url_refused",
            ) from None
        raise OrgAPIError(
            "Could not reach the OpenAI API. Check the base URL and the network.",
            code="connection_error",
        ) from None
    except openai.APIError as exc:  # e.g. a response the SDK could not parse
        raise OrgAPIError(f"Unexpected answer from the OpenAI API: {exc.message}") from None
    except ValueError as exc:
        # The SDK refuses an id that would make a path segment "." or ".." before sending
        # anything (openai/_utils/_path.py). URLs can't carry one (orgadmin/urls.py's api_id);
        # this covers ids from anywhere else.
        if "dot-segment" not in str(exc):
            raise
        raise OrgAPIError(
            "That id is not one the OpenAI API hands out.", code="invalid_id"
        ) from None


def address_refused(exc: BaseException) -> bool:
    """True when a connection error is the vetting's: the host resolved to an address that
    connections may not reach, and nothing was sent."""
    return _caused_by(exc, _AddressRefused)


def answer_shown(url: httpx.URL) -> bool:
    """True when an answer from this URL may be shown: it came from an allowed API host."""
    return _request_host_allowed(url)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _from_status_error(exc: openai.APIStatusError) -> OrgAPIError:
    request_id = exc.request_id or exc.response.headers.get("x-request-id")
    request = exc.response.request
    sent = {"method": request.method, "path": request.url.path}
    if not _request_host_allowed(request.url):
        # Not an allowed API host: its answer is never shown, only its status and request id.
        return OrgAPIError(
            _fallback_message(exc.status_code),
            status=exc.status_code,
            request_id=request_id,
            **sent,
        )
    body = exc.body if isinstance(exc.body, dict) else {}
    # The SDK unwraps {"error": {...}} into body for most errors; accept both shapes.
    error = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
    message = str(error.get("message") or "").strip() or _fallback_message(exc.status_code)
    return OrgAPIError(
        message,
        status=exc.status_code,
        code=error.get("code") or error.get("type"),
        param=error.get("param"),
        request_id=request_id,
        **sent,
    )


def _fallback_message(status: int) -> str:
    return {
        401: "The admin key was rejected.",
        403: "The admin key is not allowed to do this.",
        404: "Not found: it may have been deleted by someone else.",
        429: "The OpenAI API is rate limiting us. Try again in a moment.",
    }.get(status, f"The OpenAI API answered with HTTP {status}.")
