"""Access review pages: who may open what, starting a campaign, a reviewer's decisions (htmx),
the Admin's buttons, and the evidence report as HTML, CSV and PDF."""

from __future__ import annotations

import csv
import io

import pytest
from django.core import mail

from orgadmin.access import Role
from orgadmin.reviews import evidence, revoke, services
from orgadmin.reviews.models import Campaign, Item
from tests.conftest import REQUIRE_SERVICES
from tests.factories import UserFactory
from tests.reviews.conftest import HX, project_named, start


@pytest.fixture
def campaign(synced, store, admin, reviewers):
    return start(synced, admin, store)


def _body(response) -> str:
    return (b"".join(response) if response.streaming else response.content).decode()


def test_an_admin_starts_a_campaign_from_the_form(client_as, admin, synced, store, reviewers):
    voice = project_named(store, "Voice Agent")
    c = client_as(admin)
    page = c.get("/reviews/start/")
    assert "No owner signs in here" in page.content.decode()  # Data Pipeline has none
    response = c.post(
        "/reviews/start/",
        {
            "name": "Q4 2026 access review",
            "scope": "chosen",
            "projects": [voice.id],
            "due_on": "2999-01-31",
            "reviewers": "owner",
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reviews/{campaign.pk}/"
    assert set(campaign.items.values_list("project_name", flat=True)) == {"Voice Agent"}
    # Its reviewer hears at once, by mail (and the alert channels), with the link to their items.
    (sent,) = [m for m in mail.outbox if "Q4 2026 access review" in m.subject]
    assert sent.to == [reviewers["Voice Agent"].email]
    assert f"/reviews/{campaign.pk}/review/" in sent.body
    assert "told 1 reviewer(s)" in c.get(response["Location"]).content.decode()
    listing = client_as(admin).get("/reviews/").content.decode()
    assert "Q4 2026 access review" in listing
    assert f"0 of {campaign.items.count()}" in listing


def test_the_start_form_names_what_is_wrong(client_as, admin, synced, store, reviewers):
    response = client_as(admin).post(
        "/reviews/start/",
        {"name": "Q4", "scope": "all", "due_on": "2001-01-01", "reviewers": "owner"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Pick a day after today." in body
    assert not Campaign.objects.exists()
    # Every project in scope needs a reviewer: those without an owner here are named.
    response = client_as(admin).post(
        "/reviews/start/",
        {"name": "Q4", "scope": "all", "due_on": "2999-01-01", "reviewers": "owner"},
    )
    assert "name who reviews it" in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_reviewer_sees_only_their_projects_items(client_as, campaign, reviewers):
    page = client_as(reviewers["Voice Agent"]).get(f"/reviews/{campaign.pk}/review/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Voice Agent" in body
    assert "Analytics Copilot" not in body
    for item in campaign.items.filter(project_name="Voice Agent"):
        assert f'id="item-{item.pk}"' in body


def test_anyone_else_gets_404_from_a_review_and_an_admin_sees_all(
    client_as, campaign, admin, auditor, finance, synced
):
    url = f"/reviews/{campaign.pk}/review/"
    assert client_as(auditor).get(url).status_code == 404
    assert client_as(finance).get(url).status_code == 404
    other_admin = UserFactory(username="other-admin", roles_on={})
    assert client_as(other_admin).get(url).status_code == 404
    body = client_as(admin).get(url).content.decode()
    assert "Voice Agent" in body
    assert "Analytics Copilot" in body
    # The Auditor reads the campaign and its evidence, and changes nothing.
    assert client_as(auditor).get(f"/reviews/{campaign.pk}/").status_code == 200
    assert client_as(auditor).get(f"/reviews/{campaign.pk}/evidence/").status_code == 200
    assert client_as(auditor).post(f"/reviews/{campaign.pk}/close/").status_code == 403


def test_a_reviewer_decides_one_by_one_with_htmx(client_as, campaign, reviewers):
    reviewer = reviewers["Voice Agent"]
    item = campaign.items.filter(project_name="Voice Agent").first()
    url = f"/reviews/{campaign.pk}/review/decide/"
    client = client_as(reviewer)
    refused = client.post(url, {"item_id": item.pk, "decision": "revoke"}, headers=HX)
    assert "Comment: Say why it should be revoked." in refused.content.decode()
    item.refresh_from_db()
    assert item.decision == ""
    answer = client.post(
        url, {"item_id": item.pk, "decision": "revoke", "comment": "Left in May"}, headers=HX
    )
    body = answer.content.decode()
    assert f'id="item-{item.pk}"' in body
    assert "Revoke" in body
    assert reviewer.username in body
    assert "reviewDecided" in answer["HX-Trigger"]
    item.refresh_from_db()
    assert (item.decision, item.comment, item.decided_by) == ("revoke", "Left in May", reviewer)


def test_a_reviewer_cannot_decide_another_projects_item(client_as, campaign, reviewers):
    item = campaign.items.filter(project_name="Analytics Copilot").first()
    response = client_as(reviewers["Voice Agent"]).post(
        f"/reviews/{campaign.pk}/review/decide/", {"item_id": item.pk, "decision": "keep"}
    )
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.decision == ""


def test_keep_all_remaining(client_as, campaign, reviewers):
    client = client_as(reviewers["Voice Agent"])
    client.post(f"/reviews/{campaign.pk}/review/keep-rest/")
    mine = campaign.items.filter(project_name="Voice Agent")
    assert set(mine.values_list("decision", flat=True)) == {"keep"}
    assert campaign.items.filter(project_name="Analytics Copilot", decision="").exists()


def test_an_admin_carries_out_revocations_from_the_campaign_page(
    client_as, campaign, admin, finance, store
):
    item = campaign.items.filter(kind="api_key", target_id="").first()
    services.decision_set(item=item, actor=admin, decision="revoke", comment="Unused")
    assert client_as(finance).post(f"/reviews/{campaign.pk}/revoke/").status_code == 403
    response = client_as(admin).post(f"/reviews/{campaign.pk}/revoke/", follow=True)
    item.refresh_from_db()
    assert item.revocation == "done"
    assert item.subject_id not in store.api_keys
    assert item.request_id in response.content.decode()


@pytest.mark.parametrize("junk", ["abc", "-1", str(10**30), "\x00", "²", "١"])
def test_an_item_id_that_is_no_number_is_no_such_item(client_as, campaign, admin, junk):
    """Refused with a 404, never a 500: "²" passes `str.isdigit` but not `int`."""
    item = campaign.items.filter(project_name="Voice Agent").first()
    services.decision_set(item=item, actor=admin, decision="revoke", comment="Unused")
    client = client_as(admin)
    decide = f"/reviews/{campaign.pk}/review/decide/"
    assert client.post(decide, {"item_id": junk, "decision": "keep"}).status_code == 404
    assert client.post(f"/reviews/{campaign.pk}/revoke/", {"item_id": junk}).status_code == 404
    item.refresh_from_db()
    assert (item.decision, item.revocation) == ("revoke", "pending")  # not carried out


def test_send_reminders_now(client_as, campaign, admin, reviewers):
    response = client_as(admin).post(f"/reviews/{campaign.pk}/remind/", follow=True)
    body = response.content.decode()
    assert all(p.username in body for p in reviewers.values())
    assert len(mail.outbox) == len(reviewers)
    again = client_as(admin).post(f"/reviews/{campaign.pk}/remind/", follow=True)
    assert "Already reminded today" in again.content.decode()
    assert len(mail.outbox) == len(reviewers)


def _closed_with_one_revocation(campaign, admin):
    items = list(campaign.items.all())
    services.decision_set(item=items[0], actor=admin, decision="revoke", comment="=HYPERLINK(1)")
    revoke.revocation_carry_out(item_id=items[0].pk, actor=admin)
    services.decision_set(item=items[1], actor=admin, decision="keep", comment="Needed")
    return services.campaign_close(campaign=campaign, actor=admin), items


def test_the_evidence_csv_has_every_decision_in_safe_cells(client_as, campaign, admin, auditor):
    closed, items = _closed_with_one_revocation(campaign, admin)
    response = client_as(auditor).get(f"/reviews/{closed.pk}/evidence.csv")
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert len(rows) == len(items)
    revoked = next(r for r in rows if r["subject_id"] == items[0].subject_id)
    items[0].refresh_from_db()
    assert revoked["decision"] == "Revoke"
    assert revoked["decided_by"] == admin.username
    assert revoked["comment"] == "'=HYPERLINK(1)"  # a formula comes out as text
    assert revoked["openai_request_id"] == items[0].request_id != ""
    assert {r["exception"] for r in rows} == {"", "Not decided by the close"}


def test_the_evidence_page_holds_scope_decisions_revocations_and_exceptions(
    client_as, campaign, admin, auditor
):
    closed, items = _closed_with_one_revocation(campaign, admin)
    items[0].refresh_from_db()
    body = client_as(auditor).get(f"/reviews/{closed.pk}/evidence/").content.decode()
    for text in ("Voice Agent", "Analytics Copilot", admin.username, items[0].request_id, "Needed"):
        assert text in body
    assert "Not decided by the close" in body
    assert ("no audit event stored at closing" in body) == (closed.chain_head == "")
    if closed.chain_head:
        assert closed.chain_head in body


def _pango_loads() -> bool:
    try:
        import weasyprint  # noqa: F401
    except OSError:
        return False
    return True


def test_the_evidence_pdf_is_a_pdf(client_as, campaign, admin, auditor, monkeypatch):
    if not _pango_loads():
        if REQUIRE_SERVICES:
            pytest.fail("REQUIRE_SERVICES=1 but WeasyPrint can't load Pango")
        pytest.skip("WeasyPrint can't load Pango here")
    closed, _ = _closed_with_one_revocation(campaign, admin)
    laid_out = []
    layout = evidence.evidence_layout
    monkeypatch.setattr(
        evidence, "evidence_layout", lambda html: laid_out.append(layout(html)) or laid_out[-1]
    )
    response = client_as(auditor).get(f"/reviews/{closed.pk}/evidence.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    # Laid out with the report's own sheet: A4 pages, each numbered "Page n of N" in its footer,
    # and the decisions in them.
    (document,) = laid_out
    pages = [" ".join(_texts(page._page_box)) for page in document.pages]
    assert all(f"Page {n} of {len(pages)}" in text for n, text in enumerate(pages, 1))
    assert round(document.pages[0].width) == 794  # A4 at 96 px an inch
    text = " ".join(pages)
    assert "=HYPERLINK(1)" in text  # the revoke decision's comment, on one line
    assert "Needed" in text


def _texts(box) -> list[str]:
    return [b.text for b in box.descendants() if getattr(b, "text", None)]


def test_without_pango_the_pdf_link_says_what_to_install(client_as, campaign, auditor, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def refusing(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refusing)
    response = client_as(auditor).get(f"/reviews/{campaign.pk}/evidence.pdf")
    assert response.status_code == 503
    assert "apt-get install libpango-1.0-0" in response.content.decode()


def test_the_navigation_shows_reviews_to_admins_and_auditors(
    client_as, admin, auditor, finance, synced
):
    assert 'href="/reviews/"' in client_as(auditor).get("/reviews/").content.decode()
    assert 'href="/reviews/"' not in client_as(finance).get("/").content.decode()


def test_a_reviewer_with_another_role_still_reaches_their_review(client_as, synced, store, admin):
    """A reviewer needs some role on the connection, not the Admin's or Auditor's."""
    from tests.reviews.conftest import dashboard_person, owner_emails

    email = owner_emails(store, project_named(store, "Voice Agent"))[0]
    person = dashboard_person(synced, email, Role.FINANCE)
    campaign = start(synced, admin, store, names=("Voice Agent",))
    assert client_as(person).get(f"/reviews/{campaign.pk}/review/").status_code == 200
    item = Item.objects.filter(campaign=campaign).first()
    assert item is not None
