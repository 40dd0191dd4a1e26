"""The hygiene page as people use it: who may read and change it, outcomes, thresholds, and a
bulk revoke from its preview to each key's outcome."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from orgadmin.hygiene.models import Finding
from orgadmin.hygiene.rules import Kind
from orgadmin.hygiene.selectors import revoke_ref
from orgadmin.models import ActionLog, ProjectApiKey


def _revocable(org) -> list[Finding]:
    rows = Finding.objects.filter(org=org, resolved_at__isnull=True, group="Keys")
    seen, found = set(), []
    for f in rows.order_by("rank", "subject"):
        ref = revoke_ref(f)
        if ref and ref.startswith("project:") and ref not in seen:
            seen.add(ref)
            found.append(f)
    return found


def test_finance_may_not_open_it_and_an_auditor_reads_without_controls(
    hygienic, client_as, finance, auditor
):
    assert client_as(finance).get("/hygiene/").status_code == 403
    page = client_as(auditor).get("/hygiene/")
    assert page.status_code == 200
    text = page.content.decode()
    finding = Finding.objects.filter(org=hygienic, kind=Kind.CERT_EXPIRED_ACTIVE).first()
    assert finding.title.replace("“", "&ldquo;")[:20] in text or finding.title[:20] in text
    assert "Accept…" not in text
    assert "Revoke the ticked keys" not in text
    auditor_client = client_as(auditor)
    outcome = f"/hygiene/findings/{finding.pk}/outcome/"
    assert auditor_client.post(outcome, {"outcome": "ignored"}).status_code == 403
    assert auditor_client.get("/hygiene/revoke/?key=project:key_x").status_code == 403
    assert auditor_client.post("/hygiene/revoke/confirm/", {"key": "project:x"}).status_code == 403
    finding.refresh_from_db()
    assert finding.outcome == Finding.Outcome.OPEN


def test_an_admin_accepts_with_a_reason_and_a_future_day_only(hygienic, client_as, admin):
    finding = Finding.objects.filter(org=hygienic, kind=Kind.OWNERS_EXCESS).get()
    url = f"/hygiene/findings/{finding.pk}/outcome/"
    c = client_as(admin)
    refused = c.post(url, {"outcome": "accepted", "reason": "", "until": "2020-01-01"})
    assert refused.status_code == 200
    assert "Reason: Say why this is accepted." in refused.content.decode()
    finding.refresh_from_db()
    assert finding.outcome == Finding.Outcome.OPEN
    until = (timezone.now() + dt.timedelta(days=30)).date()
    c.post(url, {"outcome": "accepted", "reason": "Founders", "until": until.isoformat()})
    finding.refresh_from_db()
    assert (finding.outcome, finding.reason, finding.accepted_until) == (
        "accepted",
        "Founders",
        until,
    )
    assert finding.outcome_by == admin
    shown = c.get("/hygiene/?show=accepted").content.decode()
    assert "Founders" in shown
    assert finding.title in shown
    assert finding.title not in c.get("/hygiene/").content.decode()
    assert ActionLog.objects.filter(action="hygiene.accepted", org=hygienic).count() == 1


def test_bad_thresholds_are_named_and_change_nothing(hygienic, client_as, admin):
    c = client_as(admin)
    page = c.post("/hygiene/thresholds/", {"max_owners": "lots"})
    assert page.status_code == 200
    assert "Most organization owners" in page.content.decode()
    c.post(
        "/hygiene/thresholds/",
        {
            "key_unused_days": 90, "key_grace_days": 14, "admin_key_max_age_days": 180,
            "admin_key_unused_days": 30, "max_owners": 50, "member_dormant_days": 90,
            "invite_pending_days": 3, "certificate_warning_days": 30,
        },
    )  # fmt: skip
    excess = Finding.objects.get(org=hygienic, kind=Kind.OWNERS_EXCESS)
    assert excess.resolved_at is not None


def test_a_bulk_revoke_removes_exactly_the_chosen_keys(hygienic, client_as, admin, simulator):
    chosen = _revocable(hygienic)[:3]
    refs = [revoke_ref(f) for f in chosen]
    ids = {f.subject for f in chosen}
    store_before = set(simulator.store.api_keys)
    cache_before = set(
        ProjectApiKey.objects.filter(org=hygienic).values_list("openai_id", flat=True)
    )
    c = client_as(admin)

    preview = c.get("/hygiene/revoke/", {"key": refs})
    text = preview.content.decode()
    for key in ProjectApiKey.objects.filter(openai_id__in=ids).select_related("project"):
        assert key.name in text
        assert key.project.name in text
        assert key.owner_label in text
    assert store_before == set(simulator.store.api_keys)  # a preview changes nothing

    result = c.post("/hygiene/revoke/confirm/", {"key": refs})
    assert result.status_code == 200
    assert f"Revoked {len(ids)} of {len(ids)} keys" in result.content.decode()
    assert set(simulator.store.api_keys) == store_before - ids
    cache_after = set(
        ProjectApiKey.objects.filter(org=hygienic).values_list("openai_id", flat=True)
    )
    assert cache_after == cache_before - ids
    lines = ActionLog.objects.filter(org=hygienic, action="api_key.delete")
    assert sorted(lines.values_list("resource_id", flat=True)) == sorted(ids)
    assert all(line.outcome == "ok" and line.request_id for line in lines)


def test_one_failing_key_does_not_hide_the_others(hygienic, client_as, admin, simulator):
    chosen = _revocable(hygienic)[:2]
    refs = [revoke_ref(f) for f in chosen]
    gone = chosen[0].subject
    del simulator.store.api_keys[gone]  # revoked at OpenAI since our last sync
    result = client_as(admin).post("/hygiene/revoke/confirm/", {"key": refs}).content.decode()
    assert "Revoked 1 of 2 key" in result
    assert "Failed" in result
    failed = ActionLog.objects.get(org=hygienic, resource_id=gone)
    assert failed.outcome == "error"
    assert failed.request_id
    assert failed.request_id in result  # the provider's request id, readable on the page
    assert chosen[1].subject not in simulator.store.api_keys


def test_the_preview_warns_about_keys_that_spend(hygienic, client_as, admin):
    spending = Finding.objects.filter(org=hygienic, kind=Kind.KEY_SPENDING).first()
    page = client_as(admin).get("/hygiene/revoke/", {"key": [f"project:{spending.subject}"]})
    text = page.content.decode()
    assert "in use" in text
    assert spending.evidence["spend_30d"] in text
