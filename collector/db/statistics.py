"""Planner statistics kept fresh while the projector writes faster than autovacuum analyzes.

PostgreSQL plans from the statistics ``ANALYZE`` gathers; autovacuum refreshes a table's once it
has changed by ``autovacuum_analyze_scale_factor`` (10 %) plus ``autovacuum_analyze_threshold``
(50) rows, checking every ``autovacuum_naptime`` (a minute). An import or a burst changes the raw
log and the graph tables by far more than that between two of its rounds, and some servers run
without autovacuum at all. Without statistics the planner guesses, and for the projector's
lookups of a batch's events by content hash its guess is a sequential scan of the whole raw log
per chunk: seconds each at a million events, minutes per batch (measured: a large import stalled
at 90,000 of 1,075,034 events projected, autovacuum off).

So the projector applies autovacuum's own rule, with the server's own settings, to this schema's
tables between batches: at most every ``interval`` seconds, one query of
``pg_stat_user_tables``, then ``ANALYZE (SKIP_LOCKED)`` of each table past the threshold (a table
autovacuum is analyzing right now is skipped, never waited for). Where autovacuum keeps up, no
table is past it and nothing is done. SQLite plans without such statistics: nothing to do.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

#: This schema's tables whose changes since their last ``ANALYZE`` pass autovacuum's threshold.
_STALE = text(
    """
    SELECT quote_ident(schemaname) || '.' || quote_ident(relname)
    FROM pg_stat_user_tables
    WHERE schemaname = current_schema()
      AND n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
          + current_setting('autovacuum_analyze_scale_factor')::float8 * n_live_tup
    ORDER BY relname
    """
)


class StatisticsKeeper:
    """``refresh()`` analyzes this database's stale tables, at most once per ``interval``."""

    def __init__(self, engine: Engine, *, interval: float = 5.0) -> None:
        self.engine = engine
        self.interval = interval
        self.analyzed = 0  # tables analyzed so far (for tests and logs)
        self._checked_at = float("-inf")

    def refresh(self) -> list[str]:
        """Analyze the tables past autovacuum's threshold now, if ``interval`` has passed since
        the last check; the tables analyzed. A failure is logged, never raised: statistics are
        an optimisation, the projection goes on without them."""
        if self.engine.dialect.name != "postgresql":
            return []
        now = time.monotonic()
        if now - self._checked_at < self.interval:
            return []
        self._checked_at = now
        try:
            # Autocommit: each ANALYZE commits (and its statistics are used) at once.
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                stale = list(conn.execute(_STALE).scalars())
                for table in stale:
                    conn.execute(text(f"ANALYZE (SKIP_LOCKED) {table}"))
        except SQLAlchemyError as exc:
            log.warning("refreshing planner statistics failed: %s", exc)
            return []
        if stale:
            self.analyzed += len(stale)
            log.info("planner statistics refreshed: %s", ", ".join(stale))
        return stale
