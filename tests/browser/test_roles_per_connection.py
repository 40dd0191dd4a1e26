"""A person with a role on one connection only, in a real browser (issue 17, item 2): they see
that connection's costs, the switcher doesn't offer the other one, and typing the other one's
URLs leads nowhere."""

from __future__ import annotations

import pytest

from orgadmin.access import Role
from tests.factories import OrganizationFactory, UserFactory


@pytest.fixture
def other(db):
    return OrganizationFactory(name="Other Org Hidden")


def test_finance_of_one_connection_sees_nothing_of_the_other(page, login, org, other):
    login(UserFactory(username="fin-one", roles_on={org: Role.FINANCE}))
    page.goto("/costs/")
    assert page.locator("h1").first.inner_text().startswith("Costs")
    assert page.locator(".org-name").inner_text() == org.name  # one connection: no switcher
    assert page.locator("#org-switcher").count() == 0
    assert "Finance" in page.locator(".user-menu summary").inner_text()
    for path in (f"/connections/{other.pk}/rename/", f"/connections/{other.pk}/key/"):
        response = page.goto(path)
        assert response.status in (403, 404), path
        assert other.name not in page.content(), path
    page.goto("/")
    assert other.name not in page.content()
