"""What every directory section uses: `Fetcher` (the run's API calls, counted, its lease kept
alive), `replace_rows` (make a scope's cached rows exactly the API's) and `ts`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import models

from orgadmin.client import OrgAPIError, admin_client, api_errors
from orgadmin.models import Organization
from orgadmin.sync.runs import RunRecorder

# Renew the run's lease every this many requests inside one long section.
_RENEW_EVERY = 50
T = TypeVar("T")


def ts(value: int | None) -> dt.datetime | None:
    """A Unix timestamp from the API as an aware datetime."""
    return dt.datetime.fromtimestamp(value, tz=dt.UTC) if value is not None else None


def replace_rows(
    model: type[models.Model],
    *,
    scope: dict[str, Any],
    key: str,
    rows: Sequence[dict[str, Any]],
    unique: Sequence[str] | None = None,
) -> int:
    """Make `model`'s rows within `scope` exactly `rows`: upsert on the natural key, delete the
    rest. Returns how many rows were written or deleted. Call it inside a transaction."""
    unique_fields = list(unique or [*scope, key])
    if rows:
        objs = [model(**scope, **row) for row in rows]
        fields = sorted({f for row in rows for f in row} - set(unique_fields))
        if fields:
            model.objects.bulk_create(
                objs,
                update_conflicts=True,
                unique_fields=unique_fields,
                update_fields=fields,
                batch_size=500,
            )
        else:
            model.objects.bulk_create(objs, ignore_conflicts=True, batch_size=500)
    seen = {row[key] for row in rows}
    existing = set(model.objects.filter(**scope).values_list(key, flat=True))
    stale = sorted(existing - seen)
    for start in range(0, len(stale), 500):
        model.objects.filter(**scope, **{f"{key}__in": stale[start : start + 500]}).delete()
    return len(rows) + len(stale)


class Fetcher:
    """Calls the API for one run: counts requests and keeps the run's lease alive."""

    def __init__(self, org: Organization, recorder: RunRecorder) -> None:
        self.api = admin_client(org)  # an unreadable key is an OrgAPIError already
        self.recorder = recorder
        self.pending = 0

    def readable(self, area: str, fetch: Callable[[], T]) -> T | None:
        """`fetch()`, or None when the key may not read `area` (refused now, or earlier in the
        run: then nothing is asked). None means "leave what the cache holds as it is"."""
        if not self.recorder.may_read(area):
            return None
        try:
            result = fetch()
        except OrgAPIError as exc:
            if not exc.permission_denied:
                raise
            self.recorder.area_refused(area=area, error=exc)
            return None
        self.recorder.area_read(area)
        return result

    def _count(self, n: int = 1) -> None:
        self.pending += n
        if self.pending >= _RENEW_EVERY:
            self.recorder.page(rows=0, requests=self.pending)
            self.pending = 0

    def all(self, call: Callable[[], Any]) -> list[Any]:
        """Every item of a paginated list, following the SDK's cursor to the last page."""
        items: list[Any] = []
        with api_errors():
            for page in call().iter_pages():
                items.extend(page.data or [])
                self._count()
        return items

    def one(self, call: Callable[[], Any], *, missing_ok: bool = False) -> Any | None:
        """One object; None when `missing_ok` and the API answers 404 (nothing configured)."""
        try:
            with api_errors():
                return call()
        except OrgAPIError as exc:
            if missing_ok and exc.status == 404:
                return None
            raise
        finally:
            self._count()
