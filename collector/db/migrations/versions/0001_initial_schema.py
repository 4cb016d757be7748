"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import mllineage.collector.db.types
from mllineage.collector.db.partitions import create_month_partitions

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _create_event_log()
    op.create_table(
        "event_digests",
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "received_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("event_hash", name=op.f("pk_event_digests")),
    )

    op.create_table(
        "namespaces",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "created_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_namespaces")),
        sa.UniqueConstraint("name", name=op.f("uq_namespaces_name")),
    )
    op.create_table(
        "datasets",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "namespace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["namespace_id"], ["namespaces.id"], name=op.f("fk_datasets_namespace_id_namespaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("namespace_id", "name", name=op.f("uq_datasets_namespace_id_name")),
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.create_index("ix_datasets_kind", ["kind"], unique=False)
        batch_op.create_index("ix_datasets_name", ["name"], unique=False)

    op.create_table(
        "jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "namespace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("job_type", sa.Text(), nullable=True),
        sa.Column(
            "created_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("current_run_uuid", sa.String(length=255), nullable=True),
        sa.Column("current_run_complete", sa.Boolean(), nullable=True),
        sa.Column(
            "current_run_time",
            mllineage.collector.db.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["namespace_id"], ["namespaces.id"], name=op.f("fk_jobs_namespace_id_namespaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("namespace_id", "name", name=op.f("uq_jobs_namespace_id_name")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_name", ["name"], unique=False)

    op.create_table(
        "column_lineage",
        sa.Column(
            "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column(
            "input_dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("input_field", sa.Text(), nullable=False),
        sa.Column(
            "transformations",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_column_lineage_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(
            ["input_dataset_id"],
            ["datasets.id"],
            name=op.f("fk_column_lineage_input_dataset_id_datasets"),
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "field", "input_dataset_id", "input_field", name=op.f("pk_column_lineage")
        ),
    )
    with op.batch_alter_table("column_lineage", schema=None) as batch_op:
        batch_op.create_index(
            "ix_column_lineage_input", ["input_dataset_id", "input_field"], unique=False
        )

    op.create_table(
        "dataset_facets",
        sa.Column(
            "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "event_time", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("facet", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_facets_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint("dataset_id", "key", name=op.f("pk_dataset_facets")),
    )
    op.create_table(
        "dataset_symlinks",
        sa.Column(
            "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_symlinks_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "namespace", "name", name=op.f("pk_dataset_symlinks")
        ),
    )
    with op.batch_alter_table("dataset_symlinks", schema=None) as batch_op:
        batch_op.create_index("ix_dataset_symlinks_identifier", ["namespace", "name"], unique=False)

    op.create_table(
        "dataset_tags",
        sa.Column(
            "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_tags_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "field", "key", "value", name=op.f("pk_dataset_tags")
        ),
    )
    with op.batch_alter_table("dataset_tags", schema=None) as batch_op:
        batch_op.create_index("ix_dataset_tags_key_value", ["key", "value"], unique=False)

    op.create_table(
        "dataset_versions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column(
            "created_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("run_uuid", sa.String(length=255), nullable=True),
        sa.Column(
            "facets", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "event_time", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_versions_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_versions")),
        sa.UniqueConstraint(
            "dataset_id", "version", name=op.f("uq_dataset_versions_dataset_id_version")
        ),
    )
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dataset_versions_created", ["dataset_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_dataset_versions_run_uuid", ["run_uuid"], unique=False)

    op.create_table(
        "job_edges",
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column(
            "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_job_edges_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_edges_job_id_jobs")),
        sa.PrimaryKeyConstraint("job_id", "direction", "dataset_id", name=op.f("pk_job_edges")),
    )
    with op.batch_alter_table("job_edges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_edges_dataset", ["dataset_id", "direction", "job_id"], unique=False
        )

    op.create_table(
        "job_facets",
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "event_time", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("facet", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_facets_job_id_jobs")),
        sa.PrimaryKeyConstraint("job_id", "key", name=op.f("pk_job_facets")),
    )
    op.create_table(
        "job_static_io",
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column(
            "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_job_static_io_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_static_io_job_id_jobs")),
        sa.PrimaryKeyConstraint("job_id", "direction", "dataset_id", name=op.f("pk_job_static_io")),
    )
    op.create_table(
        "runs",
        sa.Column("uuid", sa.String(length=255), nullable=False),
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column(
            "state_time", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("state_terminal", sa.Boolean(), nullable=False),
        sa.Column("state_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column(
            "started_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "ended_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "first_event_time",
            mllineage.collector.db.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "last_event_time",
            mllineage.collector.db.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("parent_run_uuid", sa.String(length=255), nullable=True),
        sa.Column("parent_job_namespace", sa.Text(), nullable=True),
        sa.Column("parent_job_name", sa.Text(), nullable=True),
        sa.Column(
            "created_at", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_runs_job_id_jobs")),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_job", ["job_id", "ended_at"], unique=False)
        batch_op.create_index("ix_runs_parent", ["parent_run_uuid"], unique=False)

    op.create_table(
        "run_facets",
        sa.Column("run_uuid", sa.String(length=255), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "event_time", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("facet", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_uuid"], ["runs.uuid"], name=op.f("fk_run_facets_run_uuid_runs")
        ),
        sa.PrimaryKeyConstraint("run_uuid", "key", name=op.f("pk_run_facets")),
    )
    op.create_table(
        "run_io",
        sa.Column("run_uuid", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column(
            "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "event_time", mllineage.collector.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("event_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "facets", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_run_io_dataset_id_datasets")
        ),
        sa.ForeignKeyConstraint(["run_uuid"], ["runs.uuid"], name=op.f("fk_run_io_run_uuid_runs")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_run_io_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("run_uuid", "direction", "dataset_id", name=op.f("pk_run_io")),
    )
    with op.batch_alter_table("run_io", schema=None) as batch_op:
        batch_op.create_index("ix_run_io_dataset", ["dataset_id", "direction"], unique=False)


def _create_event_log() -> None:
    """``lineage_events``: on PostgreSQL partitioned by month of ``received_at`` (retention drops
    whole partitions); on SQLite a plain table. Uniqueness lives in ``event_digests``."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE TABLE lineage_events (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY,
                event_hash BYTEA NOT NULL,
                kind VARCHAR(8) NOT NULL,
                event_type VARCHAR(16),
                event_time TIMESTAMP WITH TIME ZONE NOT NULL,
                received_at TIMESTAMP WITH TIME ZONE NOT NULL,
                run_uuid VARCHAR(255),
                job_namespace TEXT,
                job_name TEXT,
                producer TEXT NOT NULL,
                payload JSONB NOT NULL,
                warnings JSONB,
                CONSTRAINT pk_lineage_events PRIMARY KEY (id, received_at)
            ) PARTITION BY RANGE (received_at)
            """
        )
        op.execute("CREATE TABLE lineage_events_default PARTITION OF lineage_events DEFAULT")
        create_month_partitions(op.get_bind(), datetime.now(UTC), months_ahead=3)
    else:
        op.create_table(
            "lineage_events",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("event_hash", sa.LargeBinary(length=32), nullable=False),
            sa.Column("kind", sa.String(length=8), nullable=False),
            sa.Column("event_type", sa.String(length=16), nullable=True),
            sa.Column(
                "event_time",
                mllineage.collector.db.types.UTCDateTime(timezone=True),
                nullable=False,
            ),
            sa.Column(
                "received_at",
                mllineage.collector.db.types.UTCDateTime(timezone=True),
                nullable=False,
            ),
            sa.Column("run_uuid", sa.String(length=255), nullable=True),
            sa.Column("job_namespace", sa.Text(), nullable=True),
            sa.Column("job_name", sa.Text(), nullable=True),
            sa.Column("producer", sa.Text(), nullable=False),
            sa.Column("payload", sa.JSON(), nullable=False),
            sa.Column("warnings", sa.JSON(), nullable=True),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_events")),
        )
    op.create_index("ix_lineage_events_event_hash", "lineage_events", ["event_hash"])
    op.create_index("ix_lineage_events_event_time", "lineage_events", ["event_time"])
    op.create_index(
        "ix_lineage_events_job", "lineage_events", ["job_namespace", "job_name", "event_time"]
    )
    op.create_index(
        "ix_lineage_events_received_at",
        "lineage_events",
        ["received_at"],
        postgresql_using="brin",
    )
    op.create_index("ix_lineage_events_run_uuid", "lineage_events", ["run_uuid"])


def downgrade() -> None:
    with op.batch_alter_table("run_io", schema=None) as batch_op:
        batch_op.drop_index("ix_run_io_dataset")

    op.drop_table("run_io")
    op.drop_table("run_facets")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_parent")
        batch_op.drop_index("ix_runs_job")

    op.drop_table("runs")
    op.drop_table("job_static_io")
    op.drop_table("job_facets")
    with op.batch_alter_table("job_edges", schema=None) as batch_op:
        batch_op.drop_index("ix_job_edges_dataset")

    op.drop_table("job_edges")
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_versions_run_uuid")
        batch_op.drop_index("ix_dataset_versions_created")

    op.drop_table("dataset_versions")
    with op.batch_alter_table("dataset_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_tags_key_value")

    op.drop_table("dataset_tags")
    with op.batch_alter_table("dataset_symlinks", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_symlinks_identifier")

    op.drop_table("dataset_symlinks")
    op.drop_table("dataset_facets")
    with op.batch_alter_table("column_lineage", schema=None) as batch_op:
        batch_op.drop_index("ix_column_lineage_input")

    op.drop_table("column_lineage")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_name")

    op.drop_table("jobs")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index("ix_datasets_name")
        batch_op.drop_index("ix_datasets_kind")

    op.drop_table("datasets")
    op.drop_table("namespaces")
    op.drop_table("event_digests")
    op.drop_table("lineage_events")
