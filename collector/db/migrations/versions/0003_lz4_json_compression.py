"""lz4 compression for the large JSONB columns (PostgreSQL only)

Raw events and facets are a few KB each, so PostgreSQL compresses them into TOAST on every write.
lz4 compresses ~2x faster than the default pglz (ingestion of the raw log: ~130 -> ~80 us per
event here) and decompresses faster on reads, for ~15 % more space. Servers built without lz4
keep pglz. Only new values are written with lz4; existing ones stay as they are.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column) of every JSONB column that holds whole events or facets.
JSON_COLUMNS = (
    ("lineage_events", "payload"),
    ("dataset_facets", "facet"),
    ("dataset_versions", "facets"),
    ("job_facets", "facet"),
    ("run_facets", "facet"),
    ("run_io", "facets"),
)


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("pglz")


def _set_compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _supported(method):
        return
    partitions = text(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = CAST(:t AS regclass)"
    )
    for table, column in JSON_COLUMNS:
        # A partitioned table's setting is inherited by partitions created later, not by the
        # existing ones (the raw log's default and next months'), so those are set one by one.
        children = bind.execute(partitions, {"t": table}).scalars().all()
        for name in (table, *children):
            op.execute(f"ALTER TABLE {name} ALTER COLUMN {column} SET COMPRESSION {method}")


def _supported(method: str) -> bool:
    query = text(
        "SELECT :method = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    return bool(op.get_bind().execute(query, {"method": method}).scalar())
