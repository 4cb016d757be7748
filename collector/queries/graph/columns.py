"""``ColumnGraph``: ``column_lineage``, output column <- input column (as of a time: the
``columnLineage`` facets of the versions current then)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select, tuple_
from sqlalchemy.sql import ColumnElement

from mllineage.collector.db.facet_bodies import fetch_bodies
from mllineage.collector.db.tables import column_lineage_t, datasets_t, namespaces_t, versions_t
from mllineage.collector.queries.graph.as_of import AsOfGraph
from mllineage.collector.queries.graph.walk import Direction, Hop, Node, NodeGraph, column, dataset
from mllineage.collector.queries.membership import fetch_in


class ColumnGraph(NodeGraph):
    """Column-level lineage: an output column is derived from input columns.

    Without ``as_of`` it walks the current ``columnLineage`` facets (``column_lineage``). With
    ``as_of`` it reads each dataset's ``columnLineage`` as its latest version created by then
    reported it (datasets without versions keep their current facet); downstream candidates are
    the datasets written, as of then, by the jobs reading the frontier's datasets.
    """

    def __init__(self, as_of: datetime | None = None) -> None:
        self.as_of = as_of
        # only its hops are read, never merged: symlinks play no part in column lineage
        self._datasets = AsOfGraph(as_of, symlinks=False) if as_of is not None else None

    def expand(self, conn: Connection, frontier: Sequence[Node], direction: Direction) -> list[Hop]:
        fields: dict[int, set[str]] = {}
        for node in frontier:
            fields.setdefault(int(node.id), set()).add(node.field)
        if self.as_of is not None:
            return self._expand_as_of(conn, fields, direction)
        cl = column_lineage_t.c
        if direction == "upstream":
            rows = fetch_in(
                conn,
                cl.dataset_id,
                fields,
                lambda cond: select(
                    cl.dataset_id, cl.field, cl.input_dataset_id, cl.input_field
                ).where(cond),
            )
            return [
                (column(ds, f), column(in_ds, in_f), None)
                for ds, f, in_ds, in_f in rows
                if f in fields[ds]
            ]
        rows = fetch_in(
            conn,
            cl.input_dataset_id,
            fields,
            lambda cond: select(cl.input_dataset_id, cl.input_field, cl.dataset_id, cl.field).where(
                cond
            ),
        )
        return [
            (column(in_ds, in_f), column(ds, f), None)
            for in_ds, in_f, ds, f in rows
            if in_f in fields[in_ds]
        ]

    def _expand_as_of(
        self, conn: Connection, fields: dict[int, set[str]], direction: Direction
    ) -> list[Hop]:
        assert self._datasets is not None
        assert self.as_of is not None
        if direction == "upstream":
            links = column_links_as_of(conn, list(fields), self.as_of)
            return [
                (column(ds, f), column(in_ds, in_f), None)
                for ds, f, in_ds, in_f in links
                if f in fields[ds]
            ]
        starts = [dataset(ds) for ds in fields]
        jobs = {hop[1] for hop in self._datasets.expand(conn, starts, "downstream")}
        outputs = {
            int(hop[1].id) for hop in self._datasets.expand(conn, sorted(jobs), "downstream")
        }
        links = column_links_as_of(conn, sorted(outputs), self.as_of)
        return [
            (column(in_ds, in_f), column(ds, f), None)
            for ds, f, in_ds, in_f in links
            if in_f in fields.get(in_ds, ())
        ]


def column_links_as_of(
    conn: Connection, dataset_ids: Sequence[int], as_of: datetime
) -> list[tuple[int, str, int, str]]:
    """(dataset, column, input dataset, input column) from the ``columnLineage`` facet each
    dataset's latest version created by ``as_of`` carried; the current facet for datasets that
    have no version at all."""
    order = func.row_number().over(
        partition_by=versions_t.c.dataset_id,
        order_by=(versions_t.c.created_at.desc(), versions_t.c.id.desc()),
    )

    def build(cond: ColumnElement[bool]) -> Select[tuple[int, Any]]:
        ranked = (
            select(versions_t.c.dataset_id, versions_t.c.facet_digests, order.label("rn"))
            .where(cond, versions_t.c.created_at <= as_of)
            .subquery()
        )
        return select(ranked.c.dataset_id, ranked.c.facet_digests).where(ranked.c.rn == 1)

    digests = dict(fetch_in(conn, versions_t.c.dataset_id, dataset_ids, build))
    # Only the columnLineage body of each version is needed.
    lineage_digests = {
        ds: bytes.fromhex(m["columnLineage"])
        for ds, m in digests.items()
        if isinstance(m, dict) and "columnLineage" in m
    }
    bodies = fetch_bodies(conn, lineage_digests.values())
    facets = {
        ds: {"columnLineage": bodies[lineage_digests[ds]]} if ds in lineage_digests else {}
        for ds in digests
    }
    versioned_ids = {
        row[0]
        for row in fetch_in(
            conn,
            versions_t.c.dataset_id,
            dataset_ids,
            lambda cond: select(versions_t.c.dataset_id).distinct().where(cond),
        )
    }
    wanted: list[tuple[int, str, str, str, str]] = []
    for ds, version_facets in facets.items():
        lineage = (version_facets or {}).get("columnLineage") or {}
        for out_field, spec in (lineage.get("fields") or {}).items():
            for source in (spec or {}).get("inputFields") or []:
                wanted.append(
                    (
                        ds,
                        str(out_field),
                        str(source["namespace"]),
                        str(source["name"]),
                        str(source["field"]),
                    )
                )
    names = sorted({(ns, name) for _, _, ns, name, _ in wanted})
    ids = {
        (ns, name): id_
        for id_, ns, name in (
            conn.execute(
                select(datasets_t.c.id, namespaces_t.c.name, datasets_t.c.name)
                .join(namespaces_t, namespaces_t.c.id == datasets_t.c.namespace_id)
                .where(tuple_(namespaces_t.c.name, datasets_t.c.name).in_(names))
            )
            if names
            else []
        )
    }
    links = [
        (ds, f, ids[(ns, name)], in_f) for ds, f, ns, name, in_f in wanted if (ns, name) in ids
    ]
    unversioned = [ds for ds in dataset_ids if ds not in versioned_ids]
    cl = column_lineage_t.c
    links.extend(
        fetch_in(
            conn,
            cl.dataset_id,
            unversioned,
            lambda cond: select(cl.dataset_id, cl.field, cl.input_dataset_id, cl.input_field).where(
                cond
            ),
        )
    )
    return [(int(a), str(b), int(c), str(d)) for a, b, c, d in links]
