"""The evidence a campaign files: what the report holds (one place for the page, the PDF and the
CSV), every decision as CSV rows, and the PDF made by WeasyPrint from the same HTML template."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured

from orgadmin.reviews import selectors
from orgadmin.reviews.models import Campaign, Item

CSV_COLUMNS = [
    "campaign",
    "project",
    "project_id",
    "kind",
    "subject_id",
    "name",
    "email",
    "role",
    "via",
    "decision",
    "comment",
    "decided_by",
    "decided_at_utc",
    "revocation",
    "revoked_at_utc",
    "openai_request_id",
    "revocation_error",
    "exception",
]
PANGO_MISSING = (
    "WeasyPrint can't load Pango, which it needs to lay out the PDF. On Debian or Ubuntu install "
    "it with: apt-get install libpango-1.0-0 libpangoft2-1.0-0 (the Dockerfile's image has it)."
)


@dataclass
class Evidence:
    campaign: Campaign
    reviewers: list[selectors.ReviewerProgress]
    projects: list[selectors.ProjectItems]
    revocations: list[Item]
    exceptions: list[Item]
    reminders: int


def evidence_of(*, campaign: Campaign) -> Evidence:
    """Everything the report shows (six queries)."""
    items = selectors.items_for(campaign=campaign, project_ids=None)
    return Evidence(
        campaign=campaign,
        reviewers=selectors.reviewer_progress(campaign=campaign),
        projects=selectors.by_project(items),
        revocations=[i for i in items if i.decision == Item.Decision.REVOKE],
        exceptions=[i for i in items if i.exception],
        reminders=campaign.reminders.count(),
    )


def _utc(when: dt.datetime | None) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else ""


def csv_rows(*, campaign: Campaign) -> Iterator[list[Any]]:
    """One row per item: the access path, its decision and its revocation's outcome."""
    for i in Item.objects.filter(campaign=campaign).iterator():
        yield [
            campaign.name,
            i.project_name,
            i.project_id,
            i.kind_label,
            i.subject_id,
            i.label,
            i.email,
            i.role,
            i.via,
            i.get_decision_display() if i.decision else "",
            i.comment,
            i.decided_by_name,
            _utc(i.decided_at),
            i.get_revocation_display() if i.revocation else "",
            _utc(i.revoked_at),
            i.request_id,
            i.revoke_error,
            i.get_exception_display() if i.exception else "",
        ]


class _NoFetching:
    """WeasyPrint's URL fetcher for the report: our own stylesheet from the static files, and
    nothing else (no request leaves the server while a PDF is made)."""

    def __call__(self, url: str) -> Any:
        raise ValueError(f"not fetched: {url[:80]}")


PDF_STYLESHEET = "css/reviews.css"


def evidence_pdf(html: str) -> bytes | None:
    """The report's HTML as PDF bytes; None when WeasyPrint can't load Pango (PANGO_MISSING)."""
    document = evidence_layout(html)
    return None if document is None else document.write_pdf()


def evidence_layout(html: str) -> Any:
    """The report laid out in pages (a WeasyPrint Document), or None without Pango."""
    try:
        import weasyprint
    except OSError:  # the Python package is there, the system's Pango isn't
        return None
    sheet = finders.find(PDF_STYLESHEET)  # the page's own sheet: its print rules and @page
    if not sheet:
        raise ImproperlyConfigured(f"The evidence report's stylesheet {PDF_STYLESHEET} is missing.")
    document = weasyprint.HTML(string=html, url_fetcher=_NoFetching())
    return document.render(stylesheets=[weasyprint.CSS(filename=sheet)])
