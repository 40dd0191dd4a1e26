"""The organization's own settings: admin keys, mTLS certificates, the spend limit and alerts,
and data retention."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from orgadmin.models import AdminApiKey, Certificate, Organization, OrgSettings, SpendAlert
from orgadmin.sync.directory.base import Fetcher, replace_rows, ts


def admin_key_fields(k: Any) -> dict[str, Any]:
    owner = k.owner
    return {
        "openai_id": k.id,
        "name": k.name or "",
        "redacted_value": k.redacted_value or "",
        "created_at": ts(k.created_at),
        "expires_at": ts(k.expires_at),
        "last_used_at": ts(k.last_used_at),
        "owner_type": (owner.type or "") if owner else "",
        "owner_id": (owner.id or "") if owner else "",
        "owner_name": (owner.name or "") if owner else "",
    }


def certificate_fields(c: Any, *, key: str = "openai_id") -> dict[str, Any]:
    details = c.certificate_details
    return {
        key: c.id,
        "name": c.name or "",
        "created_at": ts(c.created_at),
        "valid_at": ts(details.valid_at) if details else None,
        "expires_at": ts(details.expires_at) if details else None,
        "active": bool(c.active),
    }


def spend_alert_fields(a: Any) -> dict[str, Any]:
    channel = a.notification_channel
    return {
        "openai_id": a.id,
        "threshold_cents": a.threshold_amount,
        "currency": a.currency,
        "interval": a.interval,
        "recipients": list(channel.recipients) if channel else [],
        "subject_prefix": (channel.subject_prefix or "") if channel else "",
    }


def spend_limit_fields(limit: Any | None) -> dict[str, Any]:
    """The hard-limit columns for a limit object, or for "no limit" when None."""
    if limit is None:
        return {
            "spend_limit_cents": None,
            "spend_limit_currency": "",
            "spend_limit_interval": "",
            "spend_limit_enforcement": "",
        }
    return {
        "spend_limit_cents": limit.threshold_amount,
        "spend_limit_currency": str(limit.currency),
        "spend_limit_interval": str(limit.interval),
        "spend_limit_enforcement": str(limit.enforcement.status) if limit.enforcement else "",
    }


def sync_admin_keys(org: Organization, f: Fetcher) -> Callable[[], int]:
    rows = [admin_key_fields(k) for k in f.all(lambda: f.api.admin_api_keys.list(limit=100))]
    return lambda: replace_rows(AdminApiKey, scope={"org": org}, key="openai_id", rows=rows)


def sync_certificates(org: Organization, f: Fetcher) -> Callable[[], int]:
    rows = [certificate_fields(c) for c in f.all(lambda: f.api.certificates.list(limit=100))]
    return lambda: replace_rows(Certificate, scope={"org": org}, key="openai_id", rows=rows)


def sync_org_settings(org: Organization, f: Fetcher) -> Callable[[], int]:
    limit = f.one(lambda: f.api.spend_limit.retrieve(), missing_ok=True)
    alerts = [spend_alert_fields(a) for a in f.all(lambda: f.api.spend_alerts.list(limit=100))]
    retention = f.one(lambda: f.api.data_retention.retrieve(), missing_ok=True)

    def write() -> int:
        OrgSettings.objects.update_or_create(
            org=org,
            defaults={
                **spend_limit_fields(limit),
                "data_retention": retention.type if retention else "",
                "settings_synced_at": timezone.now(),
            },
        )
        return 1 + replace_rows(
            SpendAlert,
            scope={"org": org, "project": None},
            key="openai_id",
            rows=alerts,
            unique=["org", "openai_id"],
        )

    return write
