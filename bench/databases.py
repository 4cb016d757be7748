"""Throwaway databases for one benchmark: a fresh Postgres database (dropped after) or SQLite file.

Postgres follows the test suite's convention: the server at ``MLLINEAGE_TEST_PG_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``, trust auth); each benchmark creates its own
``mllineage_bench_<label>_<hex>`` database and drops it ``WITH (FORCE)`` when done.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psycopg

Backend = Literal["postgres", "sqlite"]

PG_ADMIN_DSN = os.environ.get(
    "MLLINEAGE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def postgres_available() -> str | None:
    """None when the Postgres server answers, else why not."""
    try:
        psycopg.connect(PG_ADMIN_DSN, connect_timeout=3, autocommit=True).close()
    except psycopg.OperationalError as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}".strip()
    return None


@dataclass(frozen=True)
class Database:
    """One benchmark database; ``url`` is what the collector takes (SQLAlchemy URL)."""

    backend: Backend
    url: str
    dsn: str = ""  # libpq DSN (Postgres)
    path: Path | None = None  # file (SQLite)

    def size_bytes(self) -> int:
        if self.backend == "sqlite":
            assert self.path is not None
            return sum(
                p.stat().st_size
                for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
                if p.exists()
            )
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            return int(row[0]) if row else 0

    def table_sizes(self) -> dict[str, int]:
        """Bytes per table including its indexes and TOAST (Postgres; SQLite via dbstat)."""
        if self.backend == "sqlite":
            assert self.path is not None
            with sqlite3.connect(self.path) as conn:
                try:
                    rows = conn.execute(
                        "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
                    ).fetchall()
                except sqlite3.OperationalError:  # dbstat not compiled in
                    return {}
            return {str(name): int(size) for name, size in rows}
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC"
            ).fetchall()
        return {str(name): int(size) for name, size in rows}

    def count(self, table: str) -> int:
        query = f"SELECT count(*) FROM {table}"  # our own table names
        if self.backend == "sqlite":
            assert self.path is not None
            with sqlite3.connect(self.path) as conn:
                return int(conn.execute(query).fetchone()[0])
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute(query).fetchone()
            return int(row[0]) if row else 0

    def analyze(self) -> None:
        """Refresh planner statistics (after a bulk load, before timing queries)."""
        if self.backend == "sqlite":
            assert self.path is not None
            with sqlite3.connect(self.path) as conn:
                conn.execute("ANALYZE")
            return
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")


@contextmanager
def fresh_database(
    backend: Backend, label: str, workdir: Path, *, keep: bool = False
) -> Iterator[Database]:
    """A new empty database for one benchmark; removed on exit (also on failure) unless
    ``keep`` (Postgres only: then it is left for ``existing_database``)."""
    suffix = uuid.uuid4().hex[:10]
    if backend == "sqlite":
        path = workdir / f"bench-{label}-{suffix}.db"
        try:
            yield Database("sqlite", f"sqlite:///{path}", path=path)
        finally:
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                p.unlink(missing_ok=True)
        return
    name = f"mllineage_bench_{label}_{suffix}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield existing_database(name)
    finally:
        if keep:
            print(f"[bench] kept database {name}", file=sys.stderr, flush=True)
        else:
            with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def existing_database(name: str) -> Database:
    """The Postgres database ``name`` on the benchmark server (never dropped by us)."""
    dsn = f"{PG_ADMIN_DSN.rpartition('/')[0]}/{name}"
    return Database("postgres", dsn.replace("postgresql://", "postgresql+psycopg://", 1), dsn=dsn)


def postgres_settings() -> dict[str, str]:
    """Server settings that decide what "durable" means and how fast it can be."""
    names = (
        "server_version",
        "synchronous_commit",
        "fsync",
        "full_page_writes",
        "shared_buffers",
        "max_wal_size",
        "work_mem",
    )
    with psycopg.connect(PG_ADMIN_DSN) as conn:
        return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]
