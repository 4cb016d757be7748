"""query indexes: run_io by version (version-pinned downstream walks)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run_io", schema=None) as batch_op:
        batch_op.create_index("ix_run_io_version", ["version_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run_io", schema=None) as batch_op:
        batch_op.drop_index("ix_run_io_version")
