"""The collector's tables: the raw event log and its projection into the lineage graph.

Graph shape: namespaces hold datasets and jobs; a job has runs; a run reads and writes datasets
(``run_io``, historical, per run) and may produce dataset versions. ``job_edges`` is the job's
*current* edge set (its latest completed run's, else its latest run's, else its static JobEvent
lineage), which is what the traversal walks. Facets are stored one row per (entity, key) with the
``event_time`` of the event that set them, so out-of-order events merge correctly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    FetchedValue,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mllineage.collector.db.types import BigIntPK, JSONType, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType, int: BigInteger()}


class LineageEvent(Base):
    """Every accepted event, exactly once (``event_hash`` = sha256 of its canonical JSON).

    On PostgreSQL the table is partitioned by month of ``received_at`` (``db/partitions.py``);
    its primary key is then ``(id, received_at)`` and uniqueness of the hash is kept by
    ``event_digests``, because a partitioned table cannot enforce a unique key without the
    partition key. The migration creates the physical table per dialect.
    """

    __tablename__ = "lineage_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(8))
    event_type: Mapped[str | None] = mapped_column(String(16))
    event_time: Mapped[datetime]
    received_at: Mapped[datetime]
    run_uuid: Mapped[str | None] = mapped_column(String(255))
    job_namespace: Mapped[str | None] = mapped_column(Text)
    job_name: Mapped[str | None] = mapped_column(Text)
    producer: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    warnings: Mapped[list[dict[str, str]] | None] = mapped_column(JSONType)
    #: Commit order of the log, with ``id`` as tie-break (see ``collector/forward/log.py``). On
    #: PostgreSQL the database fills it with the inserting transaction's id
    #: (``pg_current_xact_id()``): ids come from a sequence in *insert* order, and concurrent
    #: writers commit out of that order, so a cursor on ``id`` alone could skip a row committed
    #: late. SQLite has one writer at a time and fills 0 (``id`` order is commit order there).
    commit_tx: Mapped[int] = mapped_column(server_default=FetchedValue())

    __table_args__ = (
        Index("ix_lineage_events_commit_order", "commit_tx", "id"),
        Index("ix_lineage_events_event_hash", "event_hash"),
        Index("ix_lineage_events_run_uuid", "run_uuid"),
        Index("ix_lineage_events_job", "job_namespace", "job_name", "event_time"),
        Index("ix_lineage_events_event_time", "event_time"),
        # Retention and time partitioning key: BRIN is tiny and ideal for append-only time.
        Index("ix_lineage_events_received_at", "received_at", postgresql_using="brin"),
    )


class EventDigest(Base):
    """The content hash of every event ever accepted: the dedup key, kept through retention."""

    __tablename__ = "event_digests"

    event_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    received_at: Mapped[datetime]


class ProjectionBacklog(Base):
    """Raw events acknowledged but not projected yet: the projector's queue.

    A row is written in the same transaction as its event's raw-log row and deleted in the same
    transaction as its projection, so the graph lags the raw log by exactly these rows. ``seq``
    orders them: a read waits until no row at or below the highest ``seq`` it saw remains.
    """

    __tablename__ = "projection_backlog"
    # Never reuse a deleted seq (SQLite would, without AUTOINCREMENT): a projector deleting the
    # rows it took must not hit a newer event's row, and reads compare seqs.
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    received_at: Mapped[datetime]


class Namespace(Base):
    __tablename__ = "namespaces"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime]


class Dataset(Base):
    """A dataset (incl. feature groups, models, endpoints: ``kind`` comes from its facets)."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    namespace_id: Mapped[int] = mapped_column(ForeignKey("namespaces.id"))
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), default="dataset")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("namespace_id", "name"),
        Index("ix_datasets_kind", "kind"),
        Index("ix_datasets_name", "name"),
        # A namespace's first event time: one index probe (queries/namespace_times.py).
        Index("ix_datasets_namespace_created", "namespace_id", "created_at"),
    )


class FacetContent(Base):
    """A facet body, once per distinct content: ``digest`` is ``db/facet_bodies.facet_digest``.

    Facet rows and dataset versions refer to bodies by digest; readers resolve them through
    ``db/facet_bodies.py``. Never updated; a body no row refers to any more is kept.
    """

    __tablename__ = "facet_contents"

    digest: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)


class DatasetFacet(Base):
    """Current facet ``key`` of a dataset (body in ``facet_contents`` under ``facet_digest``);
    ``facet_digest`` NULL = retracted with ``_deleted``.

    The newest ``(event_time, event_hash)`` wins: the hash of the event that set the facet breaks
    ties, so the result does not depend on arrival order, and points back to the raw event.
    """

    __tablename__ = "dataset_facets"
    # Most events only move the stamp of an unchanged facet: room on the page keeps those
    # updates HOT (no index entry, the dead version pruned in place).
    __table_args__ = {"postgresql_with": {"fillfactor": 70}}

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    event_time: Mapped[datetime]
    event_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    facet_digest: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class DatasetVersion(Base):
    """A version of a dataset: explicit (``version`` / model facet) or one per producing run.

    ``run_uuid`` is the producing run (NULL while the version is only known as someone's input);
    ``facet_digests`` is the dataset's facets as that run reported them (its latest event), as
    a map of facet key to the hex digest of its body in ``facet_contents``.
    """

    __tablename__ = "dataset_versions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    version: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    run_uuid: Mapped[str | None] = mapped_column(String(255))
    facet_digests: Mapped[dict[str, Any]] = mapped_column(JSONType)
    event_time: Mapped[datetime]
    event_hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (
        UniqueConstraint("dataset_id", "version"),
        Index("ix_dataset_versions_run_uuid", "run_uuid"),
        Index("ix_dataset_versions_created", "dataset_id", "created_at"),
    )


class DatasetSymlink(Base):
    """Another identifier of the same dataset (``symlinks`` facet), e.g. a table over a path."""

    __tablename__ = "dataset_symlinks"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    namespace: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    type: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_dataset_symlinks_identifier", "namespace", "name"),)


class DatasetTag(Base):
    """Governance tags of a dataset (``field`` = '' for the dataset itself, else a column)."""

    __tablename__ = "dataset_tags"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    source: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_dataset_tags_key_value", "key", "value"),)


class ColumnLineage(Base):
    """Output column <- input column, from the output dataset's current ``columnLineage``."""

    __tablename__ = "column_lineage"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    input_dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    input_field: Mapped[str] = mapped_column(Text, primary_key=True)
    transformations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)

    __table_args__ = (Index("ix_column_lineage_input", "input_dataset_id", "input_field"),)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    namespace_id: Mapped[int] = mapped_column(ForeignKey("namespaces.id"))
    name: Mapped[str] = mapped_column(Text)
    job_type: Mapped[str | None] = mapped_column(Text)  # from the current ``jobType`` facet
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    current_run_uuid: Mapped[str | None] = mapped_column(String(255))
    current_run_complete: Mapped[bool | None] = mapped_column(Boolean)
    current_run_time: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("namespace_id", "name"),
        Index("ix_jobs_name", "name"),
        Index("ix_jobs_namespace_created", "namespace_id", "created_at"),
    )


class JobFacet(Base):
    __tablename__ = "job_facets"
    __table_args__ = {"postgresql_with": {"fillfactor": 70}}  # see DatasetFacet

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    event_time: Mapped[datetime]
    event_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    facet_digest: Mapped[bytes | None] = mapped_column(LargeBinary(16))  # see DatasetFacet


class JobStaticIO(Base):
    """Design-time lineage declared by JobEvents (``direction`` 'in' or 'out')."""

    __tablename__ = "job_static_io"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)


class JobEdge(Base):
    """The job's current edges: what the lineage traversal walks."""

    __tablename__ = "job_edges"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)

    __table_args__ = (Index("ix_job_edges_dataset", "dataset_id", "direction", "job_id"),)


class Run(Base):
    """A run; ``state`` follows event time: terminal states are sticky, OTHER changes nothing.

    A run belongs to the job named by its earliest event (producers that reuse a run id for
    another job do not move it).
    """

    __tablename__ = "runs"

    uuid: Mapped[str] = mapped_column(String(255), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    state: Mapped[str | None] = mapped_column(String(16))
    state_time: Mapped[datetime | None]
    state_terminal: Mapped[bool] = mapped_column(Boolean, default=False)
    state_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    first_event_time: Mapped[datetime]
    last_event_time: Mapped[datetime]
    parent_run_uuid: Mapped[str | None] = mapped_column(String(255))  # from the ``parent`` facet
    parent_job_namespace: Mapped[str | None] = mapped_column(Text)
    parent_job_name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_runs_job", "job_id", "ended_at"),
        Index("ix_runs_parent", "parent_run_uuid"),
    )


#: The data-quality facets (``queries/quality.py``): few rows carry them, and the quality reads
#: find those rows through partial indexes (``quality_indexes``) instead of every run I/O row of
#: the datasets asked about.
QUALITY_FACETS = {"dataQualityAssertions": "assertions", "dataQualityMetrics": "metrics"}


def quality_indexes(table: str) -> list[Index]:
    """Partial indexes of ``run_io`` (rows whose I/O facets hold a quality facet, by dataset) or
    ``run_facets`` (quality run facets, by run); one per facet key, so that a query naming the
    key as a constant (``quality_key``) matches the predicate on SQLite as on PostgreSQL."""
    indexes = []
    for key, short in QUALITY_FACETS.items():
        name = f"ix_{table}_quality_{short}"
        if table == "run_io":
            indexes.append(
                Index(
                    name,
                    "dataset_id",
                    postgresql_where=text(f"facets ? '{key}'"),
                    sqlite_where=text(f"json_type(facets, '$.{key}') IS NOT NULL"),
                )
            )
        else:
            where = text(f"key = '{key}'")
            indexes.append(Index(name, "run_uuid", postgresql_where=where, sqlite_where=where))
    return indexes


class RunFacet(Base):
    __tablename__ = "run_facets"
    __table_args__ = (
        *quality_indexes("run_facets"),
        {"postgresql_with": {"fillfactor": 70}},  # see DatasetFacet
    )

    run_uuid: Mapped[str] = mapped_column(ForeignKey("runs.uuid"), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    event_time: Mapped[datetime]
    event_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    facet_digest: Mapped[bytes | None] = mapped_column(LargeBinary(16))  # see DatasetFacet


class RunIO(Base):
    """A run read ('in') or wrote ('out') a dataset; ``version_id`` when the version is known."""

    __tablename__ = "run_io"

    run_uuid: Mapped[str] = mapped_column(ForeignKey("runs.uuid"), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("dataset_versions.id"))
    event_time: Mapped[datetime]
    event_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    facets: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (
        Index("ix_run_io_dataset", "dataset_id", "direction"),
        # Version-pinned downstream walks: which runs read exactly this version.
        Index("ix_run_io_version", "version_id"),
        *quality_indexes("run_io"),
    )


class ForwardCursor(Base):
    """How far forwarding target ``target`` has got in the raw log: its last sent position.

    A position is ``(commit_tx, event_id)`` of a ``lineage_events`` row, the log's commit order.
    ``forwarded`` counts events sent (and ``parked`` those given up on) since the target was first
    configured.
    """

    __tablename__ = "forward_cursors"

    target: Mapped[str] = mapped_column(Text, primary_key=True)
    commit_tx: Mapped[int]
    event_id: Mapped[int]
    forwarded: Mapped[int] = mapped_column(default=0)
    parked: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class ForwardParked(Base):
    """An event a target kept rejecting (a poison event): skipped for that target, kept here."""

    __tablename__ = "forward_parked"

    target: Mapped[str] = mapped_column(Text, primary_key=True)
    event_id: Mapped[int] = mapped_column(primary_key=True)
    commit_tx: Mapped[int]
    attempts: Mapped[int]
    error: Mapped[str] = mapped_column(Text)
    parked_at: Mapped[datetime]


#: ``InferredIO.rule`` values: how an edge was inferred.
TASK_DEPENDENCY = "airflow_task_dependency"
PARENT = "parent"


class InferredIO(Base):
    """An edge no producer declared, inferred from orchestration (``direction`` 'in' or 'out').

    ``run_uuid`` (of job ``job_id``) read ('in') or wrote ('out') ``dataset_id`` by inference:
    ``via_run_uuid`` is the run whose I/O the edge comes from (a sibling task, or the parent run),
    ``dag_run_uuid`` the DAG run the task hangs under, ``rule`` how it was inferred (``airflow_task_dependency`` or ``parent``).
    Derived from the projection by ``ingest/inferred.py``; never written by the fold.
    """

    __tablename__ = "inferred_io"

    run_uuid: Mapped[str] = mapped_column(ForeignKey("runs.uuid"), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    via_run_uuid: Mapped[str] = mapped_column(String(255), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    dag_run_uuid: Mapped[str | None] = mapped_column(String(255))
    rule: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_inferred_io_dataset", "dataset_id", "direction"),
        Index("ix_inferred_io_job", "job_id", "direction"),
    )
