"""projection on PostgreSQL: cheaper large batches (reinstall mllineage_project)

The in-database projection no longer rewrites what a batch leaves unchanged: a job's edges are
diffed (only stale edges deleted, only missing ones inserted) instead of deleted and inserted
whole, and a ``run_io`` row is updated only when the batch brings a newer stamp or its first
version. Same graph as before (``tests/collector/test_pg_projection.py``); fewer dead tuples
and index updates, which is what large import batches spent their time on. ``CREATE OR
REPLACE`` installs the current text. Downgrade keeps the function: 0005 installs the current
text too, so there is no older one to go back to.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from mllineage.collector.ingest.pg_program import PROJECT_FUNCTION

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PROJECT_FUNCTION)


def downgrade() -> None:
    """Nothing to undo: see the module docstring."""
