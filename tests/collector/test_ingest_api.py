"""Ingestion over HTTP on SQLite and Postgres: the corpus, duplicates, gzip, limits, batches."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from tests.collector.corpus import load_corpus
from tests.collector.events import dataset, run_event
from tests.conftest import empty_database

TABLES = [
    "lineage_events",
    "namespaces",
    "datasets",
    "dataset_facets",
    "dataset_versions",
    "dataset_symlinks",
    "dataset_tags",
    "column_lineage",
    "jobs",
    "job_facets",
    "job_static_io",
    "job_edges",
    "runs",
    "run_facets",
    "run_io",
]


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def accepted_corpus(shared_dir: Path) -> list[tuple[str, Any]]:
    return load_corpus(shared_dir, "events") + load_corpus(shared_dir, "nonconforming")


def canonical_digest(payload: Any) -> bytes:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).digest()


def test_corpus_is_stored_once_and_resending_it_changes_nothing(
    client: TestClient, engine: Engine, shared_dir: Path
) -> None:
    corpus = accepted_corpus(shared_dir)
    distinct = {canonical_digest(payload) for _, payload in corpus}
    for name, payload in corpus:
        response = client.post("/api/v1/lineage", json=payload)
        assert response.status_code == 201, (name, response.text)
    first = counts(engine)
    assert first["lineage_events"] == len(distinct) == 171
    assert first["runs"] > 50
    assert first["datasets"] > 50
    assert first["column_lineage"] > 50

    for name, payload in corpus:
        response = client.post("/api/v1/lineage", json=payload)
        assert response.status_code == 201, name
        assert response.json()["status"] == "duplicate"
    assert counts(engine) == first


def test_nonconforming_events_keep_their_warnings(
    client: TestClient, engine: Engine, shared_dir: Path
) -> None:
    for _, payload in load_corpus(shared_dir, "nonconforming"):
        response = client.post("/api/v1/lineage", json=payload)
        assert response.status_code == 201
        assert response.json()["warnings"], "the producer is told what is off"
    with engine.connect() as conn:
        unwarned = conn.execute(
            text("SELECT count(*) FROM lineage_events WHERE warnings IS NULL")
        ).scalar_one()
    assert unwarned == 0


def test_invalid_corpus_is_rejected_and_stores_nothing(
    client: TestClient, engine: Engine, shared_dir: Path
) -> None:
    before = counts(engine)
    for name, payload in load_corpus(shared_dir, "invalid"):
        response = client.post("/api/v1/lineage", json=payload)
        assert response.status_code == 422, name
        body = response.json()
        assert body["error"].startswith("not a valid OpenLineage")
        assert body["details"][0]["loc"].startswith("/")
        assert body["details"][0]["msg"]
    assert counts(engine) == before


def test_gzip_body_is_accepted(client: TestClient, engine: Engine) -> None:
    event = run_event("START", 0, outputs=[dataset("s3://bucket", "raw/events.parquet")])
    body = gzip.compress(json.dumps(event).encode())
    response = client.post(
        "/api/v1/lineage",
        content=body,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 201, response.text
    assert counts(engine)["lineage_events"] == 1


def test_unreadable_bodies_get_400(client: TestClient, engine: Engine) -> None:
    for body, headers in [
        (b"{not json", {}),
        (b"\x1f\x8bnot really gzip", {"Content-Encoding": "gzip"}),
        (b"{}", {"Content-Encoding": "br"}),
    ]:
        response = client.post("/api/v1/lineage", content=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json()["error"]
    assert counts(engine)["lineage_events"] == 0


def test_body_size_limit_gives_413_also_for_gzip_bombs(engine: Engine, database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, max_body_bytes=2048), engine=engine)
    event = run_event("START", 0, run_facets={"big": {"blob": "x" * 4000}})
    with TestClient(app) as small:
        assert small.post("/api/v1/lineage", json=event).status_code == 413
        bomb = gzip.compress(json.dumps(event).encode())
        assert len(bomb) < 2048
        response = small.post("/api/v1/lineage", content=bomb, headers={"Content-Encoding": "gzip"})
        assert response.status_code == 413
        assert "exceeds 2048 bytes" in response.json()["error"]
    assert counts(engine)["lineage_events"] == 0


def test_dataset_and_job_events_are_told_apart_by_shape(client: TestClient, engine: Engine) -> None:
    job_event = {
        "eventTime": "2024-05-01T10:00:00Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-8-9/OpenLineage.json#/$defs/RunEvent",
        "job": {"namespace": "design", "name": "etl"},
        "inputs": [{"namespace": "db", "name": "src"}],
        "outputs": [{"namespace": "db", "name": "dst"}],
    }
    dataset_event = {
        "eventTime": "2024-05-01T10:00:00Z",
        "producer": "https://example.com/producer",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "dataset": {"namespace": "db", "name": "dst"},
    }
    assert client.post("/api/v1/lineage", json=job_event).status_code == 201
    assert client.post("/api/v1/lineage", json=dataset_event).status_code == 201
    with engine.connect() as conn:
        kinds = sorted(conn.execute(text("SELECT kind FROM lineage_events")).scalars())
        assert kinds == ["dataset", "job"]
        assert conn.execute(text("SELECT count(*) FROM runs")).scalar_one() == 0
        edges = conn.execute(
            text(
                "SELECT e.direction, d.name FROM job_edges e JOIN datasets d ON d.id = e.dataset_id"
                " ORDER BY e.direction"
            )
        ).all()
    assert [tuple(row) for row in edges] == [("in", "src"), ("out", "dst")]


def test_batch_reports_failures_by_index_and_stores_the_rest(
    client: TestClient, engine: Engine
) -> None:
    good = run_event("COMPLETE", 1, outputs=[dataset("db", "t")])
    bad = {**run_event("START", 0), "run": {}}
    response = client.post("/api/v1/lineage/batch", json=[good, bad, good])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "partial_success"
    assert body["summary"] == {
        "received": 3,
        "successful": 2,
        "failed": 1,
        "retriable": 0,
        "non_retriable": 1,
    }
    assert body["failed_events"][0]["index"] == 1
    assert body["failed_events"][0]["details"][0]["loc"] == "/run/runId"
    assert counts(engine)["lineage_events"] == 1  # the good event twice is one event

    response = client.post("/api/v1/lineage/batch", json=[good])
    assert response.json()["status"] == "success"
    assert client.post("/api/v1/lineage/batch", json={"not": "a list"}).status_code == 422


def test_nul_characters_are_rejected_alike_on_both_databases(
    client: TestClient, engine: Engine
) -> None:
    """PostgreSQL cannot store U+0000 in text or JSONB; the collector says so, where, up front."""
    good = run_event("START", 1, outputs=[dataset("db", "fine")])
    bad = run_event("START", 2, outputs=[dataset("db", "bad\u0000name")])
    response = client.post("/api/v1/lineage", json=bad)
    assert response.status_code == 422
    [detail] = response.json()["details"]
    assert detail["loc"] == "/outputs/0/name"
    assert "U+0000" in detail["msg"]

    response = client.post("/api/v1/lineage/batch", json=[good, bad])
    summary = response.json()["summary"]
    assert (summary["successful"], summary["non_retriable"], summary["retriable"]) == (1, 1, 0)
    assert counts(engine)["lineage_events"] == 1

    # A literal backslash followed by "u0000" is an ordinary string.
    lookalike = run_event("START", 3, outputs=[dataset("db", "C:\\u0000")])
    assert client.post("/api/v1/lineage", json=lookalike).status_code == 201


def graph_snapshot(engine: Engine) -> dict[str, Any]:
    """Everything the projection derived, in a form independent of surrogate ids."""
    queries = {
        "runs": "SELECT r.uuid, r.state, r.started_at, r.ended_at, r.parent_run_uuid, j.name"
        " FROM runs r JOIN jobs j ON j.id = r.job_id",
        "edges": "SELECT j.name, e.direction, d.name FROM job_edges e"
        " JOIN jobs j ON j.id = e.job_id JOIN datasets d ON d.id = e.dataset_id",
        "run_io": "SELECT io.run_uuid, io.direction, d.name, v.version FROM run_io io"
        " JOIN datasets d ON d.id = io.dataset_id"
        " LEFT JOIN dataset_versions v ON v.id = io.version_id",
        "datasets": "SELECT n.name, d.name, d.kind FROM datasets d"
        " JOIN namespaces n ON n.id = d.namespace_id",
        "dataset_facets": "SELECT d.name, f.key, f.event_time FROM dataset_facets f"
        " JOIN datasets d ON d.id = f.dataset_id",
        "run_facets": "SELECT run_uuid, key, event_time FROM run_facets",
        "column_lineage": "SELECT d.name, c.field, i.name, c.input_field FROM column_lineage c"
        " JOIN datasets d ON d.id = c.dataset_id JOIN datasets i ON i.id = c.input_dataset_id",
        "jobs": "SELECT name, job_type, current_run_uuid FROM jobs",
    }
    with engine.connect() as conn:
        return {
            name: sorted(tuple(str(v) for v in row) for row in conn.execute(text(sql)))
            for name, sql in queries.items()
        }


def test_one_batch_and_reversed_one_by_one_build_the_same_graph(
    client: TestClient, engine: Engine, shared_dir: Path
) -> None:
    """Order independence: the corpus as one batch == the corpus event by event, reversed."""
    corpus = [payload for _, payload in accepted_corpus(shared_dir)]
    response = client.post("/api/v1/lineage/batch", json=corpus)
    assert response.json()["summary"]["successful"] == len(corpus)
    assert counts(engine)["lineage_events"] == 171
    batched = graph_snapshot(engine)

    empty_database(engine)
    for payload in reversed(corpus):
        assert client.post("/api/v1/lineage", json=payload).status_code == 201
    assert graph_snapshot(engine) == batched
