"""projection on PostgreSQL: Feast's kinds and tags (reinstall mllineage_project)

The in-database projection learns the fold's Feast rules: ``entity`` and feature-service kinds,
and tags recomputed from the ``tags``, ``schema`` (``[Tags: k=v]`` field descriptions) and Feast
facets (``ingest/dataset_tags.py``). ``CREATE OR REPLACE`` installs the current text; tag rows
already stored are not rewritten (a dataset's next facet change recomputes them). Downgrade keeps
the function: 0005 installs the current text too, so there is no older one to go back to.

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

from mllineage.collector.ingest.pg_program import PROJECT_FUNCTION

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PROJECT_FUNCTION)


def downgrade() -> None:
    """Nothing to undo: see the module docstring."""
