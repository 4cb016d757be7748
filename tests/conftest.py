"""Shared fixtures: the ``../shared`` corpus and one real database per backend (SQLite, Postgres).

Every test that takes ``engine`` runs twice, on SQLite and on PostgreSQL. Each pytest worker
creates its own database per backend (a temporary SQLite file; a ``mllineage_test_<id>`` Postgres
database that is dropped at the end), migrates it once, and empties it before every test.
Without a reachable Postgres the Postgres half skips, unless ``MLLINEAGE_REQUIRE_POSTGRES=1``
(set by ``.ci/run``), which turns that skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text

from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.db.models import Base

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get(
    "MLLINEAGE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def shared_path() -> Path | None:
    configured = os.environ.get("MLLINEAGE_SHARED_DIR")
    path = Path(configured) if configured else REPO.parent / "shared"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = shared_path()
    if path is None:
        pytest.skip("../shared (conformance corpus and spec) is not present")
    return path


def _postgres_or_skip() -> None:
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"
        if os.environ.get("MLLINEAGE_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " (MLLINEAGE_REQUIRE_POSTGRES=1)")
        pytest.skip(message)


def _sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh Postgres database for this worker; yields its SQLAlchemy URL, drops it after."""
    _postgres_or_skip()
    name = f"mllineage_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    yield _sqlalchemy_url(f"{base}/{name}")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'mllineage.db'}"


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Session-wide migrated database per backend; tests get it emptied via ``engine``."""
    url: str = request.getfixturevalue(f"{request.param}_database")
    engine = make_engine(url, pool_size=2)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty, migrated database (SQLite or Postgres)."""
    engine = make_engine(database_url, pool_size=4)
    empty_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def backend(engine: Engine) -> str:
    return engine.dialect.name


def empty_database(engine: Engine) -> None:
    """Delete every row (per test, so no test sees another's data)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
