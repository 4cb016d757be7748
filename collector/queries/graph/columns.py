"""Column lineage, read in one place: ``ColumnGraph`` walks ``column_lineage``, output column <-
input column (as of a time: the ``columnLineage`` facets of the versions current then);
``derivations`` says, for the outputs a propagation reaches, which input columns each of their
columns is derived from (current, as of a time, or as one dataset version reported it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select, tuple_
from sqlalchemy.sql import ColumnElement

from mllineage.collector.db.facet_bodies import fetch_bodies
from mllineage.collector.db.tables import column_lineage_t, datasets_t, namespaces_t, versions_t
from mllineage.collector.queries.graph.as_of import AsOfGraph
from mllineage.collector.queries.graph.walk import (
    Direction,
    Hop,
    Node,
    NodeGraph,
    column,
    dataset,
    version,
)
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
            return [
                (column(ds, f), column(in_ds, in_f), None)
                for ds, f, in_ds, in_f in current_links(conn, list(fields))
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

    facets = _lineage_facets(conn, fetch_in(conn, versions_t.c.dataset_id, dataset_ids, build))
    versioned_ids = {
        row[0]
        for row in fetch_in(
            conn,
            versions_t.c.dataset_id,
            dataset_ids,
            lambda cond: select(versions_t.c.dataset_id).distinct().where(cond),
        )
    }
    links = _facet_links(conn, facets)
    unversioned = [ds for ds in dataset_ids if ds not in versioned_ids]
    return [
        *((int(a), str(b), int(c), str(d)) for a, b, c, d in links),
        *current_links(conn, unversioned),
    ]


def current_links(conn: Connection, dataset_ids: Sequence[int]) -> list[tuple[int, str, int, str]]:
    """(dataset, column, input dataset, input column) of these datasets' current column lineage
    (the ``column_lineage`` table)."""
    cl = column_lineage_t.c
    rows = fetch_in(
        conn,
        cl.dataset_id,
        dataset_ids,
        lambda cond: select(cl.dataset_id, cl.field, cl.input_dataset_id, cl.input_field).where(
            cond
        ),
    )
    return [(a, b, c, d) for a, b, c, d in rows]  # integer ids and text columns as stored


def _lineage_facets(conn: Connection, maps: Iterable[Sequence[Any]]) -> dict[Any, dict[str, Any]]:
    """owner -> ``{"columnLineage": body}`` from (owner, ``facet_digests`` map) rows, for the
    owners whose map has a ``columnLineage`` facet (only that body is fetched)."""
    digests = {
        owner: bytes.fromhex(m["columnLineage"])
        for owner, m in maps
        if isinstance(m, dict) and "columnLineage" in m
    }
    bodies = fetch_bodies(conn, digests.values())
    return {owner: {"columnLineage": bodies[digest]} for owner, digest in digests.items()}


#: output column -> the (input dataset id, input column) pairs it is derived from
Derivation = dict[str, list[tuple[int, str]]]


def derivations(
    conn: Connection, nodes: Sequence[Node], as_of: datetime | None = None
) -> dict[Node, Derivation]:
    """The column lineage of each output node, as the graph it was reached in sees it: a
    ``dataset`` node's current ``columnLineage`` (its facet as of ``as_of`` when given, as
    ``column_links_as_of`` reads it), a ``version`` node's own facet. A node missing from the
    answer has no column lineage (the producer declared none)."""
    found: dict[Node, Derivation] = {}
    dataset_ids = sorted({int(n.id) for n in nodes if n.type == "dataset"})
    if dataset_ids:
        if as_of is None:
            links = current_links(conn, dataset_ids)
        else:
            links = column_links_as_of(conn, dataset_ids, as_of)
        by_id: dict[int, Derivation] = {}
        for ds, out_field, in_ds, in_field in links:
            by_id.setdefault(ds, {}).setdefault(out_field, []).append((in_ds, in_field))
        found.update((dataset(ds), derivation) for ds, derivation in by_id.items())
    version_ids = sorted({int(n.id) for n in nodes if n.type == "version"})
    if version_ids:
        maps = fetch_in(
            conn,
            versions_t.c.id,
            version_ids,
            lambda cond: select(versions_t.c.id, versions_t.c.facet_digests).where(cond),
        )
        for vid, out_field, in_ds, in_field in _facet_links(conn, _lineage_facets(conn, maps)):
            found.setdefault(version(vid), {}).setdefault(out_field, []).append((in_ds, in_field))
    return found


def _facet_links(conn: Connection, facets: dict[Any, Any]) -> list[tuple[Any, str, int, str]]:
    """(owner, column, input dataset id, input column) from each owner's ``columnLineage`` facet
    (in ``facets``: owner -> its facets); input datasets that are not stored are left out."""
    wanted: list[tuple[Any, str, str, str, str]] = []
    for owner, owner_facets in facets.items():
        lineage = (owner_facets or {}).get("columnLineage") or {}
        for out_field, spec in (lineage.get("fields") or {}).items():
            for source in (spec or {}).get("inputFields") or []:
                wanted.append(
                    (
                        owner,
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
    return [
        (owner, f, int(ids[(ns, name)]), in_f)
        for owner, f, ns, name, in_f in wanted
        if (ns, name) in ids
    ]
