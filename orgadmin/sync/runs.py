"""The shared machinery of every sync job: a recorded run, a lease lock, and watermarks.

    with sync_run(org=org, kind=SyncRun.Kind.USAGE, params={...}) as run:
        for page in pages:
            with transaction.atomic():
                written = upsert(page)
            run.page(rows=written)          # counts, and renews the lease

A run that could store some of its streams and not others ends "partial" (`run.stream_failed`),
with each failed stream, its error and request id on the run.

An optional request parameter that the API refuses (HTTP 400) is recorded as an ApiCapability
(`capability_refuse`), left out of the following requests, and asked for again once a day.

An area of the API the admin key may not read (orgadmin.areas; a 401 or 403 naming permissions)
is skipped, not failed: `run.area_refused` records it on the connection (the pages say "not
permitted by this key") and on the run (`params["not_permitted"]`), and the run goes on with the
rest. A run that may read nothing of what it syncs raises `NothingPermitted`: it ends "not
permitted", which is no failure. The areas read (`run.area_read`) lose any such mark.

A run holds a lease on (org, kind). A second run started meanwhile raises SyncBusy. If a worker
dies mid-run, its lease runs out after SYNC_LEASE_SECONDS; the next run takes over and marks the
dead one abandoned. A run that lost its lease stops at its next page (SyncLeaseLost) instead of
writing beside the newer run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from orgadmin.client import OrgAPIError
from orgadmin.models import ApiCapability, Organization, SyncLock, SyncRun, SyncWatermark
from orgadmin.services.key_areas import key_area_refused, key_areas_readable


class SyncBusy(Exception):
    """Another run of the same kind is under way for this organization."""


class SyncLeaseLost(Exception):
    """This run's lease ran out and another run took over."""


class NothingPermitted(Exception):
    """The admin key may read none of what this run syncs: the run ends "not permitted"."""


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "SYNC_LEASE_SECONDS", 300))


class RunRecorder:
    """Counts a run's requests and rows, and renews its lease as pages go by."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run
        self.failures: list[dict[str, Any]] = []
        self.refused: dict[str, OrgAPIError] = {}  # area → the API's refusal, this run
        self.read: set[str] = set()

    def area_refused(self, *, area: str, error: OrgAPIError) -> None:
        """The key may not read `area`: record it on the connection; the run goes on without
        it (asking once: later requests of the area are skipped, see `may_read`)."""
        if area not in self.refused:
            self.refused[area] = error
            key_area_refused(org=self.run.org, error=error, area=area)

    def area_read(self, area: str) -> None:
        """The key read (part of) `area` in this run."""
        self.read.add(area)

    def may_read(self, area: str) -> bool:
        """False once the API refused this run a read of `area`."""
        return area not in self.refused

    def stream_failed(self, *, stream: str, label: str, error: Exception) -> None:
        """Record that one stream failed after its retries; the run goes on with the others."""
        self.failures.append(
            {
                "stream": stream,
                "label": label,
                "error": getattr(error, "message", None) or str(error),
                "status": getattr(error, "status", None),
                "request_id": getattr(error, "request_id", None) or "",
            }
        )

    def page(self, *, rows: int = 0, requests: int = 1) -> None:
        """Record one page fetched and its rows written; renew the lease."""
        now = timezone.now()
        renewed = SyncLock.objects.filter(
            org_id=self.run.org_id, kind=self.run.kind, run=self.run
        ).update(expires_at=now + _lease())
        if not renewed:
            raise SyncLeaseLost(f"{self.run} lost its lease")
        SyncRun.objects.filter(pk=self.run.pk).update(
            requests_made=F("requests_made") + requests,
            rows_written=F("rows_written") + rows,
            heartbeat_at=now,
        )
        self.run.requests_made += requests
        self.run.rows_written += rows
        self.run.heartbeat_at = now


def _acquire(*, org: Organization, kind: str, params: dict, triggered_by: Any) -> SyncRun:
    # Created concurrently by another run? Fine: the row exists either way.
    with suppress(IntegrityError):
        SyncLock.objects.get_or_create(org=org, kind=kind)
    now = timezone.now()
    with transaction.atomic():
        stale = SyncLock.objects.filter(org=org, kind=kind).values_list("run_id", flat=True)
        stale_run_id = next(iter(stale), None)
        user = triggered_by if getattr(triggered_by, "is_authenticated", False) else None
        run = SyncRun.objects.create(org=org, kind=kind, params=params, triggered_by=user)
        taken = (
            SyncLock.objects.filter(org=org, kind=kind)
            .filter(Q(run__isnull=True) | Q(expires_at__isnull=True) | Q(expires_at__lt=now))
            .update(run=run, expires_at=now + _lease())
        )
        if not taken:
            raise SyncBusy(f"A {run.get_kind_display().lower()} sync of {org} is already running.")
        if stale_run_id:
            SyncRun.objects.filter(pk=stale_run_id, status=SyncRun.Status.RUNNING).update(
                status=SyncRun.Status.ABANDONED, finished_at=now
            )
    return run


def _release(run: SyncRun) -> None:
    SyncLock.objects.filter(org_id=run.org_id, kind=run.kind, run=run).update(
        run=None, expires_at=None
    )


@contextmanager
def sync_run(
    *, org: Organization, kind: str, params: dict | None = None, triggered_by: Any = None
) -> Iterator[RunRecorder]:
    """Run a sync under the (org, kind) lock, recording it as a SyncRun."""
    run = _acquire(org=org, kind=kind, params=params or {}, triggered_by=triggered_by)
    recorder = RunRecorder(run)
    fields = ["status", "error", "failures", "finished_at", "params"]
    try:
        yield recorder
    except NothingPermitted as exc:
        # Not re-raised: a key that may not read this is how the connection is, not a failure.
        run.status = SyncRun.Status.NOT_PERMITTED
        run.error = str(exc)
        _finish(run, recorder, fields)
        return
    except BaseException as exc:
        run.status = SyncRun.Status.FAILED
        run.error = str(exc) or exc.__class__.__name__
        _finish(run, recorder, fields)
        raise
    if recorder.failures:
        run.status = SyncRun.Status.PARTIAL
        run.error = failures_summary(recorder.failures)
    else:
        run.status = SyncRun.Status.SUCCEEDED
    _finish(run, recorder, fields)
    key_areas_readable(org=org, areas=recorder.read - set(recorder.refused))


def _finish(run: SyncRun, recorder: RunRecorder, fields: list[str]) -> None:
    run.failures = recorder.failures
    if recorder.refused:
        run.params = {**(run.params or {}), "not_permitted": sorted(recorder.refused)}
    run.finished_at = timezone.now()
    run.save(update_fields=fields)
    _release(run)


def failures_summary(failures: Sequence[dict[str, Any]]) -> str:
    """One line naming each failed stream with its error: "Costs: Bad gateway. · HTTP 502 ..."."""
    parts = []
    for failure in failures:
        detail = [failure["error"]]
        if failure.get("status"):
            detail.append(f"HTTP {failure['status']}")
        if failure.get("request_id"):
            detail.append(f"request id {failure['request_id']}")
        parts.append(f"{failure['label']}: {' · '.join(detail)}")
    return "; ".join(parts)


def is_running(*, org: Organization, kind: str) -> bool:
    """True while a live (unexpired) run of this kind holds the lock."""
    return SyncLock.objects.filter(
        org=org, kind=kind, run__isnull=False, expires_at__gte=timezone.now()
    ).exists()


def watermark_get(*, org: Organization, endpoint: str) -> dt.datetime | None:
    """Where the last run for this endpoint got to, or None before the first run."""
    return (
        SyncWatermark.objects.filter(org=org, endpoint=endpoint)
        .values_list("value", flat=True)
        .first()
    )


def watermark_set(*, org: Organization, endpoint: str, value: dt.datetime) -> None:
    """Move an endpoint's watermark (call it inside the transaction that wrote the data)."""
    SyncWatermark.objects.update_or_create(org=org, endpoint=endpoint, defaults={"value": value})


# --- capabilities: optional parameters a server refuses ---------------------------------------

_LISTS_ACCEPTED = re.compile(
    r"\bonly\b|\bone of\b|\b(?:supported|allowed|valid) values\b|\bmust be\b", re.I
)


def refused_candidates(error: OrgAPIError, sent: Sequence[str]) -> list[str]:
    """The options of `sent` that a 400 may be about, the most likely first; [] if none.

    Options are "group_by:<dimension>" for a grouping and the parameter's name for a filter, in
    the order the caller would rather give them up. A 400 names the parameter (`param`) and
    usually the value, either as the one refused ("'api_key_id' is not supported") or among the
    ones accepted ("only project_id and line_item"). The other groupings follow as fallbacks,
    so a wording we can't read costs a retry per option at most, never the stream.
    """
    if error.status != 400 or not sent:
        return []
    text = f"{error.param or ''} {error.message}"
    filters = [o for o in sent if not o.startswith("group_by:")]
    blamed = [f for f in filters if f == error.param or re.search(rf"\b{re.escape(f)}\b", text)]
    if blamed:
        return blamed
    groupings = [o for o in sent if o.startswith("group_by:")]
    if not groupings or "group_by" not in text:
        return []
    named = [
        o for o in groupings if re.search(rf"\b{re.escape(o.partition(':')[2])}\b", error.message)
    ]
    if named and _LISTS_ACCEPTED.search(error.message):
        named = [o for o in groupings if o not in named]  # the message lists what it accepts
    return named + [o for o in groupings if o not in named]


def capability_get(*, org: Organization, endpoint: str) -> ApiCapability | None:
    """What the endpoint refused when last asked, or None if it never refused anything."""
    return ApiCapability.objects.filter(org=org, endpoint=endpoint).first()


def capability_recheck_due(capability: ApiCapability | None, now: dt.datetime) -> bool:
    """True when refused options should be asked for again (once a day by default)."""
    if capability is None or not capability.refused:
        return False
    hours = getattr(settings, "API_CAPABILITY_RECHECK_HOURS", 24)
    return now - capability.checked_at >= dt.timedelta(hours=hours)


def capability_refuse(
    *, org: Organization, endpoint: str, option: str, error: OrgAPIError
) -> ApiCapability:
    """Record that the endpoint refused an option (its message and request id kept to show)."""
    capability, _ = ApiCapability.objects.get_or_create(
        org=org, endpoint=endpoint, defaults={"checked_at": timezone.now()}
    )
    if option not in capability.refused:
        capability.refused = [*capability.refused, option]
    capability.checked_at = timezone.now()
    capability.message = error.message
    capability.request_id = error.request_id or ""
    capability.save()
    return capability


def capability_accept(*, org: Organization, endpoint: str, options: Sequence[str]) -> list[str]:
    """Record that the endpoint took these options; returns those it used to refuse."""
    capability = capability_get(org=org, endpoint=endpoint)
    if capability is None:
        return []
    restored = [o for o in capability.refused if o in options]
    if restored:
        capability.refused = [o for o in capability.refused if o not in options]
        capability.checked_at = timezone.now()
        if not capability.refused:
            capability.message, capability.request_id = "", ""
        capability.save()
    return restored
