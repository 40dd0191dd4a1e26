"""A name from the API is text in a chart, in Chromium: a project named like a link shows as
those letters in the legend, the hover label and the drill-down menu, and no link is drawn."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from dashboard.families import FAMILIES
from dashboard.models import USAGE_MODELS, CostBucket
from dashboard.sync.writer import usage_rollup
from orgadmin.access import Role
from orgadmin.models import Project
from orgadmin.sync.audit import audit_events_store
from tests.browser.conftest import screenshot
from tests.factories import OrganizationFactory, UserFactory

PHISH = '<a href="https://evil.example/phish">Re-authenticate here</a>'
ENTITIES = "R&D &lt;b&gt; team"  # shown as typed too, not as "R&D <b> team"

# Every link Plotly drew inside a chart: it writes `xlink:href`, which `a[href]` doesn't match.
LINKS_IN = """(id) => [...document.querySelectorAll(`#${id} a`)].map(
    (a) => a.getAttribute('href') || a.getAttributeNS('http://www.w3.org/1999/xlink', 'href')
)"""


@pytest.fixture
def phish_org(db):
    """Two projects with costs and usage, named (by the API) like a link and like entities."""
    org = OrganizationFactory(name="Acme")
    Project.objects.create(org=org, openai_id="proj_phish", name=PHISH)
    Project.objects.create(org=org, openai_id="proj_calm", name=ENTITIES)
    today = timezone.now().date()
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    for days_ago in (1, 2, 3):
        for project, amount in (("proj_phish", "4.00"), ("proj_calm", "1.00")):
            CostBucket.objects.create(
                org=org, day=today - dt.timedelta(days=days_ago), line_item="gpt-5, input",
                project_id=project, api_key_id="key_1", amount=Decimal(amount), currency="usd",
            )  # fmt: skip
            USAGE_MODELS["completions"].objects.create(
                org=org, bucket_start=hour - dt.timedelta(days=days_ago), project_id=project,
                user_id="user_1", api_key_id="key_1", model="gpt-5", batch="false",
                service_tier="default", input_tokens=100, output_tokens=10, num_model_requests=2,
            )  # fmt: skip
    start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # the daily rollup, as a sync would build it
    usage_rollup(org=org, family=FAMILIES["completions"], start=start, end=hour + dt.timedelta(1))
    return org


def _tallest_bar_centre(page, chart_id: str) -> tuple[float, float]:
    """Where to point at the chart's tallest bar: the biggest series' (the first trace), the
    chart scrolled into view first (a mouse can only point inside the window)."""
    page.locator(f"#{chart_id}").scroll_into_view_if_needed()
    boxes = [
        box
        for path in page.locator(f"#{chart_id} .trace.bars").first.locator(".point path").all()
        if (box := path.bounding_box())
    ]
    box = max(boxes, key=lambda b: b["height"])
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _assert_text_not_link(page, chart_id: str) -> None:
    page.wait_for_selector(f"#{chart_id}[data-rendered=true]")
    assert page.locator(f'#{chart_id} a[href*="evil.example"]').count() == 0
    assert not [href for href in page.evaluate(LINKS_IN, chart_id) if "evil" in (href or "")]
    legend = page.locator(f"#{chart_id} .legendtext").all_text_contents()
    assert PHISH in legend
    assert ENTITIES in legend


def test_it_shows_a_project_named_like_a_link_as_text_on_the_costs_chart(page, login, phish_org):
    # An Admin: a bar click opens the drill-down menu only when it has more than one way to go
    # (the audit log among them); Finance, who can't open the audit log, narrows at once.
    login(UserFactory(username="adm-names", role=Role.ADMIN))
    page.goto("/costs/?preset=7d&group_by=project_id")

    _assert_text_not_link(page, "chart-costs")
    screenshot(page, "costs-name-as-text")

    # The hover label says the name as typed too, and so does the drill-down menu.
    x, y = _tallest_bar_centre(page, "chart-costs")
    page.mouse.move(x, y)
    hover = page.locator("#chart-costs .hoverlayer .hovertext")
    hover.first.wait_for()
    assert PHISH in " ".join(hover.all_text_contents())
    assert not [href for href in page.evaluate(LINKS_IN, "chart-costs") if "evil" in (href or "")]
    page.mouse.click(x, y)
    menu = page.locator(".drill-menu")
    menu.wait_for()
    assert f"Show only {PHISH}" in menu.inner_text()
    assert all("evil" not in (a.get_attribute("href") or "") for a in menu.locator("a").all())
    assert page.js_errors == []


def test_it_shows_a_project_named_like_a_link_as_text_on_the_usage_chart(page, login, phish_org):
    login(UserFactory(username="fin-usage-names", role=Role.FINANCE))
    page.goto("/usage/?family=completions&preset=7d&group_by=project_id")

    _assert_text_not_link(page, "chart-usage")
    assert page.js_errors == []


def test_it_shows_an_event_type_like_a_link_as_text_on_the_audit_chart(page, login, db):
    org = OrganizationFactory(name="Odd types")
    raw = {
        "id": "audit_log-odd",
        "type": '<a href="https://evil">Re-authenticate</a>.created',
        "effective_at": int(timezone.now().timestamp()) - 3600,
    }
    with transaction.atomic():
        audit_events_store(org=org, raws=[raw])
    login(UserFactory(username="auditor-names", role=Role.AUDITOR))
    page.goto("/audit-log/")

    page.wait_for_selector("#audit-chart[data-rendered=true]")
    assert not [href for href in page.evaluate(LINKS_IN, "audit-chart") if "evil" in (href or "")]
    legend = " ".join(page.locator("#audit-chart .legendtext").all_text_contents())
    assert '<a href="https://evil">' in legend.lower()
    assert page.js_errors == []
