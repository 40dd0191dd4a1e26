"""What a connection's admin key may not do, as pages ask it (no query: its summary)."""

from __future__ import annotations

from orgadmin.areas import AREAS
from orgadmin.models import Organization


def area_read_only(*, org: Organization | None) -> dict[str, bool]:
    """Area → True when the key may not change it (it was refused a change, or a read): the
    pages hide that area's controls. Every area is False without a connection."""
    if org is None:
        return dict.fromkeys(AREAS, False)
    return {area: not org.key_may_write(area) for area in AREAS}
