"""Migration 0011 converts stored facets into ``facet_contents`` on both databases.

A database migrated to 0009 holds facet rows and a version's facet map; after the upgrade to head
every row names its body by the digest Python computes (``facet_bodies.facet_digest``, whatever
the database computed it with), the bodies read back equal, a retracted facet stays NULL and
equal bodies are stored once. On PostgreSQL the SQL digest (``mllineage_facet_digest``) is also
compared with Python's on awkward values directly.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, select, text

from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.facet_bodies import facet_digest, fetch_bodies, resolve_maps
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.db.tables import versions_t
from tests.conftest import PG_ADMIN_URL, _postgres_or_skip, _sqlalchemy_url

NOW = datetime(2026, 12, 1, tzinfo=UTC)
HASH = b"\x01" * 32
SCHEMA = {"_producer": "p", "_schemaURL": "s", "fields": [{"name": "ü", "type": "int"}]}
AWKWARD: list[Any] = [
    SCHEMA,
    {"b": 1, "aa": 2, "a": 3, "é": 'naïve "quoted" \\ \n tab\t', "nested": {"z": [1, 2.5, None]}},
    {"big": 12345678901234567890, "neg": -3, "small": 0.001, "float": 1e-7, "t": True},
    {"emoji": "\U0001f600", "ctrl": "\x01", "empty": {}, "list": []},
    {},
]


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    """An empty database of its own (not the session's, which is at head already)."""
    if request.param == "sqlite":
        # The collector's own engine: foreign keys on, as every SQLite user's database has them.
        engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
        yield engine
        engine.dispose()
        return
    _postgres_or_skip()
    name = f"mllineage_test_mig_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    engine = create_engine(_sqlalchemy_url(f"{base}/{name}"))
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _json(engine: Engine, name: str) -> str:
    return f"CAST(:{name} AS jsonb)" if engine.dialect.name == "postgresql" else f":{name}"


def _load_at_0009(engine: Engine) -> None:
    upgrade(engine, "0009")

    def j(name: str) -> str:
        return _json(engine, name)

    stamp = {"t": NOW, "h": HASH}
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO namespaces (id, name, created_at) VALUES (1, 'ns', :t)"), stamp
        )
        conn.execute(
            text(
                "INSERT INTO datasets (id, namespace_id, name, kind, created_at, updated_at) "
                "VALUES (1, 1, 'd', 'dataset', :t, :t)"
            ),
            stamp,
        )
        conn.execute(
            text(
                "INSERT INTO jobs (id, namespace_id, name, created_at, updated_at) "
                "VALUES (1, 1, 'j', :t, :t)"
            ),
            stamp,
        )
        conn.execute(
            text(
                "INSERT INTO runs (uuid, job_id, state_terminal, first_event_time, "
                "last_event_time, created_at) VALUES ('r', 1, false, :t, :t, :t)"
            ),
            stamp,
        )
        facets = [(f"k{i}", json.dumps(body)) for i, body in enumerate(AWKWARD)]
        for table, owner, value in (
            ("dataset_facets", "dataset_id", 1),
            ("job_facets", "job_id", 1),
            ("run_facets", "run_uuid", "r"),
        ):
            for key, body in [*facets, ("gone", None)]:
                conn.execute(
                    text(
                        f"INSERT INTO {table} ({owner}, key, event_time, event_hash, facet) "
                        f"VALUES (:o, :k, :t, :h, {j('f')})"
                    ),
                    {**stamp, "o": value, "k": key, "f": body},
                )
        conn.execute(
            text(
                "INSERT INTO dataset_versions (dataset_id, version, created_at, run_uuid, facets,"
                f" event_time, event_hash) VALUES (1, 'v1', :t, 'r', {j('f')}, :t, :h)"
            ),
            {**stamp, "f": json.dumps({"schema": SCHEMA, "other": AWKWARD[1]})},
        )
        # A run that wrote the version: the foreign key the SQLite conversion must keep intact.
        conn.execute(
            text(
                "INSERT INTO run_io (run_uuid, direction, dataset_id, version_id, event_time, "
                "event_hash) SELECT 'r', 'out', 1, id, :t, :h FROM dataset_versions"
            ),
            stamp,
        )


def test_upgrade_from_0009_keeps_every_body(fresh_engine: Engine) -> None:
    _load_at_0009(fresh_engine)
    upgrade(fresh_engine)
    expected = {f"k{i}": body for i, body in enumerate(AWKWARD)}
    with fresh_engine.connect() as conn:
        for table in ("dataset_facets", "job_facets", "run_facets"):
            rows: dict[str, Any] = dict(
                conn.execute(text(f"SELECT key, facet_digest FROM {table}")).all()
            )
            assert rows.pop("gone") is None
            assert {k: bytes(d) for k, d in rows.items()} == {
                k: facet_digest(b) for k, b in expected.items()
            }, table
            bodies = fetch_bodies(conn, rows.values())
            assert {k: bodies[bytes(d)] for k, d in rows.items()} == expected
        (digests,) = conn.execute(select(versions_t.c.facet_digests)).one()
        assert resolve_maps(conn, [digests]) == [{"schema": SCHEMA, "other": AWKWARD[1]}]
        stored = conn.execute(text("SELECT count(*) FROM facet_contents")).scalar()
        assert stored == len(AWKWARD)  # the version's bodies are the rows' bodies
        written = conn.execute(text("SELECT version_id FROM run_io")).scalar()
        assert written == conn.execute(select(versions_t.c.id)).scalar()


def test_sql_digest_equals_python_digest(engine: Engine, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the SQL digest exists on PostgreSQL only")
    with engine.connect() as conn:
        for body in [*AWKWARD, 1.5, "x", None, [1, {"b": 2, "a": 1}]]:
            sql = conn.execute(
                text("SELECT mllineage_facet_digest(CAST(:b AS jsonb))"), {"b": json.dumps(body)}
            ).scalar_one()
            assert bytes(sql) == facet_digest(body), body
