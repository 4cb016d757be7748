"""inferred_io: edges inferred from orchestration (Airflow task dependencies, parent runs)

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: References to ``datasets.id`` / ``jobs.id`` have their type (SQLite keys are INTEGER).
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inferred_io",
        sa.Column("run_uuid", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("dataset_id", _ID, nullable=False),
        sa.Column("via_run_uuid", sa.String(length=255), nullable=False),
        sa.Column("job_id", _ID, nullable=False),
        sa.Column("dag_run_uuid", sa.String(length=255), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_inferred_io_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_inferred_io_job_id_jobs")),
        sa.ForeignKeyConstraint(
            ["run_uuid"], ["runs.uuid"], name=op.f("fk_inferred_io_run_uuid_runs")
        ),
        sa.PrimaryKeyConstraint(
            "run_uuid", "direction", "dataset_id", "via_run_uuid", name=op.f("pk_inferred_io")
        ),
    )
    op.create_index("ix_inferred_io_dataset", "inferred_io", ["dataset_id", "direction"])
    op.create_index("ix_inferred_io_job", "inferred_io", ["job_id", "direction"])


def downgrade() -> None:
    op.drop_index("ix_inferred_io_job", table_name="inferred_io")
    op.drop_index("ix_inferred_io_dataset", table_name="inferred_io")
    op.drop_table("inferred_io")
