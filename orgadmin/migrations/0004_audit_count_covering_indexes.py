"""On PostgreSQL, the audit count cells' two indexes also carry what the explorer sums.

The explorer reads a year of counts as a few thousand cells. Without these columns in the index
PostgreSQL fetches each cell from the table, one page per cell, which is most of a filtered
page's time; with them it answers from the index alone (index-only scans). SQLite's indexes have
no INCLUDE, and its plans there are settled (see AuditEventCount), so it is left as it is. The
names stay, so Django's own view of these indexes is unchanged.
"""

from django.db import migrations

TABLE = "orgadmin_auditeventcount"
CELL = "org_id, level, block, type, actor_key, project_id"
ACTOR = "org_id, actor_key, level, block, type, project_id"

COVERING = [
    f"CREATE UNIQUE INDEX audit_count_unique_cell_cov ON {TABLE} ({CELL}) INCLUDE (n)",
    f"ALTER TABLE {TABLE} DROP CONSTRAINT audit_count_unique_cell",
    f"ALTER TABLE {TABLE} ADD CONSTRAINT audit_count_unique_cell"
    " UNIQUE USING INDEX audit_count_unique_cell_cov",
    "DROP INDEX audit_count_actor",
    f"CREATE INDEX audit_count_actor ON {TABLE} ({ACTOR}) INCLUDE (category, n)",
]
PLAIN = [
    f"CREATE UNIQUE INDEX audit_count_unique_cell_plain ON {TABLE} ({CELL})",
    f"ALTER TABLE {TABLE} DROP CONSTRAINT audit_count_unique_cell",
    f"ALTER TABLE {TABLE} ADD CONSTRAINT audit_count_unique_cell"
    " UNIQUE USING INDEX audit_count_unique_cell_plain",
    "DROP INDEX audit_count_actor",
    f"CREATE INDEX audit_count_actor ON {TABLE} ({ACTOR})",
]


def _run(statements: list[str]):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("orgadmin", "0003_merge_0002_audit_log_0002_directory")]

    operations = [migrations.RunPython(_run(COVERING), _run(PLAIN))]
