"""How store objects look on the wire: camelCase proto-JSON, with the shapes xAI is seen to vary.

The proto3 JSON mapping writes int64 as a string; xAI's docs show numbers. Both are sent: a
`Shaper` decides per object (and per line or field inside one) from the seed, so that any listing
of two or more objects shows both. Likewise a `Cent`'s `val`. Keys follow the docs' own example
for one key in three: `acl_strings` instead of `aclStrings` and `"disabled": "false"` as a string.
With `mixed=False` the canonical shapes only (numbers, `aclStrings`, booleans).
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from orgadmin.xai.simulator.store import (
    CLUSTERS,
    PROPAGATION_DELAY,
    ApiKey,
    AuditEvent,
    BalanceChange,
    Invoice,
    Line,
    ManagementKey,
    PaymentMethod,
    Store,
    User,
    redact,
)


def timestamp(value: datetime, *, fractional: bool = False) -> str:
    """RFC 3339 in UTC; proto timestamps carry fractional seconds when they have any."""
    if fractional and value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Shaper:
    """Deterministic choices between the documented shapes."""

    def __init__(self, seed: int, *, mixed: bool = True) -> None:
        self.seed = seed
        self.mixed = mixed

    def bit(self, salt: str) -> bool:
        if not self.mixed:
            return False
        return bool(zlib.crc32(f"{self.seed}:{salt}".encode()) & 1)

    def nth(self, index: int, salt: str = "") -> bool:
        """For the index-th object of a listing: alternates, so both shapes appear."""
        if not self.mixed:
            return False
        return (index + self.bit(salt)) % 2 == 1

    @staticmethod
    def int64(value: int, stringy: bool) -> int | str:
        return str(value) if stringy else value

    def cent(self, value: int, stringy: bool) -> dict[str, int | str]:
        return {"val": self.int64(value, stringy)}

    # --- auth ------------------------------------------------------------------------------------

    def api_key(self, key: ApiKey, *, docs_style: bool, secret: bool = False) -> dict[str, Any]:
        """A key; `docs_style` is the docs' example (`acl_strings`, `"disabled": "false"`)."""
        body: dict[str, Any] = {
            "redactedApiKey": redact(key.secret),
            "userId": key.user_id,
            "name": key.name,
            "createTime": timestamp(key.create_time, fractional=True),
            "modifyTime": timestamp(key.modify_time, fractional=True),
            "teamId": "",
            "apiKeyId": key.api_key_id,
        }
        if secret:
            body["apiKey"] = key.secret
        if docs_style and self.mixed:
            body["disabled"] = "true" if key.disabled else "false"
            body["acl_strings"] = list(key.acls)
        else:
            body["disabled"] = key.disabled
            body["aclStrings"] = list(key.acls)
        if key.expire_time is not None:
            body["expireTime"] = timestamp(key.expire_time)
        for name in ("qps", "qpm"):
            if getattr(key, name) is not None:
                body[name] = getattr(key, name)
        if key.tpm is not None:
            body["tpm"] = str(key.tpm)  # documented: tpm is a string
        return body

    def one_key(self, store: Store, key: ApiKey, *, secret: bool = False) -> dict[str, Any]:
        body = self.api_key(key, docs_style=self.bit(key.api_key_id + ":docs"), secret=secret)
        body["teamId"] = store.team_id
        return body

    def key_list(self, store: Store, keys: list[ApiKey], offset: int) -> list[dict[str, Any]]:
        out = []
        for index, key in enumerate(keys, start=offset):
            body = self.api_key(key, docs_style=self.mixed and index % 3 == 2)
            body["teamId"] = store.team_id
            out.append(body)
        return out

    @staticmethod
    def management_key(key: ManagementKey, team_id: str) -> dict[str, Any]:
        return {
            "apiKeyId": key.api_key_id,
            "scope": "SCOPE_TEAM",
            "scopeId": team_id,
            "ownerUserId": key.owner_user_id,
            "name": key.name,
            "acls": list(key.acls),
            "redactedApiKey": f"xai-mgmt-...{key.value[-4:]}",
            "ipRanges": [],
            "createTime": timestamp(key.create_time),
            "modifyTime": timestamp(key.create_time),
        }

    @staticmethod
    def propagation(key: ApiKey, now: datetime) -> dict[str, Any]:
        """*Inferred*: the clusters learn a new secret one after the other, within seconds."""
        ready = key.propagated_at or key.create_time
        start = ready - PROPAGATION_DELAY
        step = PROPAGATION_DELAY / len(CLUSTERS)
        return {
            "icPropagation": {
                host: now >= start + step * (i + 1) for i, host in enumerate(CLUSTERS)
            }
        }

    # --- billing ---------------------------------------------------------------------------------

    def line(self, line: Line, stringy: bool) -> dict[str, Any]:
        return {
            "clusterName": line.cluster_name,
            "description": line.description,
            "unitType": line.unit_type,
            "unitPrice": self.int64(line.unit_price, stringy),
            "numUnits": self.int64(line.num_units, stringy),
            "amount": self.int64(line.amount, stringy),
        }

    def invoice(self, invoice: Invoice, team_id: str, stringy: bool) -> dict[str, Any]:
        lines = [self.line(ln, self.nth(i) != stringy) for i, ln in enumerate(invoice.lines)]
        body: dict[str, Any] = {
            "teamId": team_id,
            "invoiceId": invoice.invoice_id,
            "invoiceNumber": invoice.invoice_number,
            "createTime": timestamp(invoice.create_time),
            "invoiceStatus": invoice.status,
            "chargerAttempts": [],
            "lines": lines,
            "subtotal": self.int64(invoice.subtotal, stringy),
            "tax": self.int64(invoice.tax, stringy),
            "total": self.int64(invoice.total, stringy),
            "invoicePdfAssetKeySuffix": f"invoices/{invoice.invoice_id}.pdf",
        }
        if invoice.status in ("PAID", "FAILED"):
            body["chargerAttempts"] = [
                {"ticket": 1, "successful": invoice.status == "PAID", "paymentMethodId": "pm_1"}
            ]
        if invoice.flavour == "prepaid":
            body["prepaid"] = {}
        else:
            body["monthly"] = {
                "billingCycle": {"year": invoice.year, "month": invoice.month},
                "defaultCreditsIssued": self.cent(0, not stringy),
                "autoCreditsIssued": self.cent(0, stringy),
                "prepaidTokensToSpend": self.cent(invoice.prepaid_used, not stringy),
            }
        return body

    def balance_change(self, change: BalanceChange, team_id: str, stringy: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "teamId": team_id,
            "changeOrigin": change.origin,
            "amount": self.cent(change.amount, stringy),
            "createTime": timestamp(change.create_time),
        }
        optional = {
            "topupStatus": change.topup_status,
            "invoiceId": change.invoice_id,
            "invoiceNumber": change.invoice_number,
            "spendBpKeyYear": change.spend_year,
            "spendBpKeyMonth": change.spend_month,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body

    @staticmethod
    def payment_method(method: PaymentMethod, billing_info: dict[str, Any]) -> dict[str, Any]:
        return {
            "paymentMethodId": method.payment_method_id,
            "billingInfo": billing_info,
            "cardDetails": {
                "brand": method.brand,
                "expMonth": str(method.exp_month),  # int64: proto-JSON strings
                "expYear": method.exp_year,  # ...and a number, as xAI's docs show
                "last4": method.last4,
            },
            "paymentType": method.payment_type,
        }

    def spending_limits(self, store: Store) -> dict[str, Any]:
        limits: dict[str, Any] = {
            "hardSlAuto": self.cent(store.hard_limit_auto, self.nth(0, "sl")),
            "effectiveHardSl": self.cent(store.effective_hard_limit(), self.nth(1, "sl")),
            "effectiveSl": self.cent(store.effective_limit(), self.nth(2, "sl")),
        }
        if store.hard_limit_override is not None:
            limits["hardSlOverride"] = self.cent(store.hard_limit_override, self.nth(3, "sl"))
        if store.soft_limit is not None:
            limits["softSl"] = self.cent(store.soft_limit, self.nth(3, "sl"))
        return {"spendingLimits": limits}

    # --- audit -----------------------------------------------------------------------------------

    @staticmethod
    def audit_event(event: AuditEvent, user: User | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "eventTime": timestamp(event.event_time, fractional=True),
            "eventId": event.event_id,
            "description": event.description,
        }
        if user is not None:
            body["user"] = {
                "userId": user.user_id,
                "email": user.email,
                "givenName": user.given_name,
                "familyName": user.family_name,
                "profileImageUrl": user.profile_image_url,
            }
        return body
