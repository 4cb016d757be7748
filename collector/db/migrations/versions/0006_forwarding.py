"""forwarding: commit order of the raw log, per-target cursors, parked events; namespace times

``lineage_events.commit_tx`` gives the raw log a commit order that a cursor can follow without
skipping rows (see ``collector/forward/log.py``): on PostgreSQL the inserting transaction's id,
on SQLite 0 (one writer at a time: ``id`` order is commit order). Rows stored before this
migration get 0 on both; forwarding targets start at the head of the log, so they are only
re-sent by ``mllineage replay``.

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mllineage.collector.db.types

revision: str = "0006"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The inserting (top-level) transaction's id as a plain bigint (xid8 has no direct cast).
_PG_COMMIT_TX = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    # A constant default fills existing rows without a table rewrite (PostgreSQL 11+); new rows
    # then take the transaction id. ALTER on the partitioned parent reaches every partition.
    op.add_column(
        "lineage_events",
        sa.Column("commit_tx", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE lineage_events ALTER COLUMN commit_tx SET DEFAULT {_PG_COMMIT_TX}")
    op.create_index("ix_lineage_events_commit_order", "lineage_events", ["commit_tx", "id"])
    # A namespace's first event time (Marquez's createdAt): one probe per table.
    op.create_index("ix_datasets_namespace_created", "datasets", ["namespace_id", "created_at"])
    op.create_index("ix_jobs_namespace_created", "jobs", ["namespace_id", "created_at"])
    op.create_table(
        "forward_cursors",
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("commit_tx", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("forwarded", sa.BigInteger(), nullable=False),
        sa.Column("parked", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("target", name=op.f("pk_forward_cursors")),
    )
    op.create_table(
        "forward_parked",
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("commit_tx", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column(
            "parked_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("target", "event_id", name=op.f("pk_forward_parked")),
    )


def downgrade() -> None:
    op.drop_table("forward_parked")
    op.drop_table("forward_cursors")
    op.drop_index("ix_jobs_namespace_created", table_name="jobs")
    op.drop_index("ix_datasets_namespace_created", table_name="datasets")
    op.drop_index("ix_lineage_events_commit_order", table_name="lineage_events")
    with op.batch_alter_table("lineage_events") as batch_op:
        batch_op.drop_column("commit_tx")
