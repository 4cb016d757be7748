"""How long a version stood: the time the next version of the same dataset replaced it.

``scope=versions`` answers report every version ever built; ``until`` says when each stopped
being the dataset's latest (a model version retrained, an endpoint redeployed), ``None`` while
it still is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import Connection, and_, func, or_, select

from mllineage.collector.db.tables import versions_t
from mllineage.collector.queries.graph.walk import Node

_CHUNK = 400


def superseded_at(conn: Connection, version_ids: Iterable[int]) -> dict[int, datetime]:
    """Per version id: the creation time of the next version of its dataset (newer by
    ``(created_at, id)``); versions that are still their dataset's newest are absent."""
    ids = sorted(set(version_ids))
    this, newer = versions_t.alias("this"), versions_t.alias("newer")
    later = or_(
        newer.c.created_at > this.c.created_at,
        and_(newer.c.created_at == this.c.created_at, newer.c.id > this.c.id),
    )
    query = (
        select(this.c.id, func.min(newer.c.created_at))
        .join(newer, and_(newer.c.dataset_id == this.c.dataset_id, later))
        .group_by(this.c.id)
    )
    found: dict[int, datetime] = {}
    for chunk in _chunks(ids):
        for version_id, at in conn.execute(query.where(this.c.id.in_(chunk))):
            found[version_id] = at  # min() keeps the column type: timezone-aware UTC
    return found


def until_of(conn: Connection, nodes: Iterable[Node]) -> dict[Node, datetime]:
    """``superseded_at`` for the version nodes among ``nodes``."""
    versions = {node: int(node.id) for node in nodes if node.type == "version"}
    ends = superseded_at(conn, versions.values())
    return {node: ends[id_] for node, id_ in versions.items() if id_ in ends}


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
