"""The audit log's hash chain (orgadmin.audit.links): each event's place and link, a head row per
organization, and the events stored before it linked in stored (id) order.

The backfill reads the events in id order a batch at a time (keyset pagination: constant memory
for tens of millions of rows), links each one after its organization's previous one, and writes
the links and the heads batch by batch. The unique (org, chain_seq) index comes last, once every
row has its place (as an index, see chain_seq_add). The columns are nullable so that adding them is instant on both databases
(SQLite would otherwise copy the whole table); a row without a link is reported as inserted.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.utils import timezone

from orgadmin.audit.links import GENESIS, ROW_FIELDS, link

BATCH = 5000


def _heads(Head) -> dict[int, list]:
    return {h.org_id: [h.count, h.head] for h in Head.objects.all()}


def link_stored_events(apps, schema_editor) -> None:
    AuditEvent = apps.get_model("orgadmin", "AuditEvent")
    Head = apps.get_model("orgadmin", "AuditChainHead")
    connection = schema_editor.connection
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    update = f"UPDATE {table} SET chain_seq = %s, chain_hash = %s WHERE id = %s"  # noqa: S608
    heads = _heads(Head)
    last_id = 0
    while True:
        batch = list(
            AuditEvent.objects.filter(id__gt=last_id, chain_seq__isnull=True)
            .order_by("id")
            .values_list("org_id", *ROW_FIELDS)[:BATCH]
        )
        if not batch:
            break
        links, moved = [], set()
        for org_id, *values in batch:
            row = dict(zip(ROW_FIELDS, values, strict=True))
            state = heads.setdefault(org_id, [0, GENESIS])
            state[0] += 1
            state[1] = link(state[1], state[0], row)
            links.append((state[0], state[1], row["id"]))
            moved.add(org_id)
        with connection.cursor() as cursor:
            cursor.executemany(update, links)
        for org_id in moved:
            count, head = heads[org_id]
            Head.objects.update_or_create(
                org_id=org_id,
                defaults={"count": count, "head": head, "updated_at": timezone.now()},
            )
        last_id = batch[-1][1]


CHAIN_SEQ = models.UniqueConstraint(fields=("org", "chain_seq"), name="audit_event_chain_seq")


def chain_seq_add(apps, schema_editor) -> None:
    # The constraint's own SQL: a unique index on SQLite, a UNIQUE constraint on PostgreSQL.
    # Not AddConstraint: on SQLite Django adds one by remaking the table, which copies every
    # row and drops the full-text search triggers of 0002.
    model = apps.get_model("orgadmin", "AuditEvent")
    schema_editor.execute(CHAIN_SEQ.create_sql(model, schema_editor))


def chain_seq_remove(apps, schema_editor) -> None:
    model = apps.get_model("orgadmin", "AuditEvent")
    schema_editor.execute(CHAIN_SEQ.remove_sql(model, schema_editor))


class Migration(migrations.Migration):
    dependencies = [
        ("orgadmin", "0010_provider_xai"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("count", models.BigIntegerField(default=0)),
                ("head", models.CharField(max_length=64)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "org",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="orgadmin.organization",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_seq",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.RunPython(link_stored_events, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddConstraint(model_name="auditevent", constraint=CHAIN_SEQ)
            ],
            database_operations=[migrations.RunPython(chain_seq_add, chain_seq_remove)],
        ),
    ]
