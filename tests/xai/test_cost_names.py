"""An xAI team's keys are named on Costs and the Overview as xAI names them, also once deleted."""

from __future__ import annotations

from django.urls import reverse

from dashboard.sync.usage import usage_sync
from orgadmin.access import Role
from orgadmin.models import AuditName
from tests.factories import UserFactory


def test_costs_by_key_show_the_keys_names_not_their_ids(client_as, team, xai_simulator):
    assert usage_sync(org=team).status == "succeeded"
    keys = {k.api_key_id: k.name for k in xai_simulator.store.keys.values()}
    remembered = dict(AuditName.objects.filter(org=team).values_list("object_id", "name"))
    spent = {i for i in remembered if i in keys}
    assert spent  # the demo's keys that cost something
    assert all(remembered[i] == keys[i] for i in spent)

    finance = UserFactory(role=Role.FINANCE)
    page = client_as(finance).get(reverse("costs"), {"preset": "30d", "group_by": "api_key_id"})
    text = page.content.decode()
    named = [keys[i] for i in spent]
    assert any(name in text for name in named)
    overview = client_as(finance).get(reverse("home")).content.decode()
    assert any(name in overview for name in named)


def test_a_deleted_key_keeps_its_name(client_as, team, xai_simulator):
    assert usage_sync(org=team).status == "succeeded"
    key_id, name = next(iter(AuditName.objects.filter(org=team).values_list("object_id", "name")))
    xai_simulator.store.keys.pop(key_id, None)  # gone from the team, still on the bill
    finance = UserFactory(role=Role.FINANCE)
    page = client_as(finance).get(reverse("costs"), {"preset": "90d", "group_by": "api_key_id"})
    assert name in page.content.decode()
