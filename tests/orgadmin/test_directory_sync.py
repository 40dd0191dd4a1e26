"""`sync_directory` makes the cache exactly what the simulator holds, and survives its faults."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from orgadmin.client import OrgAPIError, admin_client
from orgadmin.models import (
    AdminApiKey,
    Certificate,
    GroupMember,
    Invite,
    OrgGroup,
    OrgRole,
    OrgSettings,
    OrgUser,
    Project,
    ProjectApiKey,
    ProjectUser,
    RateLimit,
    ServiceAccount,
    SyncLock,
    SyncRun,
)
from orgadmin.sync.directory import DirectorySyncIncomplete, directory_sync
from orgadmin.sync.directory import run as directory_run
from orgadmin.sync.directory.base import replace_rows
from orgadmin.sync.directory.people import sync_users, user_fields
from orgadmin.sync.runs import SyncBusy


def cached_directory(org) -> dict:
    """The cache in the shape of the simulator's `store.directory()`."""
    projects = {}
    for p in Project.objects.filter(org=org):
        projects[p.openai_id] = {
            "name": p.name,
            "status": p.status,
            "members": dict(p.users.values_list("user_openai_id", "role")),
            "service_accounts": sorted(p.service_accounts.values_list("openai_id", flat=True)),
        }
    keys = {
        k.openai_id: {"project_id": k.project.openai_id, "owner": k.owner_id, "name": k.name}
        for k in ProjectApiKey.objects.filter(org=org).select_related("project")
    }
    groups = {
        g.openai_id: sorted(g.members.values_list("user_openai_id", flat=True))
        for g in OrgGroup.objects.filter(org=org)
    }
    return {
        "users": {
            u.openai_id: {"email": u.email, "role": u.role} for u in OrgUser.objects.filter(org=org)
        },
        "invites": {
            i.openai_id: {"email": i.email, "status": i.status}
            for i in Invite.objects.filter(org=org)
        },
        "projects": projects,
        "api_keys": keys,
        "admin_keys": sorted(
            AdminApiKey.objects.filter(org=org).values_list("openai_id", flat=True)
        ),
        "groups": groups,
        "roles": sorted(OrgRole.objects.filter(org=org).values_list("openai_id", flat=True)),
        "certificates": sorted(
            Certificate.objects.filter(org=org).values_list("openai_id", flat=True)
        ),
    }


def truth(simulator) -> dict:
    d = simulator.store.directory()
    return {
        k: v for k, v in d.items() if k not in ("org_id", "owner_user_id", "default_project_id")
    }


@pytest.fixture
def fast_retries(settings):
    settings.OPENAI_MAX_RETRIES = 2


def test_it_copies_the_whole_directory(org, simulator):
    run = directory_sync(org=org)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert cached_directory(org) == truth(simulator)
    store = simulator.store
    assert RateLimit.objects.filter(project__org=org).count() == sum(
        len(p.rate_limits) for p in store.projects.values() if p.archived_at is None
    )
    settings = OrgSettings.objects.get(org=org)
    assert settings.data_retention == store.data_retention
    assert run.requests_made > len(store.projects)  # one section per project at least
    assert run.params["done"][-1].startswith("project:")


def test_it_converges_on_removals_and_changes(org, simulator):
    directory_sync(org=org)
    store = simulator.store
    # Someone changes the organization elsewhere (on platform.openai.com, say).
    api = admin_client(org)
    user_id = next(u.id for u in store.users.values() if u.role == "reader")
    api.users.delete(user_id)
    key = next(k for k in store.api_keys.values() if k.owner_type == "user")
    key_id = key.id
    api.projects.api_keys.delete(key_id, project_id=key.project_id)
    project = next(p for p in store.projects.values() if p.archived_at is None and not p.is_default)
    api.projects.update(project.id, name="Renamed elsewhere")

    directory_sync(org=org)

    assert cached_directory(org) == truth(simulator)
    assert not OrgUser.objects.filter(org=org, openai_id=user_id).exists()
    assert not ProjectUser.objects.filter(user_openai_id=user_id).exists()
    assert not ProjectApiKey.objects.filter(openai_id=key_id).exists()
    assert Project.objects.get(org=org, openai_id=project.id).name == "Renamed elsewhere"


def test_it_never_duplicates_rows_when_run_twice(org, simulator):
    directory_sync(org=org)
    counts = [m.objects.count() for m in (OrgUser, Project, ProjectUser, ProjectApiKey, RateLimit)]
    directory_sync(org=org)
    assert [
        m.objects.count() for m in (OrgUser, Project, ProjectUser, ProjectApiKey, RateLimit)
    ] == counts


def test_it_syncs_only_the_sections_asked_for(org, simulator):
    run = directory_sync(org=org, sections=["invites"])
    assert run.params["done"] == ["invites"]
    assert Invite.objects.filter(org=org).count() == len(simulator.store.invites)
    assert not OrgUser.objects.exists()


def test_it_refuses_an_unknown_section(org):
    with pytest.raises(ValueError, match="Unknown directory section"):
        directory_sync(org=org, sections=["everything"])


def test_it_survives_rate_limits_and_server_errors(org, simulator, fast_retries):
    # Each fault is retried by the SDK (with the server's Retry-After); none is fatal.
    simulator.faults.retry_after_ms = 1
    simulator.faults.script = ["429", "503", "ok", "429", "502", "ok", "drop", "ok", "500"]

    run = directory_sync(org=org)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert cached_directory(org) == truth(simulator)


def test_it_leaves_a_section_whole_when_one_of_its_pages_fails(org, simulator, settings):
    directory_sync(org=org)
    before = cached_directory(org)
    store = simulator.store
    for user in list(store.users.values())[1:4]:
        user.role = "owner" if user.role == "reader" else "reader"
    # Pages of 100 users: the simulator has 40, so make the page size tiny to get several
    # pages, and fail the second one beyond the SDK's retries.
    settings.OPENAI_MAX_RETRIES = 0
    original = sync_users

    def users_in_small_pages(org, f):
        rows = [user_fields(u) for u in f.all(lambda: f.api.users.list(limit=10))]
        return lambda: replace_rows(OrgUser, scope={"org": org}, key="openai_id", rows=rows)

    directory_run._ORG_SECTION_FUNCS["users"] = users_in_small_pages
    simulator.faults.script = ["ok", "500"]
    try:
        with pytest.raises(DirectorySyncIncomplete, match="users"):
            directory_sync(org=org, sections=["users", "invites"])
    finally:
        directory_run._ORG_SECTION_FUNCS["users"] = original

    # Not one user changed: the first page was fetched, but nothing was written.
    assert cached_directory(org)["users"] == before["users"]
    run = SyncRun.objects.filter(kind="directory").first()
    assert run.status == SyncRun.Status.FAILED
    assert run.params["done"] == ["invites"]  # the other section went on


def test_it_stops_at_once_when_the_key_is_refused(org, simulator):
    org.set_admin_key("sk-admin-revoked-000000000000000000000")
    org.save()
    with pytest.raises(OrgAPIError) as refused:
        directory_sync(org=org)
    assert refused.value.status == 401
    run = SyncRun.objects.get()
    assert (run.status, run.requests_made) == (SyncRun.Status.FAILED, 0)


def test_it_resumes_after_a_worker_died_midway(org, simulator, monkeypatch):
    original = directory_run._run_section
    calls = []

    def dies_on_the_fourth_project(org, fetcher, recorder, params, section):
        calls.append(section)
        if section.startswith("project:") and sum(c.startswith("project:") for c in calls) == 4:
            raise SystemExit("worker killed")
        return original(org, fetcher, recorder, params, section)

    monkeypatch.setattr(directory_run, "_run_section", dies_on_the_fourth_project)
    with pytest.raises(SystemExit):
        directory_sync(org=org)
    monkeypatch.setattr(directory_run, "_run_section", original)
    dead = SyncRun.objects.get()
    finished = list(dead.params["done"])
    assert len([s for s in finished if s.startswith("project:")]) == 3

    calls.clear()
    monkeypatch.setattr(
        directory_run, "_run_section", lambda *a: calls.append(a[-1]) or original(*a)
    )
    run = directory_sync(org=org)

    assert run.params["resumed_from"] == dead.pk
    assert not set(calls) & set(finished)  # nothing done twice
    assert cached_directory(org) == truth(simulator)


def test_it_refuses_to_run_beside_another_directory_sync(org, simulator):
    from orgadmin.sync.runs import sync_run

    with sync_run(org=org, kind=SyncRun.Kind.DIRECTORY), pytest.raises(SyncBusy):
        directory_sync(org=org)
    assert SyncLock.objects.get(org=org).run is None


def test_it_takes_over_after_a_dead_worker_s_lease(org, simulator, settings):
    settings.SYNC_LEASE_SECONDS = -1  # every lease is already over
    from orgadmin.sync.runs import _acquire

    stale = _acquire(org=org, kind=SyncRun.Kind.DIRECTORY, params={}, triggered_by=None)
    run = directory_sync(org=org, sections=["users"])
    stale.refresh_from_db()
    assert stale.status == SyncRun.Status.ABANDONED
    assert run.status == SyncRun.Status.SUCCEEDED


class TestCommand:
    def test_it_syncs_one_connection_by_name(self, org, simulator):
        out = io.StringIO()
        call_command("sync_directory", "--org", org.name, stdout=out)
        assert f"Synced the directory of “{org.name}”" in out.getvalue()
        assert OrgUser.objects.filter(org=org).count() == len(simulator.store.users)

    def test_it_names_the_known_connections_for_a_wrong_name(self, org):
        with pytest.raises(CommandError, match=r"No connection named “Nope”.*Acme \(simulator\)"):
            call_command("sync_directory", "--org", "Nope")

    def test_it_syncs_one_section(self, org, simulator):
        call_command(
            "sync_directory", "--org", org.name, "--section", "certificates", stdout=io.StringIO()
        )
        assert Certificate.objects.filter(org=org).count() == len(simulator.store.certificates)
        assert not OrgUser.objects.exists()


class TestTask:
    def test_it_runs_the_service_and_reports_the_status(self, org, simulator):
        from orgadmin.tasks import sync_directory

        assert sync_directory.apply(args=[org.pk]).get() == "succeeded"
        assert GroupMember.objects.filter(group__org=org).count() == sum(
            len(g.users) for g in simulator.store.groups.values()
        )

    def test_it_queues_one_sync_per_connection_on_the_beat(self, org, simulator, settings):
        from dashboard.celery import app
        from orgadmin.tasks import sync_directories

        entry = settings.CELERY_BEAT_SCHEDULE["sync-directories"]
        assert entry["task"] == "orgadmin.tasks.sync_directories"
        assert str(entry["schedule"]._orig_minute) == "*/15"
        assert app.tasks[entry["task"]].name == sync_directories.name
        assert sync_directories.apply().get() == [org.pk]
        assert ServiceAccount.objects.filter(project__org=org).count() == sum(
            len(p.service_accounts) for p in simulator.store.projects.values()
        )


class TestBusy:
    def test_it_retries_later_a_refresh_asked_for_by_a_change(self, org, simulator, monkeypatch):
        from celery.exceptions import Retry

        from orgadmin.sync.runs import sync_run
        from orgadmin.tasks import BUSY_RETRY_SECONDS, sync_directory

        asked = []

        def retry(**kwargs):
            asked.append(kwargs)
            return Retry()

        monkeypatch.setattr(sync_directory, "retry", retry)
        sync_directory.push_request(is_eager=False)
        try:
            with sync_run(org=org, kind=SyncRun.Kind.DIRECTORY), pytest.raises(Retry):
                sync_directory.run(org.pk, ["users"])
        finally:
            sync_directory.pop_request()
        assert asked == [{"countdown": BUSY_RETRY_SECONDS}]
        assert not OrgUser.objects.exists()

    def test_it_lets_a_full_sync_go_when_one_runs_already(self, org, simulator):
        from orgadmin.sync.runs import sync_run
        from orgadmin.tasks import sync_directory

        with sync_run(org=org, kind=SyncRun.Kind.DIRECTORY):
            assert sync_directory.apply(args=[org.pk]).get() == "busy"
            assert sync_directory.apply(args=[org.pk, ["users"]]).get() == "busy"  # inline


def test_every_page_a_sync_reads_is_freed_without_waiting_for_the_garbage_collector(org, simulator):
    # httpx keeps a response in a reference cycle with its stream (encode/httpx#3733); the
    # client lets go of a read response's stream so that its body goes with its last reference.
    import gc

    import httpx

    gc.collect()
    gc.disable()
    try:
        directory_sync(org=org)
        alive = [o for o in gc.get_objects() if type(o) is httpx.Response]
        users = admin_client(org).users.list(limit=2)  # bodies are still read and parsed
    finally:
        gc.enable()
    assert alive == []
    assert len(users.data) == 2
    assert OrgUser.objects.filter(org=org).count() == len(simulator.store.users)
