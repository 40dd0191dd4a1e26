"""Live-API behaviours beyond the spec, each behind its own switch (all off: the spec's behaviour).

These are what people have published about the real Admin API and what captured responses show.
The demo turns the realistic ones on (`Quirks.live()`); tests turn them on one at a time to prove
the dashboard copes. Mutable at runtime, like `FaultConfig`: the app reads them per request.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# A recent bucket keeps growing for up to this long after it closes (`revision_hours`).
LIVE_REVISION_HOURS = 6


@dataclass
class Quirks:
    """Which live-API differences the simulator shows.

    - `string_amounts`: some cost results send `amount.value` as a string (`"12.50"`).
    - `live_buckets`: buckets are labelled from the requested `start_time` truncated to the
      minute (not aligned to the width), and the open last bucket ends at "now".
    - `revision_hours`: a closed bucket is revised upward for up to this many hours after it
      closes (part of its activity is reported late); 0 reports everything at once.
    - `live_audit_shapes`: audit events carry `"object": "organization.audit_log"`, may lack
      `project` and payload keys, and a login's `actor.session` has `ja3`, `ja4` and
      `ip_address_details` (asn, latitude and longitude as strings).
    - `strict_costs`: the costs endpoint refuses `group_by=api_key_id` and the `api_key_ids`
      filter with a 400, as one live organization was reported to do.
    """

    string_amounts: bool = False
    live_buckets: bool = False
    revision_hours: int = 0
    live_audit_shapes: bool = False
    strict_costs: bool = False

    @classmethod
    def live(cls, *, strict_costs: bool = False) -> Quirks:
        """Every behaviour the live API is known to show (the demo's); `strict_costs` is
        reported of some organizations only, so it stays a separate choice."""
        return cls(
            string_amounts=True,
            live_buckets=True,
            revision_hours=LIVE_REVISION_HOURS,
            live_audit_shapes=True,
            strict_costs=strict_costs,
        )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
