"""Issue 16, item 8: ranges read as people say them; "To" is the last day, included, while the
URL and the API keep the exclusive end."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.urls import reverse

from orgadmin.templatetags.ui import range_label
from tests.factories import OrganizationFactory

D = dt.date


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (D(2026, 11, 1), D(2026, 12, 1), "Nov 1 – Nov 30"),
        (D(2026, 11, 7), D(2026, 12, 7), "Nov 7 – Dec 6"),
        (D(2026, 11, 7), D(2026, 11, 8), "Nov 7"),
        (D(2026, 11, 1), D(2027, 1, 4), "Nov 1, 2026 – Jan 3, 2027"),
        (D(2026, 12, 1), D(2027, 1, 1), "Dec 1 – Dec 31"),  # the end is Jan 1: still 2026
        (D(2025, 3, 1), D(2025, 4, 1), "Mar 1 – Mar 31, 2025"),  # another year says it
        (D(2025, 3, 9), D(2025, 3, 10), "Mar 9, 2025"),
    ],
)
def test_it_says_a_range_as_people_do(start, end, label):
    assert range_label(start, end, this_year=2026) == label


def test_the_template_filter_takes_dates_and_datetimes():
    template = Template("{% load ui %}{{ a|date_range:b }}|{{ a|date_range:none }}")
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    text = template.render(Context({"a": start, "b": D(2026, 12, 1), "none": None}))
    assert text.startswith("Nov 1 – Nov 30")
    assert text.endswith("|")


@pytest.fixture
def acme(db):
    return OrganizationFactory(name="Acme")


def test_costs_take_the_last_day_and_keep_the_exclusive_end_in_the_url(acme, client_as, finance):
    response = client_as(finance).get(
        reverse("costs"), {"start": "2026-11-01", "last": "2026-11-30"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "start=2026-11-01&end=2026-12-01" in response["HX-Push-Url"]  # exclusive, as before
    assert "last=" not in response["HX-Push-Url"]
    body = response.content.decode()
    assert 'name="last" value="2026-11-30"' in body  # "To" shows the last day, included
    assert "Nov 1 – Nov 30" in body
    assert "exclusive" not in body


def test_costs_from_a_url_with_the_exclusive_end_show_the_last_day(acme, client_as, finance):
    response = client_as(finance).get(
        reverse("costs"), {"start": "2026-11-07", "end": "2026-12-07"}
    )

    body = response.content.decode()
    assert 'name="last" value="2026-12-06"' in body
    assert 'id="filter-range">Nov 7 – Dec 6' in body
    assert "(exclusive)" not in body


def test_a_last_day_before_the_first_is_explained_beside_to(acme, client_as, finance):
    response = client_as(finance).get(
        reverse("costs"), {"start": "2026-11-07", "last": "2026-11-01"}
    )

    body = response.content.decode()
    assert 'id="end-error"' in body
    assert "on or after the start date" in body
