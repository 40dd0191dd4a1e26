"""The audit log's events, understood: pure functions over raw events (dicts exactly as the API
returned them), no Django, so the sync, the selectors, the pages, the exports and the tests all
read an event the same way.

- `catalog`: the event types the SDK knows, their categories, days.
- `raw`: reading one raw event (payload, actor, names) and `normalize`, its indexed columns.
- `history`: the change an event made, its "before" folded from the resource's earlier events.
- `sentences`: the pieces of a sentence (Ref, Sentence, Description) and its words.
- `phrasings`: one phrasing per event type, and `describe`, which picks it.
- `untyped`: events with no type, only a description and a user (xAI's), read as they came.

Import what you use from this package.
"""

from __future__ import annotations

from orgadmin.audit.catalog import (
    CATEGORIES,
    EVENT_TYPES,
    KNOWN_TYPES,
    MAX_ID_LENGTH,
    MAX_TYPE_LENGTH,
    PROJECT_BOUND_CATEGORIES,
    PROJECT_SCOPED_CATEGORIES,
    UNTYPED_CATEGORY,
    UNTYPED_TYPE,
    category_label,
    category_of,
    category_types,
    date_of_day,
    day_number,
)
from orgadmin.audit.history import UNKNOWN, Change, apply_event, diff, fold
from orgadmin.audit.phrasings import DESCRIBERS, describe, has_own_sentence, rate_limit_model
from orgadmin.audit.raw import (
    SEARCH_TEXT_BYTES,
    MalformedEvent,
    Normalized,
    actor_fields,
    names_in,
    normalize,
    payload_of,
)
from orgadmin.audit.sentences import Description, Ref, Sentence, format_value, humanize
from orgadmin.audit.untyped import is_untyped, person_name

__all__ = [
    "CATEGORIES",
    "DESCRIBERS",
    "EVENT_TYPES",
    "KNOWN_TYPES",
    "MAX_ID_LENGTH",
    "MAX_TYPE_LENGTH",
    "PROJECT_BOUND_CATEGORIES",
    "PROJECT_SCOPED_CATEGORIES",
    "SEARCH_TEXT_BYTES",
    "UNKNOWN",
    "UNTYPED_CATEGORY",
    "UNTYPED_TYPE",
    "Change",
    "Description",
    "MalformedEvent",
    "Normalized",
    "Ref",
    "Sentence",
    "actor_fields",
    "apply_event",
    "category_label",
    "category_of",
    "category_types",
    "date_of_day",
    "day_number",
    "describe",
    "diff",
    "fold",
    "format_value",
    "has_own_sentence",
    "humanize",
    "is_untyped",
    "names_in",
    "normalize",
    "payload_of",
    "person_name",
    "rate_limit_model",
]
