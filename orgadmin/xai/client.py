"""The only place that talks to xAI's Management API, and turns its failures into `OrgAPIError`.

`xai_client(org)` builds an `XAIClient` for a connection the way `orgadmin.client.admin_client`
builds OpenAI's: the stored base URL checked again, the management key well formed, the
simulator's transport when one is mounted (`install_transport`), else connections vetted as they
connect. There is no SDK for this API: requests are httpx, answers decode into the structs of
`orgadmin.xai.types`, and retries are stamina's: 429, 408, 409, 5xx, timeouts and lost
connections, `Retry-After` honoured, bounded in attempts and in time. A request that creates
something (a key, a rotation) is retried only when the API can't have acted on it (no
connection, a 429), so a retry never makes a second key. There is no top-up: the dashboard never
buys credits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import msgspec
import stamina
from django.conf import settings

from orgadmin.client import OrgAPIError, usable_key, vetted_http_client
from orgadmin.xai.errors import (
    RETRY_BUDGET,
    RetryableAnswer,
    answer_error,
    bad_answer,
    request_id_of,
    retry_hook,
    should_retry,
    transport_error,
)
from orgadmin.xai.types import (
    ApiKey,
    ApiKeyPage,
    AuditEvent,
    AuditPage,
    BillingInfo,
    BillingInfoAnswer,
    EndpointAcl,
    Invoice,
    InvoiceList,
    InvoicePreview,
    ManagementKey,
    NewApiKey,
    PrepaidBalance,
    Propagation,
    RawAuditPage,
    SpendingLimits,
    SpendingLimitsAnswer,
    TeamModel,
    UsageAnswer,
    decode,
)

if TYPE_CHECKING:
    from orgadmin.models import Organization

__all__ = ["XAIClient", "xai_client"]

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 4


def _segment(value: str) -> str:
    """An id as one path segment: "/" and the rest escaped, "." and ".." refused."""
    if not value or value in (".", ".."):
        raise OrgAPIError("That id is not one the xAI API hands out.", code="invalid_id")
    return quote(value, safe="")


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _wire_value(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return _rfc3339(value)
    if name == "tpm" and value is not None:
        return str(int(value))  # documented: tpm travels as a string
    return value


class XAIClient:
    """xAI's Management API for one management key. A context manager: it closes its connections."""

    def __init__(
        self,
        base_url: str,
        management_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max(1, int(max_attempts))
        self.last_request_id = ""
        self._key = management_key
        self._http = vetted_http_client(self.base_url, timeout=timeout, transport=transport)
        self._http.headers["Authorization"] = f"Bearer {management_key}"
        self._http.headers["Accept"] = "application/json"

    def __repr__(self) -> str:
        return f"<XAIClient {self.base_url}>"  # never the key

    def __enter__(self) -> XAIClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- the management key ----------------------------------------------------------------------

    def validate_key(self) -> ManagementKey:
        """Describe the management key itself: its scope (`scope_id` is the team id) and ACLs."""
        return self._get("/auth/management-keys/validation", ManagementKey)

    # --- API keys --------------------------------------------------------------------------------

    def list_api_keys(
        self, team_id: str, *, active_only: bool = False, page_size: int = 100
    ) -> list[ApiKey]:
        """Every API key of the team, following `paginationToken` to the last page."""
        path = f"/auth/teams/{_segment(team_id)}/api-keys"
        params: dict[str, Any] = {"pageSize": page_size}
        if active_only:
            params["activeOnly"] = "true"
        keys: list[ApiKey] = []
        for page in self._pages(path, ApiKeyPage, params, cursor_param="paginationToken"):
            keys.extend(page.api_keys)
        return keys

    def create_api_key(
        self,
        team_id: str,
        *,
        name: str,
        acls: list[str],
        qps: int | None = None,
        qpm: int | None = None,
        tpm: int | None = None,
        expire_time: datetime | None = None,
    ) -> NewApiKey:
        """Create a key; its secret (`.api_key`) is in this answer only."""
        body: dict[str, Any] = {"name": name, "acls": list(acls)}
        limits = {"qps": qps, "qpm": qpm, "tpm": tpm, "expireTime": expire_time}
        body.update({k: _wire_value(k, v) for k, v in limits.items() if v is not None})
        path = f"/auth/teams/{_segment(team_id)}/api-keys"
        return self._call("POST", path, NewApiKey, json=body, idempotent=False)

    def update_api_key(self, api_key_id: str, changes: dict[str, Any]) -> ApiKey:
        """Change exactly the given fields (snake_case or camelCase names; `acls` is the key's
        `aclStrings`): the field mask names them, `tpm` travels as a string."""
        fields: dict[str, Any] = {}
        for name, value in changes.items():
            wire = _camel(name)
            wire = "aclStrings" if wire == "acls" else wire
            fields[wire] = _wire_value(wire, value)
        if not fields:
            raise ValueError("update_api_key needs at least one change")
        body = {"apiKey": fields, "fieldMask": ",".join(fields)}
        return self._call("PUT", f"/auth/api-keys/{_segment(api_key_id)}", ApiKey, json=body)

    def set_api_key_disabled(self, api_key_id: str, disabled: bool) -> ApiKey:
        """Disable or enable a key (`disabled` with the mask `disabled`, *inferred*)."""
        return self.update_api_key(api_key_id, {"disabled": bool(disabled)})

    def rotate_api_key(
        self, api_key_id: str, *, old_secret_expire_time: datetime | None = None
    ) -> NewApiKey:
        """A new secret, shown once; the old one works until `old_secret_expire_time` (the API's
        default: 24 hours)."""
        body: dict[str, str] = {}
        if old_secret_expire_time is not None:
            body["oldSecretExpireTime"] = _rfc3339(old_secret_expire_time)
        path = f"/auth/api-keys/{_segment(api_key_id)}/rotate"
        return self._call("POST", path, NewApiKey, json=body, idempotent=False)

    def delete_api_key(self, api_key_id: str) -> None:
        """Delete a key for good."""
        self._request("DELETE", f"/auth/api-keys/{_segment(api_key_id)}")

    def key_propagation(self, api_key_id: str) -> dict[str, bool]:
        """Whether the key is live in each inference cluster, by cluster host."""
        path = f"/auth/api-keys/{_segment(api_key_id)}/propagation"
        return self._get(path, Propagation).ic_propagation

    def list_models(self, team_id: str) -> list[TeamModel]:
        """The models the team may use."""
        response = self._request("GET", f"/auth/teams/{_segment(team_id)}/models")
        return self._list_of(response, TeamModel, ("models", "languageModels"))

    def list_endpoints(self, team_id: str) -> list[EndpointAcl]:
        """The ACLs a key of the team can be granted."""
        response = self._request("GET", f"/auth/teams/{_segment(team_id)}/endpoints")
        return self._list_of(response, EndpointAcl, ("endpoints", "endpointAcls", "acls"))

    # --- billing ---------------------------------------------------------------------------------

    def _billing(self, team_id: str, rest: str) -> str:
        return f"/v1/billing/teams/{_segment(team_id)}/{rest}"

    def billing_info(self, team_id: str) -> BillingInfo:
        """The team's billing name, address, email and tax id."""
        response = self._request("GET", self._billing(team_id, "billing-info"))
        answer = self._decode(response, BillingInfoAnswer)
        info = answer.billing_info or self._decode(response, BillingInfo)
        info.request_id = self.last_request_id
        return info

    def invoices(
        self,
        team_id: str,
        *,
        since: tuple[int, int] | None = None,
        billing_cycle: tuple[int, int] | None = None,
    ) -> list[Invoice]:
        """The team's invoices: all, those since (year, month), or one billing cycle's."""
        params: dict[str, int] = {}
        for name, cycle in (("since", since), ("billingCycle", billing_cycle)):
            if cycle is not None:
                params[f"{name}.year"], params[f"{name}.month"] = cycle
        return self._get(self._billing(team_id, "invoices"), InvoiceList, params).invoices

    def invoice_preview(self, team_id: str) -> InvoicePreview:
        """The month so far: its lines, VAT, prepaid credits used and the spending limit."""
        return self._get(self._billing(team_id, "postpaid/invoice/preview"), InvoicePreview)

    def spending_limits(self, team_id: str) -> SpendingLimits:
        """The team's hard and soft spending limits."""
        response = self._request("GET", self._billing(team_id, "postpaid/spending-limits"))
        return self._limits(response)

    def set_soft_spending_limit(self, team_id: str, cents: int) -> SpendingLimits:
        """Set the soft spending limit in US cents (0: prepaid credits only); the limits after."""
        if isinstance(cents, bool) or not isinstance(cents, int) or cents < 0:
            raise ValueError("a spending limit is a whole, non-negative number of cents")
        path = self._billing(team_id, "postpaid/spending-limits")
        body = {"desiredSoftSpendingLimit": {"val": cents}}
        response = self._request("POST", path, json=body)
        changed_by = self.last_request_id
        # The proto answers only `thisBpSoftSpendingLimit`: read the limits back when so, and
        # keep the change's own request id on them (the one to quote about it).
        if self._decode(response, SpendingLimitsAnswer).spending_limits is None:
            limits = self.spending_limits(team_id)
            limits.request_id = changed_by
            self.last_request_id = changed_by
            return limits
        return self._limits(response)

    def _limits(self, response: httpx.Response) -> SpendingLimits:
        limits = self._decode(response, SpendingLimitsAnswer).spending_limits or SpendingLimits()
        limits.request_id = self.last_request_id
        return limits

    def prepaid_balance(self, team_id: str) -> PrepaidBalance:
        """The prepaid credit balance and its changes (purchases negative, spend positive)."""
        return self._get(self._billing(team_id, "prepaid/balance"), PrepaidBalance)

    def usage(
        self,
        team_id: str,
        *,
        start: datetime,
        end: datetime,
        time_unit: str = "TIME_UNIT_DAY",
        group_by: tuple[str, ...] | list[str] = ("description", "api_key_id"),
        filters: tuple[str, ...] | list[str] = (),
        timezone: str = "UTC",
    ) -> UsageAnswer:
        """Cost in USD from `start` to `end` (exclusive) read in `timezone`, by `time_unit`,
        one series per group; values are exact Decimals."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{timezone!r} is not an IANA time zone") from None

        def wall(value: datetime) -> str:  # "YYYY-MM-DD HH:MM:SS" in the zone
            local = value.astimezone(zone) if value.tzinfo else value
            return local.strftime("%Y-%m-%d %H:%M:%S")

        request = {
            "timeRange": {"startTime": wall(start), "endTime": wall(end), "timezone": timezone},
            "timeUnit": time_unit,
            "values": [{"name": "usd", "aggregation": "AGGREGATION_SUM"}],
            "groupBy": list(group_by),
            "filters": list(filters),
        }
        body = {"analyticsRequest": request}
        return self._call("POST", self._billing(team_id, "usage"), UsageAnswer, json=body)

    # --- audit -----------------------------------------------------------------------------------

    def audit_events(
        self,
        team_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        query: str | None = None,
        user_id: str | None = None,
        ascending: bool = True,
        page_size: int = 100,
    ) -> Iterator[list[AuditEvent]]:
        """The team's audit events, one page at a time, oldest first unless `ascending=False`."""
        params = _audit_params(since, until, query, user_id, ascending, page_size)
        path = f"/audit/teams/{_segment(team_id)}/events"
        for page in self._pages(path, AuditPage, params, cursor_param="pageToken"):
            yield page.events

    def audit_events_raw(
        self, team_id: str, *, since: datetime | None = None, page_size: int = 100
    ) -> Iterator[list[dict[str, Any]]]:
        """`audit_events` oldest first, each event the JSON object xAI sent: for a log that
        stores events as they come."""
        params = _audit_params(since, None, None, None, True, page_size)
        path = f"/audit/teams/{_segment(team_id)}/events"
        for page in self._pages(path, RawAuditPage, params, cursor_param="pageToken"):
            yield [event for event in page.events if isinstance(event, dict)]

    # --- requests --------------------------------------------------------------------------------

    def _pages(
        self, path: str, kind: type[T], params: dict[str, Any], *, cursor_param: str
    ) -> Iterator[T]:
        """Each page once, following its token until an empty one; a token handed out twice
        would loop forever, so it is an error."""
        seen: set[str] = set()
        token = ""
        while True:
            page = self._get(path, kind, {**params, cursor_param: token} if token else params)
            yield page
            token = page.next_token  # type: ignore[attr-defined]
            if not token:
                return
            if token in seen:
                raise OrgAPIError(
                    "The xAI API handed out the same page twice; the list may be incomplete.",
                    code="bad_answer",
                    request_id=self.last_request_id,
                    method="GET",
                    path=path,
                )
            seen.add(token)

    def _get(self, path: str, kind: type[T], params: dict[str, Any] | None = None) -> T:
        return self._call("GET", path, kind, params=params)

    def _call(self, method: str, path: str, kind: type[T], **kwargs: Any) -> T:
        """One request, its answer decoded into `kind`, carrying its request id when it can."""
        found = self._decode(self._request(method, path, **kwargs), kind)
        if hasattr(found, "request_id"):
            found.request_id = self.last_request_id
        return found

    def _decode(self, response: httpx.Response, kind: Any, data: bytes | None = None) -> Any:
        """`data` (else the whole answer) decoded into `kind`; an answer that doesn't fit is an
        `OrgAPIError` saying where."""
        data = response.content if data is None else data
        try:
            return decode(data or b"{}", kind)  # an empty answer: every field's default
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise bad_answer(response, str(exc)) from None

    def _list_of(self, response: httpx.Response, kind: type[T], names: tuple[str, ...]) -> list[T]:
        """A list answer under any of `names`, or the bare list (*inferred*: not documented)."""
        raw = self._decode(response, dict[str, msgspec.Raw] | list[msgspec.Raw])
        if isinstance(raw, list):
            return self._decode(response, list[kind])  # type: ignore[valid-type]
        found = next((raw[name] for name in names if name in raw), None)
        if found is None:
            return []
        return self._decode(response, list[kind], bytes(found))  # type: ignore[valid-type]

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send with retries; a success comes back, any failure leaves as an `OrgAPIError`."""
        retry = retry_hook(idempotent=idempotent, deadline=time.monotonic() + RETRY_BUDGET)
        try:
            for attempt in stamina.retry_context(
                on=retry,
                attempts=self.max_attempts,
                timeout=RETRY_BUDGET,
                wait_initial=0.5,
                wait_max=8.0,
                wait_jitter=0.5,
            ):
                with attempt:
                    response = self._send(method, path, params=params, json=json)
        except RetryableAnswer as exc:
            raise answer_error(exc.response, secret=self._key) from None
        except httpx.TransportError as exc:
            raise transport_error(exc, method=method, path=path) from None
        if not response.is_success:
            raise answer_error(response, secret=self._key)
        return response

    def _send(
        self, method: str, path: str, *, params: dict[str, Any] | None, json: Any
    ) -> httpx.Response:
        response = self._http.request(method, self.base_url + path, params=params, json=json)
        self.last_request_id = request_id_of(response)
        if should_retry(response):
            raise RetryableAnswer(response)
        return response


def xai_client(
    org: Organization, *, timeout: float | None = None, max_attempts: int | None = None
) -> XAIClient:
    """Build the client for an xAI connection; `OrgAPIError` if its base URL or key may not be
    used (its subclass `KeyUnreadable` when the key can't be decrypted)."""
    key = usable_key(org, noun="management key")
    if timeout is None:
        timeout = float(getattr(settings, "XAI_TIMEOUT", DEFAULT_TIMEOUT))
    if max_attempts is None:
        max_attempts = int(getattr(settings, "XAI_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    return XAIClient(org.base_url, key, timeout=timeout, max_attempts=max_attempts)


def _audit_params(
    since: datetime | None,
    until: datetime | None,
    query: str | None,
    user_id: str | None,
    ascending: bool,
    page_size: int,
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "pageSize": page_size,
        "orderBy": "TIME_ASCENDING" if ascending else "TIME_DESCENDING",
    }
    optional = {
        "eventTimeFrom": since and _rfc3339(since),
        "eventTimeTo": until and _rfc3339(until),
        "eventFilter.query": query,
        "eventFilter.userId": user_id,
    }
    params.update({k: v for k, v in optional.items() if v})
    return params
