"""What every family module of the projection shares within one transaction.

``StoreContext`` is the small shared base of the family modules (as Data.Rentgen's repositories
share one): the connection, the dialect's ``RowWriter``, the surrogate ids known before the
transaction (``known``) and those it learns (``learned``). Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from mllineage.collector.ingest.store.dialect import RowWriter


@dataclass
class IdCache:
    """Surrogate ids of namespaces, datasets and jobs, which never change once a row exists.

    Shared by the transactions of one writer so known rows cost no round trip. Ids learned in a
    transaction are kept in ``StoreResult.learned`` and must be merged with ``merge`` only after
    that transaction committed; ``clear`` after any integrity error (rows deleted behind us).
    """

    namespaces: dict[str, int] = field(default_factory=dict)
    datasets: dict[tuple[int, str], int] = field(default_factory=dict)
    jobs: dict[tuple[int, str], int] = field(default_factory=dict)
    limit: int = 500_000

    def merge(self, other: IdCache) -> None:
        for mine, theirs in (
            (self.namespaces, other.namespaces),
            (self.datasets, other.datasets),
            (self.jobs, other.jobs),
        ):
            if len(mine) + len(theirs) > self.limit:
                mine.clear()
            mine.update(theirs)  # type: ignore[arg-type]

    def clear(self) -> None:
        self.namespaces.clear()
        self.datasets.clear()
        self.jobs.clear()


@dataclass
class StoreContext:
    """One transaction's view: ``conn`` (never committed here), its ``rows`` writer, ids."""

    conn: Connection
    rows: RowWriter
    known: IdCache
    learned: IdCache = field(default_factory=IdCache)

    @classmethod
    def open(cls, conn: Connection, known: IdCache | None = None) -> StoreContext:
        return cls(conn, RowWriter.for_connection(conn), known or IdCache())
