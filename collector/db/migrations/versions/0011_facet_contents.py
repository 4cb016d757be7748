"""facet_contents: facet bodies stored once per distinct content, referenced by digest

``dataset_facets``, ``job_facets`` and ``run_facets`` keep a 16-byte ``facet_digest`` instead of
the body (fillfactor 70 on PostgreSQL, so most stamp-only updates stay HOT);
``dataset_versions.facets`` becomes ``facet_digests`` (facet key -> hex digest). Existing rows are
converted in place on both databases: on PostgreSQL in SQL with ``mllineage_facet_digest``
(installed here), on SQLite in Python with ``db/facet_bodies.facet_digest`` (the same digest).
``facet_contents.body`` gets lz4 compression where the server has it (as 0003 does for the other
JSON columns), and the projection program is re-installed (it writes digests now).

Downgrade writes the bodies back into the rows and drops ``facet_contents``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

# ruff: noqa: S608  (table names interpolated are the constants of _FACET_TABLES)
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mllineage.collector.db.facet_bodies import (
    DIGEST_FUNCTION,
    digest_map,
    facet_digest,
)
from mllineage.collector.ingest.pg_program import PROJECT_FUNCTION

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: (table, owner column) of the facet tables.
_FACET_TABLES = (
    ("dataset_facets", "dataset_id"),
    ("job_facets", "job_id"),
    ("run_facets", "run_uuid"),
)
_CHUNK = 1000


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    op.create_table(
        "facet_contents",
        sa.Column("digest", sa.LargeBinary(length=16), nullable=False),
        sa.Column("body", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_facet_contents")),
    )
    for table, _ in _FACET_TABLES:
        op.add_column(table, sa.Column("facet_digest", sa.LargeBinary(length=16), nullable=True))
    # SQLite adds a NOT NULL column only with a default (it cannot make one NOT NULL later
    # without rebuilding the table); every row gets its map below.
    op.add_column(
        "dataset_versions",
        sa.Column(
            "facet_digests",
            _JSON,
            nullable=postgres,
            server_default=None if postgres else sa.text("'{}'"),
        ),
    )
    if postgres:
        _compress_bodies()
        op.execute(DIGEST_FUNCTION)
        _convert_in_sql()
    else:
        _convert_in_python()
    if postgres:
        for table, _ in _FACET_TABLES:
            op.drop_column(table, "facet")
            op.execute(f"ALTER TABLE {table} SET (fillfactor = 70)")
        op.alter_column("dataset_versions", "facet_digests", existing_type=_JSON, nullable=False)
        op.drop_column("dataset_versions", "facets")
        op.execute(PROJECT_FUNCTION)
    else:
        # In place (SQLite 3.35+), not by batch mode's copy-drop-rename: dropping
        # dataset_versions fails while run_io rows refer to it (foreign keys are on).
        for table, _ in _FACET_TABLES:
            op.execute(f"ALTER TABLE {table} DROP COLUMN facet")
        op.execute("ALTER TABLE dataset_versions DROP COLUMN facets")


def _compress_bodies() -> None:
    query = sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    if op.get_bind().execute(query).scalar():
        op.execute("ALTER TABLE facet_contents ALTER COLUMN body SET COMPRESSION lz4")


def _convert_in_sql() -> None:
    for table, _ in _FACET_TABLES:
        op.execute(
            f"""
            INSERT INTO facet_contents (digest, body)
            SELECT DISTINCT ON (d) d, facet
            FROM (SELECT mllineage_facet_digest(facet) AS d, facet FROM {table}
                  WHERE facet IS NOT NULL) b
            ORDER BY d
            ON CONFLICT (digest) DO NOTHING
            """
        )
        op.execute(f"UPDATE {table} SET facet_digest = mllineage_facet_digest(facet)")
    op.execute(
        """
        INSERT INTO facet_contents (digest, body)
        SELECT DISTINCT ON (d) d, value
        FROM (SELECT mllineage_facet_digest(k.value) AS d, k.value
              FROM dataset_versions v CROSS JOIN LATERAL jsonb_each(v.facets) AS k) b
        ORDER BY d
        ON CONFLICT (digest) DO NOTHING
        """
    )
    op.execute(
        """
        UPDATE dataset_versions v SET facet_digests = coalesce(
            (SELECT jsonb_object_agg(k.key, encode(mllineage_facet_digest(k.value), 'hex'))
             FROM jsonb_each(v.facets) AS k),
            '{}'::jsonb)
        """
    )


def _convert_in_python() -> None:
    bind = op.get_bind()
    contents = sa.table("facet_contents", sa.column("digest"), sa.column("body", sa.JSON()))
    stored: set[bytes] = set()

    def store(bodies: list[Any]) -> None:
        rows = {}
        for body in bodies:
            digest = facet_digest(body)
            if digest not in stored:
                rows[digest] = body
                stored.add(digest)
        if rows:
            bind.execute(sa.insert(contents), [{"digest": d, "body": b} for d, b in rows.items()])

    for table, owner in _FACET_TABLES:
        t = sa.table(
            table,
            sa.column(owner),
            sa.column("key"),
            sa.column("facet", sa.JSON()),
            sa.column("facet_digest"),
        )
        rows = bind.execute(sa.select(t.c[owner], t.c.key, t.c.facet)).all()
        store([facet for _, _, facet in rows if facet is not None])
        updates = [
            {"b_owner": o, "b_key": k, "b_digest": facet_digest(f)}
            for o, k, f in rows
            if f is not None
        ]
        statement = (
            sa.update(t)
            .where(t.c[owner] == sa.bindparam("b_owner"), t.c.key == sa.bindparam("b_key"))
            .values(facet_digest=sa.bindparam("b_digest"))
        )
        for start in range(0, len(updates), _CHUNK):
            bind.execute(statement, updates[start : start + _CHUNK])
    versions = sa.table(
        "dataset_versions",
        sa.column("id"),
        sa.column("facets", sa.JSON()),
        sa.column("facet_digests", sa.JSON()),
    )
    version_rows = bind.execute(sa.select(versions.c.id, versions.c.facets)).all()
    store([body for _, facets in version_rows for body in (facets or {}).values()])
    version_updates = [
        {"b_id": i, "b_digests": digest_map(facets or {})} for i, facets in version_rows
    ]
    statement = (
        sa.update(versions)
        .where(versions.c.id == sa.bindparam("b_id"))
        .values(facet_digests=sa.bindparam("b_digests"))
    )
    for start in range(0, len(version_updates), _CHUNK):
        bind.execute(statement, version_updates[start : start + _CHUNK])


def _versions_back_in_python() -> None:
    bind = op.get_bind()
    contents = sa.table("facet_contents", sa.column("digest"), sa.column("body", sa.JSON()))
    bodies = {bytes(d): b for d, b in bind.execute(sa.select(contents.c.digest, contents.c.body))}
    versions = sa.table(
        "dataset_versions",
        sa.column("id"),
        sa.column("facets", sa.JSON()),
        sa.column("facet_digests", sa.JSON()),
    )
    rows = bind.execute(sa.select(versions.c.id, versions.c.facet_digests)).all()
    updates = [
        {"b_id": i, "b_facets": {k: bodies[bytes.fromhex(d)] for k, d in (m or {}).items()}}
        for i, m in rows
    ]
    statement = (
        sa.update(versions)
        .where(versions.c.id == sa.bindparam("b_id"))
        .values(facets=sa.bindparam("b_facets"))
    )
    for start in range(0, len(updates), _CHUNK):
        bind.execute(statement, updates[start : start + _CHUNK])


def downgrade() -> None:
    """The rows get their bodies back; the projection program is not re-installed (as 0007)."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for table, _ in _FACET_TABLES:
        op.add_column(table, sa.Column("facet", _JSON, nullable=True))
    op.add_column(
        "dataset_versions",
        sa.Column(
            "facets",
            _JSON,
            nullable=postgres,
            server_default=None if postgres else sa.text("'{}'"),
        ),
    )
    for table, _ in _FACET_TABLES:
        op.execute(
            f"UPDATE {table} SET facet = (SELECT body FROM facet_contents c "
            f"WHERE c.digest = {table}.facet_digest)"
        )
    if postgres:
        op.execute(
            """
            UPDATE dataset_versions v SET facets = coalesce(
                (SELECT jsonb_object_agg(k.key, c.body)
                 FROM jsonb_each_text(v.facet_digests) AS k
                 JOIN facet_contents c ON c.digest = decode(k.value, 'hex')),
                '{}'::jsonb)
            """
        )
    else:
        _versions_back_in_python()
    if postgres:
        for table, _ in _FACET_TABLES:
            op.drop_column(table, "facet_digest")
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
        op.alter_column("dataset_versions", "facets", existing_type=_JSON, nullable=False)
        op.drop_column("dataset_versions", "facet_digests")
    else:  # in place, as in upgrade
        for table, _ in _FACET_TABLES:
            op.execute(f"ALTER TABLE {table} DROP COLUMN facet_digest")
        op.execute("ALTER TABLE dataset_versions DROP COLUMN facet_digests")
    op.drop_table("facet_contents")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS mllineage_facet_digest(jsonb)")
