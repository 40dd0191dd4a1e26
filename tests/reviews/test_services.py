"""Access review campaigns against the simulator: the snapshot, reviewers, decisions,
revocations through the API (by an Admin, automatically, retried), reminders and the close."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from orgadmin.access_matrix.selectors import project_access
from orgadmin.models import ActionLog, ProjectUser
from orgadmin.reviews import reminders, revoke, services
from orgadmin.reviews.models import Campaign, Item, Reminder, Reviewer
from orgadmin.services.changes import ChangeRefused
from orgadmin.simulator.faults import FaultConfig
from orgadmin.sync.directory import directory_sync
from tests.reviews.conftest import owner_emails, project_named, start


def _direct_person(campaign, project_name: str) -> Item:
    return (
        campaign.items.filter(project_name=project_name, kind="user", via="")
        .exclude(role="owner")
        .first()
    )


def test_it_freezes_every_access_path_of_the_chosen_projects(synced, store, admin, reviewers):
    campaign = start(synced, admin, store)
    chosen = [project_named(store, n).id for n in ("Analytics Copilot", "Voice Agent")]
    paths = project_access(org=synced, project_ids=chosen)
    frozen = {(i.project_id, i.kind, i.subject_id, i.via) for i in campaign.items.all()}
    assert frozen == {(a.project_id, a.kind, a.subject_id, a.via) for a in paths}
    assert {i.kind for i in campaign.items.all()} == {"user", "service_account", "api_key"}
    # A later sync after someone left changes what the matrix says, not the campaign.
    item = _direct_person(campaign, "Analytics Copilot")
    del store.projects[item.project_id].members[item.subject_id]
    directory_sync(org=synced)
    assert not ProjectUser.objects.filter(
        user_openai_id=item.subject_id, project__openai_id=item.project_id
    ).exists()
    assert campaign.items.filter(pk=item.pk).exists()
    assert campaign.items.count() == len(frozen)


def test_it_says_what_revoking_a_path_through_a_group_will_do(synced, store, admin, reviewers):
    campaign = start(synced, admin, store)
    through = campaign.items.filter(kind="user", via__startswith="group ").first()
    assert through is not None
    assert through.target_id.startswith("group_")
    assert f"from the group “{through.via.removeprefix('group ')}”" in through.effect
    assert "not the whole group" in through.effect


def test_project_owners_who_sign_in_here_review_their_projects(synced, store, admin, reviewers):
    campaign = start(synced, admin, store)
    rows = {
        (r.project_name, r.user_id, r.source) for r in Reviewer.objects.filter(campaign=campaign)
    }
    assert rows == {
        ("Analytics Copilot", reviewers["Analytics Copilot"].pk, "owner"),
        ("Voice Agent", reviewers["Voice Agent"].pk, "owner"),
    }


def test_a_project_without_an_owner_here_needs_a_named_reviewer(synced, store, admin, reviewers):
    with pytest.raises(ChangeRefused) as refused:
        start(synced, admin, store, names=("Analytics Copilot", "Data Pipeline"))
    assert "Data Pipeline" in refused.value.message
    assert refused.value.field == "people"
    assert not Campaign.objects.exists()  # nothing half-written
    campaign = start(
        synced, admin, store, names=("Analytics Copilot", "Data Pipeline"), people=[admin]
    )
    named = Reviewer.objects.get(campaign=campaign, project_name="Data Pipeline")
    assert (named.user, named.source) == (admin, "named")


def test_an_owner_without_a_role_on_this_connection_does_not_review(synced, store, admin):
    from tests.factories import UserFactory

    email = owner_emails(store, project_named(store, "Voice Agent"))[0]
    UserFactory(username="no-role-owner", email=email)  # signs in here, but no role
    with pytest.raises(ChangeRefused):
        start(synced, admin, store, names=("Voice Agent",))


def test_decisions_record_who_and_when_and_can_change_until_the_close(
    synced, store, admin, reviewers, clock
):
    campaign = start(synced, admin, store)
    reviewer = reviewers["Analytics Copilot"]
    item = campaign.items.filter(project_name="Analytics Copilot").first()
    with pytest.raises(ChangeRefused) as refused:
        services.decision_set(item=item, actor=reviewer, decision="revoke", comment="  ")
    assert refused.value.field == "comment"
    kept = services.decision_set(item=item, actor=reviewer, decision="keep", comment="")
    assert (kept.decision, kept.decided_by, kept.decided_at) == ("keep", reviewer, clock.datetime())
    clock.advance(hours=2)
    changed = services.decision_set(item=item, actor=reviewer, decision="revoke", comment="Left")
    assert (changed.decision, changed.comment, changed.revocation) == ("revoke", "Left", "pending")
    assert changed.decided_at == clock.datetime()
    services.campaign_close(campaign=campaign, actor=admin)
    with pytest.raises(ChangeRefused):
        services.decision_set(item=item, actor=reviewer, decision="keep", comment="")


def test_keep_all_remaining_keeps_only_the_reviewers_undecided_items(
    synced, store, admin, reviewers
):
    campaign = start(synced, admin, store)
    mine = {project_named(store, "Voice Agent").id}
    first = campaign.items.filter(project_id__in=mine).first()
    services.decision_set(item=first, actor=admin, decision="revoke", comment="Unused")
    count = services.keep_remaining(
        campaign=campaign, actor=reviewers["Voice Agent"], project_ids=mine
    )
    assert count == campaign.items.filter(project_id__in=mine).count() - 1
    assert campaign.items.get(pk=first.pk).decision == "revoke"
    assert not campaign.items.filter(project_id__in=mine, decision="").exists()
    assert campaign.items.exclude(project_id__in=mine).filter(decision="").exists()


def test_an_admin_carries_out_a_revocation_and_its_request_id_is_kept(
    synced, store, admin, reviewers
):
    campaign = start(synced, admin, store)
    item = _direct_person(campaign, "Analytics Copilot")
    services.decision_set(
        item=item, actor=reviewers["Analytics Copilot"], decision="revoke", comment="Left the team"
    )
    outcome = revoke.revocations_carry_out(campaign=campaign, actor=admin)
    item.refresh_from_db()
    assert [i.pk for i in outcome.done] == [item.pk]
    assert item.subject_id not in store.projects[item.project_id].members  # gone at OpenAI
    line = ActionLog.objects.get(action="project.user.remove", resource_id=item.project_id)
    assert (item.revocation, item.request_id, item.revoked_by_name) == (
        "done",
        line.request_id,
        admin.username,
    )
    assert item.request_id
    # Carrying out again sends nothing twice.
    assert revoke.revocations_carry_out(campaign=campaign, actor=admin).done == []


def test_a_key_is_revoked_automatically_when_the_campaign_allows_it(
    synced, store, admin, reviewers, django_capture_on_commit_callbacks
):
    campaign = start(synced, admin, store, auto_revoke=True)
    key = campaign.items.filter(kind="api_key", project_name="Voice Agent", target_id="").first()
    assert key is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.decision_set(
            item=key, actor=reviewers["Voice Agent"], decision="revoke", comment="Leaked"
        )
    key.refresh_from_db()
    assert key.subject_id not in store.api_keys
    line = ActionLog.objects.get(action="api_key.delete", resource_id=key.subject_id)
    assert (key.revocation, key.request_id) == ("done", line.request_id)
    assert line.actor == reviewers["Voice Agent"]


def test_a_failed_revocation_keeps_the_error_and_can_be_retried(
    synced, store, admin, reviewers, simulator, settings
):
    settings.OPENAI_MAX_RETRIES = 0
    campaign = start(synced, admin, store)
    account = campaign.items.filter(kind="service_account").first()
    services.decision_set(item=account, actor=admin, decision="revoke", comment="Unused")
    simulator.faults = FaultConfig(rate=1.0, mix={"500": 1})
    outcome = revoke.revocations_carry_out(campaign=campaign, actor=admin)
    account.refresh_from_db()
    assert [i.pk for i in outcome.failed] == [account.pk]
    assert (account.revocation, account.attempts) == ("failed", 1)
    assert "500" in account.revoke_error
    assert account.subject_id in store.projects[account.project_id].service_accounts
    simulator.faults = FaultConfig()
    retried = revoke.revocation_carry_out(item_id=account.pk, actor=admin)
    assert (retried.revocation, retried.attempts, retried.revoke_error) == ("done", 2, "")
    assert retried.request_id
    assert account.subject_id not in store.projects[account.project_id].service_accounts


def test_a_path_already_gone_is_recorded_as_such_without_a_call(synced, store, admin, reviewers):
    campaign = start(synced, admin, store)
    item = _direct_person(campaign, "Voice Agent")
    services.decision_set(item=item, actor=admin, decision="revoke", comment="Left")
    ProjectUser.objects.filter(
        user_openai_id=item.subject_id, project__openai_id=item.project_id
    ).delete()
    done = revoke.revocation_carry_out(item_id=item.pk, actor=admin)
    assert (done.revocation, done.request_id) == ("gone", "")
    assert item.subject_id in store.projects[item.project_id].members


def test_reminders_go_once_a_day_through_the_channels_and_by_email(
    synced, store, admin, reviewers, clock
):
    sent = []
    reminders.reminder_notifier_set(lambda **kw: sent.append(kw) or [object()])
    try:
        campaign = start(synced, admin, store)
        first = reminders.reminders_send(campaign=campaign)
        again = reminders.reminders_send(campaign=campaign)
    finally:
        from dashboard.alerts.services import notify

        reminders.reminder_notifier_set(notify)
    names = sorted(p.username for p in reviewers.values())
    assert (sorted(first.sent), sorted(again.already), again.sent) == (names, names, [])
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in reviewers.values())
    assert len(sent) == len(names)
    assert all(s["org"] == synced for s in sent)
    assert f"/reviews/{campaign.pk}/review/" in sent[0]["body"]
    rows = Reminder.objects.filter(campaign=campaign)
    assert {(r.user_id, r.channels, r.emailed) for r in rows} == {
        (p.pk, 1, True) for p in reviewers.values()
    }
    clock.advance(days=1)
    assert sorted(reminders.reminders_send(campaign=campaign).sent) == names


def test_reminders_reach_the_alert_channels(synced, store, admin, reviewers):
    from dashboard.alerts.models import Delivery
    from dashboard.alerts.services import channel_create

    channel_create(
        org=synced,
        name="Security",
        url="https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx",
        created_by=admin,
    )
    campaign = start(synced, admin, store)
    reminders.reminders_send(campaign=campaign)
    subjects = list(Delivery.objects.values_list("subject", flat=True))
    assert len(subjects) == len(reviewers)
    assert all("Q4 2026 access review" in s for s in subjects)


def test_nobody_with_everything_decided_is_reminded(synced, store, admin, reviewers):
    campaign = start(synced, admin, store)
    services.keep_remaining(campaign=campaign, actor=admin, project_ids=None)
    assert reminders.reminders_send(campaign=campaign).sent == []
    assert mail.outbox == []


def test_closing_lists_the_undecided_and_the_revocations_not_carried_out(
    synced, store, admin, reviewers
):
    campaign = start(synced, admin, store)
    items = list(campaign.items.all())
    revoked, waiting, kept = items[0], items[1], items[2]
    services.decision_set(item=revoked, actor=admin, decision="revoke", comment="Unused")
    revoke.revocation_carry_out(item_id=revoked.pk, actor=admin)
    services.decision_set(item=waiting, actor=admin, decision="revoke", comment="Unused too")
    services.decision_set(item=kept, actor=admin, decision="keep", comment="")
    closed = services.campaign_close(campaign=campaign, actor=admin)
    exceptions = dict(campaign.items.exclude(exception="").values_list("pk", "exception"))
    undecided = {i.pk for i in items[3:]}
    assert exceptions == {waiting.pk: "not_revoked", **dict.fromkeys(undecided, "undecided")}
    assert (closed.closed_by, closed.closed_by_name) == (admin, admin.username)
    with pytest.raises(ChangeRefused):
        services.campaign_close(campaign=closed, actor=admin)
    # A closed campaign's revocations are not carried out any more.
    assert revoke.revocation_carry_out(item_id=waiting.pk, actor=admin) is None


def test_closing_keeps_the_audit_log_chain_head(synced, store, admin, reviewers):
    from orgadmin.audit.chain import chain_head

    campaign = start(synced, admin, store)
    closed = services.campaign_close(campaign=campaign, actor=admin)
    head = chain_head(org=synced)
    if head is None:
        assert closed.chain_head == ""
        assert closed.chain_count is None
    else:
        assert (closed.chain_head, closed.chain_count) == (head.head, head.count)


def test_due_dates_are_kept(synced, store, admin, reviewers):
    campaign = start(synced, admin, store)
    assert campaign.due_on - campaign.started_at.date() >= dt.timedelta(days=13)
