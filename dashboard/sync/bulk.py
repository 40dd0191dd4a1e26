"""The bulk insert every sync write goes through: the fastest path each database has."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """A plain bulk INSERT of `rows` (values in the order of `columns`, as the database takes
    them); the caller deleted what they replace."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table, names = qn(model._meta.db_table), ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY straight into the table: the fastest bulk path PostgreSQL has.
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        # Table and column names come from our models, quoted; every value is a bound parameter.
        head = f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
        if connection.vendor == "sqlite":
            # sqlite3's executemany loops in C: the fastest bulk path it has.
            cursor.executemany(head + one, rows)
            return
        per_statement = max(1, min(1000, 60000 // len(columns)))
        for i in range(0, len(rows), per_statement):
            chunk = rows[i : i + per_statement]
            cursor.execute(head + ", ".join([one] * len(chunk)), [v for r in chunk for v in r])
