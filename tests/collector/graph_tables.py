"""Every graph table of a database as comparable rows, surrogate ids replaced by natural keys.

Two databases fed the same events assign different ids to the same dataset, job or version;
``graph_rows`` renders each row as canonical JSON text with every id column replaced by what it
names (``namespace/name`` of a dataset or job, plus ``@version`` of a version), so the row sets of
two databases can be compared directly.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, text

from mllineage.collector.db.models import Base

#: The raw log and its dedup keys are inputs, not projection.
RAW_TABLES = frozenset({"lineage_events", "event_digests"})

_NATURAL = {
    "namespaces": "(SELECT n.name FROM namespaces n WHERE n.id = {col})",
    "datasets": (
        "(SELECT n.name || '/' || d.name FROM datasets d JOIN namespaces n"
        " ON n.id = d.namespace_id WHERE d.id = {col})"
    ),
    "jobs": (
        "(SELECT n.name || '/' || j.name FROM jobs j JOIN namespaces n"
        " ON n.id = j.namespace_id WHERE j.id = {col})"
    ),
    "dataset_versions": (
        "(SELECT n.name || '/' || d.name || '@' || v.version FROM dataset_versions v"
        " JOIN datasets d ON d.id = v.dataset_id JOIN namespaces n ON n.id = d.namespace_id"
        " WHERE v.id = {col})"
    ),
}


def graph_tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in RAW_TABLES]


def graph_rows(conn: Connection, table: Table) -> list[str]:
    """Sorted canonical JSON of every row of ``table`` (PostgreSQL), ids as natural keys."""
    columns = []
    for column in table.columns:
        if column.name == "id" and column.primary_key:
            continue
        foreign = next(iter(column.foreign_keys), None)
        if foreign is not None and foreign.column.table.name in _NATURAL:
            expression = _NATURAL[foreign.column.table.name].format(col=f"t.{column.name}")
        else:
            expression = f"t.{column.name}"
        columns.append(f"'{column.name}', {expression}")
    query = text(f"SELECT jsonb_build_object({', '.join(columns)})::text FROM {table.name} t")
    return sorted(conn.execute(query).scalars())
