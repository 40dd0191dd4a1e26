"""The filters of the usage and cost pages and their exports, parsed from the query string.

Every filter lives in the URL. A form turns it into a query for the selectors, or says beside
the field what's wrong (an inverted or invalid date, an unknown family or grouping).
"""

from __future__ import annotations

import datetime as dt
import difflib
from functools import cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.http import QueryDict

from dashboard.families import COST_GROUPINGS, DIMENSION_LABELS, FAMILIES, Family
from dashboard.periods import DEFAULT_PRESET, PRESETS, Period, preset_range
from dashboard.selectors import CostQuery, UsageQuery

MAX_DAYS = 731
MAX_HOURLY_DAYS = 92
WIDTHS = {"1d": "Daily", "1h": "Hourly"}
DATE_ERROR = "Enter a date as YYYY-MM-DD, e.g. 2025-03-01."


@cache
def timezone_names() -> list[str]:
    return sorted(available_timezones() - {"localtime", "Factory"})


@cache
def _timezones_folded() -> dict[str, str]:
    """Each zone by its folded full name and, when no other zone shares it, its folded city."""
    names = {n.casefold(): n for n in timezone_names()}
    cities: dict[str, list[str]] = {}
    for n in timezone_names():
        cities.setdefault(n.rsplit("/", 1)[-1].replace("_", " ").casefold(), []).append(n)
    return {**{c: z[0] for c, z in cities.items() if len(z) == 1}, **names}


def timezone_match(text: str) -> str | None:
    """The zone `text` names without doubt ("europe/paris", "Paris", "new york"), or None."""
    folded = text.strip().casefold()
    known = _timezones_folded()
    return known.get(folded) or known.get(folded.replace("_", " "))


def timezone_error(text: str) -> str:
    """Why `text` is no timezone, with the nearest names when some are close."""
    close = difflib.get_close_matches(text, timezone_names(), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    return f"Unknown timezone “{text}”. Type a name like Europe/Paris, then pick it.{hint}"


def _split(values: list[str]) -> tuple[str, ...]:
    """`a,b` and repeated parameters alike, trimmed, without blanks or repeats."""
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return tuple(out)


class _FilterForm(forms.Form):
    """Period, timezone, grouping and dimension filters shared by the two pages."""

    preset = forms.ChoiceField(
        choices=[("", "Custom"), *PRESETS.items()], required=False, label="Period"
    )
    start = forms.DateField(
        required=False,
        label="From",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_ERROR},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        required=False,
        label="To (exclusive)",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_ERROR},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # The filter bar's "To": the last day shown, included (the URL and the API keep `end`).
    last = forms.DateField(
        required=False,
        label="To",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_ERROR},
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    tz = forms.CharField(required=False, label="Timezone", max_length=64)
    group_by = forms.CharField(required=False, label="Group by")

    dimensions: tuple[str, ...] = ()
    default_group: tuple[str, ...] = ()

    def __init__(self, data: QueryDict, *, default_tz: str, now: dt.datetime) -> None:
        super().__init__(data)
        self.default_tz = default_tz
        self.now = now
        for dim in self.filter_dimensions():
            self.fields[dim] = forms.CharField(required=False, label=DIMENSION_LABELS[dim])

    def filter_dimensions(self) -> tuple[str, ...]:
        return self.dimensions

    # --- fields ---

    def clean_tz(self) -> str:
        name = (self.cleaned_data.get("tz") or "").strip() or self.default_tz
        if name in timezone_names() or name == "UTC":
            return name
        # The picker is a search box (issue 16): "europe/paris" or "Paris" is clear enough.
        found = timezone_match(name)
        if found:
            return found
        raise forms.ValidationError(timezone_error(name))

    def _group_by(self, allowed: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
        if "group_by" not in self.data:
            return default
        groups = _split(self.data.getlist("group_by"))
        unknown = [g for g in groups if g not in allowed]
        if unknown:
            choices = ", ".join(allowed)
            self.add_error(
                "group_by",
                f"Can't group by “{', '.join(unknown)}”. Choose from: {choices}.",
            )
            return default
        return groups

    def _filters(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        out = []
        for dim in self.filter_dimensions():
            values = _split(self.data.getlist(dim)) if dim in self.data else ()
            if values:
                out.append((dim, values))
        return tuple(out)

    # --- the whole form ---

    def max_days(self) -> int:
        return MAX_DAYS

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        tz_name = data.get("tz")
        if not tz_name or any(self.has_error(f) for f in ("start", "end", "last")):
            return data
        tz = ZoneInfo(tz_name)
        today = self.now.astimezone(tz).date()
        start, end, preset = data.get("start"), data.get("end"), data.get("preset")
        if data.get("last"):
            end = data["last"] + dt.timedelta(days=1)
        if start or end:
            if not start:
                self.add_error("start", "Pick the first day too.")
                return data
            if not end:
                end = today + dt.timedelta(days=1)
            if end <= start:
                self.add_error(
                    "end",
                    "The last day must be on or after the start date."
                    if data.get("last")
                    else "The end date must be after the start date (it's exclusive).",
                )
                return data
            if (end - start).days > self.max_days():
                self.add_error("end", f"Pick at most {self.max_days()} days for this view.")
                return data
            preset = ""
        else:
            preset = preset or DEFAULT_PRESET
            start, end = preset_range(preset, today)
        data["preset"] = preset
        data["period"] = Period(start, end, tz)
        return data

    def params(self, **changes: Any) -> dict[str, str]:
        """The canonical query parameters of this view, with `changes` applied (None removes)."""
        data = self.cleaned_data
        params: dict[str, str] = {}
        if data.get("preset"):
            params["preset"] = data["preset"]
        else:
            params["start"] = data["period"].start.isoformat()
            params["end"] = data["period"].end.isoformat()
        params["tz"] = data["tz"]
        params.update(self.extra_params())
        params["group_by"] = ",".join(data["group_by"])
        for dim, values in data["filters"]:
            params[dim] = ",".join(values)
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return params

    def extra_params(self) -> dict[str, str]:
        return {}

    def url(self, path: str, **changes: Any) -> str:
        return f"{path}?{urlencode(self.params(**changes))}"

    def drill_params(self, group: tuple[str, ...]) -> dict[str, Any]:
        """Narrow to one series: filter on its values, then group by the next dimension."""
        changes: dict[str, Any] = {}
        filters = dict(self.cleaned_data["filters"])
        for dim, value in zip(self.cleaned_data["group_by"], group, strict=False):
            filters[dim] = (value,)
            changes[dim] = value
        remaining = [d for d in self.drill_order() if d not in filters]
        changes["group_by"] = remaining[0] if remaining else ""
        return changes

    def drill_order(self) -> tuple[str, ...]:
        return self.dimensions


class CostFilterForm(_FilterForm):
    dimensions = COST_GROUPINGS

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        data["group_by"] = self._group_by(COST_GROUPINGS, ("line_item",))
        data["filters"] = self._filters()
        return data

    def drill_order(self) -> tuple[str, ...]:
        if self.cleaned_data["group_by"][:1] == ("model",):
            return ("line_item", "project_id", "api_key_id")  # a model's input, output, cache...
        return ("project_id", "line_item", "api_key_id")

    def query(self) -> CostQuery:
        data = self.cleaned_data
        return CostQuery(period=data["period"], group_by=data["group_by"], filters=data["filters"])


# The All organizations view groups by organization, then by one of these (or by nothing more).
ALL_GROUPINGS = ("organization", "project_id", "line_item", "model")


class AllCostFilterForm(CostFilterForm):
    """The Costs filters of the All organizations view: the period (in UTC days, the one
    timezone every organization's costs share: OpenAI reports them so), and what to group each
    organization's costs by. No filters: an id means something only in its own organization."""

    dimensions = ALL_GROUPINGS
    group_labels = {
        "organization": "Organization",
        **{d: f"Organization · {DIMENSION_LABELS[d]}" for d in ALL_GROUPINGS[1:]},
    }

    def __init__(self, data: QueryDict, *, now: dt.datetime) -> None:
        super().__init__(data, default_tz="UTC", now=now)

    def filter_dimensions(self) -> tuple[str, ...]:
        return ()

    def clean_tz(self) -> str:
        return "UTC"

    def clean(self) -> dict[str, Any]:
        data = super(CostFilterForm, self).clean()
        groups = self._group_by(ALL_GROUPINGS, ("organization",)) or ("organization",)
        if len(groups) > 1:
            self.add_error("group_by", "Group by one of: " + ", ".join(ALL_GROUPINGS) + ".")
            groups = ("organization",)
        data["group_by"] = groups
        data["filters"] = ()
        return data

    def params(self, **changes: Any) -> dict[str, str]:
        params = super().params(**changes)
        params.pop("tz", None)  # always UTC here
        return params

    def query(self) -> CostQuery:
        """The grouping under the organization (which the selectors add): () or one dimension."""
        data = self.cleaned_data
        dims = tuple(d for d in data["group_by"] if d != "organization")
        return CostQuery(period=data["period"], group_by=dims)


class UsageFilterForm(_FilterForm):
    family = forms.CharField(required=False, label="Family")
    bucket_width = forms.CharField(required=False, label="Bucket width")
    metric = forms.CharField(required=False, label="Metric")

    def selected_family(self) -> Family:
        return FAMILIES.get(self.data.get("family") or "completions") or FAMILIES["completions"]

    def filter_dimensions(self) -> tuple[str, ...]:
        return self.selected_family().dimensions

    def clean_family(self) -> str:
        slug = (self.cleaned_data.get("family") or "completions").strip()
        if slug not in FAMILIES:
            raise forms.ValidationError(
                f"Unknown usage family “{slug}”. Choose from: {', '.join(FAMILIES)}."
            )
        return slug

    def clean_bucket_width(self) -> str:
        width = (self.cleaned_data.get("bucket_width") or "1d").strip()
        if width not in WIDTHS:
            raise forms.ValidationError(f"Bucket width is 1d or 1h, not “{width}”.")
        return width

    def max_days(self) -> int:
        return MAX_HOURLY_DAYS if self.data.get("bucket_width") == "1h" else MAX_DAYS

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        family = FAMILIES.get(data.get("family") or "")
        if family is None:
            return data
        data["group_by"] = self._group_by(family.dimensions, (family.default_group,))
        data["filters"] = self._filters()
        metric = (data.get("metric") or "").strip() or family.default_metric
        if metric not in family.metric_names:
            self.add_error(
                "metric",
                f"{family.label} has no metric “{metric}”. "
                f"Choose from: {', '.join(family.metric_names)}.",
            )
        data["metric"] = metric
        return data

    def extra_params(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            "family": data["family"],
            "bucket_width": data["bucket_width"],
            "metric": data["metric"],
        }

    def drill_order(self) -> tuple[str, ...]:
        family = FAMILIES[self.cleaned_data["family"]]
        order = ("model", "project_id", "api_key_id", "user_id")
        return tuple(d for d in order if d in family.dimensions) + tuple(
            d for d in family.dimensions if d not in order
        )

    def query(self) -> UsageQuery:
        data = self.cleaned_data
        return UsageQuery(
            family=FAMILIES[data["family"]],
            period=data["period"],
            width=data["bucket_width"],
            group_by=data["group_by"],
            filters=data["filters"],
        )


EXPORT_ROWS = {"table": "This table", "daily": "Daily rows"}


class ExportForm(forms.Form):
    """What an export holds, beside the page's filters: the table on screen, or the rows of each
    day (the default, as before); money to the currency's minor unit (cents), unless the person
    asks for every digit with `precision=full` (the page's "Full precision" box)."""

    rows = forms.ChoiceField(choices=list(EXPORT_ROWS.items()), required=False)
    precision = forms.ChoiceField(
        choices=[("", "The currency's"), ("currency", "The currency's"), ("full", "Every digit")],
        required=False,
    )

    def clean_rows(self) -> str:
        return self.cleaned_data.get("rows") or "daily"

    @property
    def full_precision(self) -> bool:
        return self.cleaned_data.get("precision") == "full"


class ReportingSettingsForm(forms.Form):
    timezone = forms.CharField(max_length=64)

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"].strip()
        if name not in timezone_names() and name != "UTC":
            raise forms.ValidationError(f"Unknown timezone “{name}”.")
        return name
