"""set-based projection on PostgreSQL: install mllineage_project(bytea[], timestamptz)

The function projects a batch of raw events into the graph tables inside the database (see
``ingest/pg_program.py``). SQLite has no such function: it keeps the Python fold. A later change
to the projection rules installs the new text with a new migration (``CREATE OR REPLACE``).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from mllineage.collector.ingest.pg_program import DROP_FUNCTION, PROJECT_FUNCTION

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PROJECT_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_FUNCTION)
