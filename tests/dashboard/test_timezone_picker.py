"""The reporting timezone is a search box over the ~600 zones (issue 16): a datalist the browser
filters as one types, names typed loosely still found, and a clear error with suggestions."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from dashboard.forms import timezone_error, timezone_match, timezone_names
from tests.factories import OrganizationFactory


@pytest.fixture
def acme(db):
    return OrganizationFactory(name="Acme")


@pytest.mark.parametrize("page", ["costs", "usage"])
def test_it_offers_every_zone_in_a_searchable_list(acme, client_as, finance, page):
    html = client_as(finance).get(reverse(page), {"tz": "Asia/Tokyo"}).content.decode()

    field = re.search(r'<input type="text" name="tz" list="tz-names"[^>]*>', html)
    assert field is not None
    assert 'value="Asia/Tokyo"' in field.group(0)
    assert '<select name="tz"' not in html
    datalist = html.split('<datalist id="tz-names">', 1)[1].split("</datalist>", 1)[0]
    assert datalist.count("<option") == len(timezone_names()) > 500
    assert "<option>Europe/Paris</option>" in datalist


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("Paris", "Europe/Paris"),
        ("new york", "America/New_York"),
        (" UTC ", "UTC"),
    ],
)
def test_it_finds_the_zone_a_person_typed(acme, client_as, finance, typed, zone):
    response = client_as(finance).get(reverse("costs"), {"tz": typed})
    assert response.status_code == 200
    assert response.context["controls"]["tz"] == zone
    assert 'id="tz-error"' not in response.content.decode()


def test_it_explains_text_that_names_no_zone_and_suggests_close_ones(acme, client_as, finance):
    html = client_as(finance).get(reverse("costs"), {"tz": "Europe/Pariss"}).content.decode()
    error = re.search(r'<small class="form-error" id="tz-error" role="alert">([^<]+)', html)
    assert error is not None
    assert "Unknown timezone “Europe/Pariss”" in error.group(1)
    assert "Did you mean Europe/Paris" in error.group(1)
    # What was typed stays in the box, marked invalid, to be corrected.
    assert re.search(
        r'name="tz" list="tz-names" value="Europe/Pariss"[^>]*aria-invalid="true"', html
    )


def test_it_matches_only_what_names_one_zone():
    assert timezone_match("london") == "Europe/London"
    assert timezone_match("Mars/Olympus") is None
    assert timezone_match("") is None
    assert "Did you mean" not in timezone_error("zzzzzzzz")
