"""Partial indexes for the quality reads: run I/O and run facets that carry a quality facet

``run_io`` rows whose I/O facets hold ``dataQualityAssertions`` / ``dataQualityMetrics`` (by
dataset) and ``run_facets`` rows of those keys (by run): the quality status shown on impact rows,
dataset details and Marquez lineage nodes looked at every run I/O row of the datasets asked
about (0.5 s of a 0.9 s hub impact at a million events, where no row carries one).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: facet key -> the indexes' name suffix (as ``models.QUALITY_FACETS`` has them).
_KEYS = {"dataQualityAssertions": "assertions", "dataQualityMetrics": "metrics"}


def upgrade() -> None:
    for key, short in _KEYS.items():
        op.create_index(
            f"ix_run_io_quality_{short}",
            "run_io",
            ["dataset_id"],
            postgresql_where=sa.text(f"facets ? '{key}'"),
            sqlite_where=sa.text(f"json_type(facets, '$.{key}') IS NOT NULL"),
        )
        where = sa.text(f"key = '{key}'")
        op.create_index(
            f"ix_run_facets_quality_{short}",
            "run_facets",
            ["run_uuid"],
            postgresql_where=where,
            sqlite_where=where,
        )


def downgrade() -> None:
    for short in _KEYS.values():
        op.drop_index(f"ix_run_facets_quality_{short}", table_name="run_facets")
        op.drop_index(f"ix_run_io_quality_{short}", table_name="run_io")
