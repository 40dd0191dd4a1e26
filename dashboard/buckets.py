"""SQL that cuts hourly rows into the buckets a page asks for: hours, or local days.

The database does the grouping (an integer key per bucket, no per-row date functions in Python),
so a page fetches one row per bucket and group instead of one per hour. A local day is
`(epoch + utc_offset) // 86400`, with the offset taken from the reporting timezone for each part
of the period between two DST changes.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.db.models import BigIntegerField, Case, ExpressionWrapper, F, Func, Value, When

from dashboard.periods import Period, local_midnight

DAY_SECONDS = 86400
UTC = dt.UTC


class Epoch(Func):
    """Seconds since 1970 of a datetime column, as an integer."""

    output_field = BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS BIGINT)"
        )


def offset_changes(period: Period) -> list[tuple[dt.datetime | None, int]]:
    """[(from, utc offset in seconds)]: the reporting timezone's offsets over the period."""
    tz = period.tz

    def offset(moment: dt.datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds())

    current = offset(period.utc_start)
    changes: list[tuple[dt.datetime | None, int]] = [(None, current)]
    moment = period.utc_start
    while moment < period.utc_end:
        step = min(moment + dt.timedelta(days=1), period.utc_end)
        if offset(step) == current:
            moment = step
            continue
        hour = moment
        while offset(hour) == current:
            hour += dt.timedelta(hours=1)
        current = offset(hour)
        changes.append((hour, current))
        moment = hour
    return changes


def bucket_key(field: str, width: str, period: Period):
    """An integer expression naming each row's bucket: its hour's epoch, or its local day."""
    epoch = Epoch(field)
    if width == "1h":
        return epoch
    changes = offset_changes(period)
    if len(changes) == 1:
        shifted = ExpressionWrapper(epoch + Value(changes[0][1]), output_field=BigIntegerField())
    else:
        # Before each change its previous offset applies: test the changes newest first.
        whens = [
            When(**{f"{field}__gte": start}, then=epoch + Value(offset))
            for start, offset in reversed(changes[1:])
        ]
        shifted = Case(*whens, default=epoch + Value(changes[0][1]), output_field=BigIntegerField())
    return ExpressionWrapper(shifted / Value(DAY_SECONDS), output_field=BigIntegerField())


@lru_cache(maxsize=4096)
def bucket_start(key: int, width: str, tz) -> dt.datetime:
    """The UTC start of the bucket a key names."""
    if width == "1h":
        return dt.datetime.fromtimestamp(key, UTC)
    return local_midnight(dt.date(1970, 1, 1) + dt.timedelta(days=key), tz)


__all__ = ["Epoch", "F", "bucket_key", "bucket_start", "offset_changes"]
