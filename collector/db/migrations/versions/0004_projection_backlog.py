"""projection backlog: raw events acknowledged but not projected yet

Ingestion now only appends to the raw log; the projector turns the events listed here into the
graph and deletes their rows in the same transaction. A database upgraded from 0003 has projected
everything already, so the backlog starts empty.

Revision ID: 0004
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mllineage.collector.db.types import BigIntPK, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "projection_backlog",
        sa.Column("seq", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_projection_backlog")),
        sqlite_autoincrement=True,  # a deleted seq is never handed out again
    )


def downgrade() -> None:
    op.drop_table("projection_backlog")
