"""The audit log we keep is evidence: every stored event is chained (its place and a SHA-256 of its
content and of the previous link), and `manage.py verify_audit_log` proves that nothing was
altered, inserted or removed by SQL since, or names the first bad link."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
import time
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orgadmin.audit.chain import ChainHead, chain_head, chain_verify
from orgadmin.audit.links import CONTENT_FIELDS, GENESIS, link
from orgadmin.models import AuditChainHead, AuditEvent, AuditEventResource, SyncRun
from orgadmin.sync import audit as audit_sync_module
from orgadmin.sync.audit import audit_events_store, audit_log_sync
from tests.audit_events import generate
from tests.factories import OrganizationFactory

EVENTS = connection.ops.quote_name(AuditEvent._meta.db_table)
RESOURCES = connection.ops.quote_name(AuditEventResource._meta.db_table)


@pytest.fixture
def synced(org):
    """The simulator's demo organization with its audit log synced."""
    assert audit_log_sync(org=org).status == SyncRun.Status.SUCCEEDED
    return org


def _verify(org) -> tuple[bool, str]:
    """verify_audit_log's result for one connection: (it passed, what it printed)."""
    out = StringIO()
    try:
        call_command("verify_audit_log", "--org", str(org.pk), stdout=out)
    except CommandError as exc:
        return False, out.getvalue() + str(exc)
    return True, out.getvalue()


def _events(org) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(org=org).order_by("chain_seq"))


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _names(output: str, event: AuditEvent) -> bool:
    """The output names the event: its id, its sequence, its type and its time."""
    when = event.effective_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return all(
        part in output for part in (event.event_id, f"sequence {event.chain_seq}", event.type, when)
    )


# --- a good chain ----------------------------------------------------------------------------


def test_it_verifies_a_synced_simulator_audit_log(synced):
    stored = AuditEvent.objects.filter(org=synced).count()
    head = chain_head(org=synced)

    ok, output = _verify(synced)

    assert stored > 0
    assert ok
    assert f"verified {stored} events, head {head.head}" in output
    assert head.count == stored
    assert [e.chain_seq for e in _events(synced)] == list(range(1, stored + 1))


def test_it_chains_each_event_to_the_one_stored_before_it(synced):
    events = _events(synced)
    previous = GENESIS
    for event in events:
        assert event.chain_hash == link(previous, event.chain_seq, vars(event))
        previous = event.chain_hash
    assert chain_head(org=synced).head == previous == events[-1].chain_hash


def test_it_has_no_head_before_the_first_event(org):
    assert chain_head(org=org) is None
    ok, output = _verify(org)
    assert ok
    assert "verified 0 events" in output


def test_a_resync_of_the_same_pages_adds_no_links(synced):
    before = chain_head(org=synced)

    run = audit_log_sync(org=synced, since=dt.datetime(2015, 1, 1, tzinfo=dt.UTC))

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.rows_written == 0
    after = chain_head(org=synced)
    assert (after.count, after.head) == (before.count, before.head)
    assert _verify(synced)[0]


def test_new_events_extend_the_chain_after_its_head(synced):
    before = chain_head(org=synced)
    now = int(dt.datetime.now(tz=dt.UTC).timestamp())
    raws = list(generate(5, start=now - 3600, end=now, seed=8))

    with transaction.atomic():
        audit_events_store(org=synced, raws=raws)

    after = chain_head(org=synced)
    assert after.count == before.count + len(raws)
    newest = AuditEvent.objects.filter(org=synced, event_id__in=[r["id"] for r in raws])
    assert sorted(newest.values_list("chain_seq", flat=True)) == list(
        range(before.count + 1, after.count + 1)
    )
    assert _verify(synced)[0]


def test_an_events_link_is_the_same_whichever_database_hands_it_back():
    """PostgreSQL's jsonb reorders keys and gives whole-number floats back as integers: a chain
    linked on one database verifies on the other (a restore into PostgreSQL, say)."""
    when = dt.datetime(2026, 1, 31, 12, 0, 0, 250, tzinfo=dt.UTC)
    row = {name: "" for name in CONTENT_FIELDS} | {
        "effective_at": when,
        "synced_at": when,
        "day": 1,
    }
    as_stored = {**row, "raw": {"n": 1e20, "x": 1.0, "z": 0.5, "s": "café"}}
    as_jsonb = {**row, "raw": {"s": "café", "x": 1, "z": 0.5, "n": 10**20}}
    assert link(GENESIS, 7, as_stored) == link(GENESIS, 7, as_jsonb)
    assert link(GENESIS, 7, {**as_jsonb, "raw": {**as_jsonb["raw"], "x": 2}}) != link(
        GENESIS, 7, as_jsonb
    )


# --- tampering by SQL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("actor_email", "someone-else@acme.example"),
        ("effective_at", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        ("raw", None),  # the event's JSON, one field changed
    ],
)
def test_it_names_an_event_whose_content_was_changed_by_sql(synced, column, value):
    events = _events(synced)
    target = events[len(events) // 2]
    if column == "raw":
        value = json.dumps({**target.raw, "type": "user.deleted"})
    elif isinstance(value, dt.datetime):
        value = connection.ops.adapt_datetimefield_value(value)

    _sql(f"UPDATE {EVENTS} SET {column} = %s WHERE id = %s", [value, target.pk])  # noqa: S608

    ok, output = _verify(synced)
    assert not ok
    assert target.event_id in output
    assert f"sequence {target.chain_seq}" in output
    assert "content changed" in output
    assert chain_verify(org=synced).event.event_id == target.event_id


def test_it_names_the_event_after_one_deleted_by_sql(synced):
    events = _events(synced)
    gone, after = events[3], events[4]

    _sql(f"DELETE FROM {RESOURCES} WHERE event_id = %s", [gone.pk])  # noqa: S608
    _sql(f"DELETE FROM {EVENTS} WHERE id = %s", [gone.pk])  # noqa: S608

    ok, output = _verify(synced)
    assert not ok
    assert _names(output, after)
    assert f"1 event is missing before it (sequence {gone.chain_seq} on)" in output


def test_it_names_an_event_inserted_by_sql(synced):
    model = _events(synced)[2]
    columns = ["org_id", "event_id", "type", "category", "effective_at", "day", "raw"]
    columns += ["actor_type", "actor_id", "actor_email", "actor_key", "api_key_id"]
    columns += ["ip_address", "user_agent", "project_id", "project_name", "resource_id"]
    columns += ["search_text", "synced_at"]
    values = [getattr(model, c) for c in columns]
    values[1] = "audit_log-forged"
    values[4] = values[-1] = connection.ops.adapt_datetimefield_value(model.effective_at)
    values[6] = json.dumps({**model.raw, "id": "audit_log-forged"})

    _sql(
        f"INSERT INTO {EVENTS} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})",
        values,
    )

    ok, output = _verify(synced)
    assert not ok
    assert "audit_log-forged" in output
    assert "an event was inserted (it has no link)" in output


def test_it_names_an_event_inserted_with_a_forged_link(synced):
    """Someone who knows the rules links their row after the last one, but the head row (moved
    only by the sync) doesn't count it."""
    last = _events(synced)[-1]
    forged = AuditEvent(
        **{f.attname: getattr(last, f.attname) for f in AuditEvent._meta.concrete_fields}
    )
    forged.pk, forged.event_id = None, "audit_log-forged-link"
    forged.chain_seq = last.chain_seq + 1
    forged.chain_hash = link(last.chain_hash, forged.chain_seq, vars(forged))
    AuditEvent.objects.bulk_create([forged])

    ok, output = _verify(synced)
    assert not ok
    assert "audit_log-forged-link" in output
    assert f"sequence {forged.chain_seq}" in output
    assert f"the head counts {last.chain_seq}" in output


def test_it_says_when_the_last_events_were_removed(synced):
    events = _events(synced)
    removed, kept = events[-3:], events[-4]
    for event in removed:
        _sql(f"DELETE FROM {RESOURCES} WHERE event_id = %s", [event.pk])  # noqa: S608
        _sql(f"DELETE FROM {EVENTS} WHERE id = %s", [event.pk])  # noqa: S608

    ok, output = _verify(synced)
    assert not ok
    assert "the last 3 events were removed" in output
    assert _names(output, kept)
    assert f"the head row counts {len(events)} events" in output


def test_a_broken_chain_of_one_connection_fails_the_whole_check(synced):
    other = OrganizationFactory(name="Other")
    with transaction.atomic():
        audit_events_store(org=other, raws=list(generate(20, start=0, end=86400, seed=1)))
    _sql(f"UPDATE {EVENTS} SET project_name = 'x' WHERE org_id = %s", [other.pk])  # noqa: S608

    out = StringIO()
    with pytest.raises(CommandError, match="chain of 1 connection is broken"):
        call_command("verify_audit_log", stdout=out)
    assert f"{synced.name} (#{synced.pk}): verified" in out.getvalue()
    assert f"Other (#{other.pk}): BROKEN" in out.getvalue()


# --- the exports carry the head ------------------------------------------------------------


def _download(client, name: str) -> tuple:
    response = client.get(reverse(f"orgadmin:{name}"), {"start": "2015-01-01"})
    assert response.status_code == 200
    return response, b"".join(response.streaming_content).decode()


def test_the_csv_export_carries_the_head_and_each_events_link(synced, client_as, auditor):
    head = chain_head(org=synced)

    response, text = _download(client_as(auditor), "audit_export_csv")

    assert response["Audit-Chain-Count"] == str(head.count)
    assert response["Audit-Chain-Head"] == head.head
    assert response["Audit-Chain-At"] == head.at.astimezone(dt.UTC).isoformat().replace(
        "+00:00", "Z"
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    stored = {e.event_id: (str(e.chain_seq), e.chain_hash) for e in _events(synced)}
    assert {r["id"]: (r["chain_seq"], r["chain_hash"]) for r in rows} == stored
    [last] = [r for r in rows if r["chain_seq"] == str(head.count)]
    assert last["chain_hash"] == head.head


def test_the_jsonl_export_ends_with_the_head(synced, client_as, auditor):
    head = chain_head(org=synced)

    response, text = _download(client_as(auditor), "audit_export_jsonl")

    *events, trailer = (json.loads(line) for line in text.splitlines())
    assert response["Audit-Chain-Head"] == head.head
    assert trailer == {
        "object": "audit_log.chain_head",
        "count": head.count,
        "head": head.head,
        "at": head.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }
    assert len(events) == head.count
    assert all("chain_hash" not in event for event in events)  # as the API returned them


# --- the migration's backfill ----------------------------------------------------------------


def test_the_migration_links_events_stored_before_it_exactly_as_the_sync_does(synced):
    from importlib import import_module

    migration = import_module("orgadmin.migrations.0011_audit_chain")
    before = chain_head(org=synced)
    AuditEvent.objects.filter(org=synced).update(chain_seq=None, chain_hash=None)
    AuditChainHead.objects.filter(org=synced).delete()
    assert not chain_verify(org=synced).ok

    migration.link_stored_events(django_apps, type("Editor", (), {"connection": connection}))

    after = chain_head(org=synced)
    assert (after.count, after.head) == (before.count, before.head)
    assert chain_verify(org=synced).ok


# --- concurrent writers ----------------------------------------------------------------------


def test_the_writer_locks_the_head_before_deciding_what_is_new(db):
    org = OrganizationFactory(name="Locks")
    raws = list(generate(10, start=0, end=86400, seed=2))
    with CaptureQueriesContext(connection) as seen, transaction.atomic():
        audit_events_store(org=org, raws=raws)
    sql = [q["sql"] for q in seen]
    heads = [i for i, s in enumerate(sql) if "orgadmin_auditchainhead" in s]
    unstored = next(i for i, s in enumerate(sql) if s.startswith("SELECT") and "event_id" in s)
    assert heads[0] < unstored
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in sql[heads[0]]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain(monkeypatch):
    """A real race, on PostgreSQL (the service tier; SQLite's in-memory test database can't be
    written from two threads): four writers offer overlapping pages at once, each pausing
    between reading the head and inserting. Every event is linked once, in one chain."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks: runs in the service tier")
    org = OrganizationFactory(name="Busy")
    raws = list(generate(400, start=0, end=30 * 86400, seed=5))
    pages = [raws[i : i + 60] for i in range(0, 400, 40)]  # every event offered twice
    unstored = audit_sync_module._unstored

    def slow(*args):
        found = unstored(*args)
        time.sleep(0.05)  # the window a fork would need
        return found

    monkeypatch.setattr(audit_sync_module, "_unstored", slow)
    start, errors = threading.Barrier(4), []

    def write(mine: list[list[dict]]) -> None:
        start.wait()
        try:
            for page in mine:
                with transaction.atomic():
                    audit_events_store(org=org, raws=page)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(pages[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert AuditEvent.objects.filter(org=org).count() == len(raws)
    head = chain_head(org=org)
    assert isinstance(head, ChainHead)
    assert head.count == len(raws)
    assert chain_verify(org=org).ok
