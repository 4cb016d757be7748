"""Marquez-style search over dataset and job names (``/search``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, func, literal, select, union_all

from mllineage.collector.db.tables import datasets_t, jobs_t, namespaces_t
from mllineage.collector.queries.catalog import Listing
from mllineage.schemas.node_ids import dataset_node_id, job_node_id


@dataclass(frozen=True, slots=True)
class SearchHit:
    type: Literal["DATASET", "JOB"]
    name: str
    namespace: str
    updated_at: datetime

    @property
    def node_id(self) -> str:
        if self.type == "DATASET":
            return dataset_node_id(self.namespace, self.name)
        return job_node_id(self.namespace, self.name)


def search(
    conn: Connection,
    *,
    q: str,
    filter_: Literal["DATASET", "JOB"] | None,
    sort: Literal["NAME", "UPDATE_AT"],
    limit: int,
    namespace: str | None = None,
) -> Listing[SearchHit]:
    """Datasets and jobs whose name contains ``q`` (case-insensitive; ``%``/``_`` wildcards)."""
    pattern = f"%{q}%"
    parts = []
    for kind, table in (("DATASET", datasets_t), ("JOB", jobs_t)):
        if filter_ is not None and filter_ != kind:
            continue
        part = (
            select(
                literal(kind).label("type"),
                table.c.name.label("name"),
                namespaces_t.c.name.label("namespace"),
                table.c.updated_at.label("updated_at"),
            )
            .join(namespaces_t, namespaces_t.c.id == table.c.namespace_id)
            .where(table.c.name.ilike(pattern))
        )
        if namespace is not None:
            part = part.where(namespaces_t.c.name == namespace)
        parts.append(part)
    combined = union_all(*parts).subquery()
    order = (
        (combined.c.updated_at.desc(), combined.c.name)
        if sort == "UPDATE_AT"
        else (combined.c.name, combined.c.namespace)
    )
    total = conn.execute(select(func.count()).select_from(combined)).scalar_one()
    rows = conn.execute(select(combined).order_by(*order).limit(limit)).all()
    return Listing([SearchHit(t, n, ns, at) for t, n, ns, at in rows], total)
