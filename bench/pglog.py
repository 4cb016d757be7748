"""Evidence for slow queries: the statements Postgres itself logged as slow, per benchmark step.

With ``--profile`` the query benchmark sets ``log_min_duration_statement`` on its own database
(before the collector connects) and reads the server log around each query kind: which SQL
statements took the time, how often, and the slowest one with its parameters (ready for
``EXPLAIN ANALYZE``). Needs the server log on this machine (``PGLOG``, default the Debian path);
otherwise it quietly reports nothing.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.databases import PG_ADMIN_DSN, Database

LOG = Path(os.environ.get("PGLOG", "/var/log/postgresql/postgresql-15-main.log"))
_ENTRY = re.compile(
    r"^\S+ \S+ \S+ \[\d+\] \S*@(?P<db>\S+) LOG:  duration: (?P<ms>[\d.]+) ms  "
    r"(?:statement|execute [^:]*): (?P<sql>.*)$"
)


def log_slow_statements(db: Database, threshold_ms: int) -> bool:
    """Ask Postgres to log statements slower than ``threshold_ms`` on ``db`` (new sessions)."""
    if db.backend != "postgres" or not os.access(LOG, os.R_OK):
        return False
    name = db.dsn.rpartition("/")[2]
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET log_min_duration_statement = {threshold_ms}')
    return True


@dataclass
class SlowLog:
    """Reads the server log from where it stood when created."""

    db: Database
    offset: int = field(init=False)

    def __post_init__(self) -> None:
        self.offset = LOG.stat().st_size if os.access(LOG, os.R_OK) else 0

    def summary(self, top: int = 8) -> list[dict[str, object]]:
        """Statements logged since creation on our database, by total time."""
        if not os.access(LOG, os.R_OK):
            return []
        name = self.db.dsn.rpartition("/")[2]
        with LOG.open("rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode(errors="replace")
        totals: dict[str, list[float]] = defaultdict(list)
        slowest: dict[str, tuple[float, str]] = {}
        lines = text.splitlines()
        for number, line in enumerate(lines):
            match = _ENTRY.match(line)
            if not match or match.group("db") != name:
                continue
            sql = match.group("sql")
            # the statement may continue on following lines, parameters come on a DETAIL line
            more = []
            for follow in lines[number + 1 : number + 60]:
                if re.match(r"^\d{4}-\d\d-\d\d ", follow):
                    if " DETAIL:  parameters:" in follow:
                        more.append("-- " + follow.split("DETAIL:  ", 1)[1][:2000])
                    break
                more.append(follow)
            key = re.sub(r"\s+", " ", sql)[:160]
            ms = float(match.group("ms"))
            totals[key].append(ms)
            if ms > slowest.get(key, (0.0, ""))[0]:
                slowest[key] = (ms, "\n".join([sql, *more]))
        ranked = sorted(totals.items(), key=lambda item: -sum(item[1]))[:top]
        return [
            {
                "statement": key,
                "calls": len(times),
                "total_ms": round(sum(times), 1),
                "max_ms": round(max(times), 1),
                "slowest_with_parameters": slowest[key][1][:4000],
            }
            for key, times in ranked
        ]
