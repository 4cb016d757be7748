"""Namespace-scoped API keys: writes refused per event, reads filtered to what the key may see."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from tests.collector.events import dataset, run_event

TEAM_A, ADMIN = "team-a-key", "admin-key"
WAREHOUSE = "postgres://warehouse:5432"


@pytest.fixture
def scoped(engine: Engine, database_url: str) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        api_keys={
            TEAM_A: {"write": ["team-a", WAREHOUSE], "read": ["team-a*", "postgres://*"]},
            ADMIN: ["read", "write"],
        },
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


def as_key(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_write_outside_the_keys_namespaces_is_a_403_per_event(
    scoped: TestClient, engine: Engine
) -> None:
    mine = run_event(
        "COMPLETE", 1, job=("team-a", "load"), inputs=[dataset(WAREHOUSE, "public.orders")]
    )
    theirs = run_event("COMPLETE", 2, job=("team-a", "leak"), outputs=[dataset("team-b", "x")])
    assert scoped.post("/api/v1/lineage", json=mine, headers=as_key(TEAM_A)).status_code == 201
    refused = scoped.post("/api/v1/lineage", json=theirs, headers=as_key(TEAM_A))
    assert refused.status_code == 403
    assert "'team-b'" in refused.json()["error"]

    batch = scoped.post("/api/v1/lineage/batch", json=[theirs, mine], headers=as_key(TEAM_A))
    assert batch.status_code == 200
    [failed] = batch.json()["failed_events"]
    assert failed["index"] == 0
    assert "'team-b'" in failed["reason"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM lineage_events")).scalar_one() == 1


def test_reads_show_only_the_keys_namespaces(scoped: TestClient) -> None:
    # team-b's job reads team-a's table and writes its own; only the admin may record that.
    events = [
        run_event("COMPLETE", 1, job=("team-a", "extract"), outputs=[dataset("team-a", "raw")]),
        run_event(
            "COMPLETE",
            2,
            job=("team-b", "secret_etl"),
            inputs=[dataset("team-a", "raw")],
            outputs=[dataset("team-b", "secret_table")],
        ),
    ]
    stored = scoped.post("/api/v1/lineage/batch", json=events, headers=as_key(ADMIN))
    assert stored.json()["summary"]["successful"] == 2
    team_a = as_key(TEAM_A)

    def everything(path: str, key: str) -> str:
        response = scoped.get(path, headers=as_key(key))
        assert response.status_code == 200, (path, response.text)
        return response.text

    for path in (
        "/api/v1/namespaces",
        "/api/v1/lineage?nodeId=dataset:team-a:raw&depth=5",
        "/api/v1/ml/impact?nodeId=dataset:team-a:raw",
        "/api/v1/ml/lineage?nodeId=dataset:team-a:raw&direction=downstream",
        "/api/v1/search?q=e",
        "/api/v1/events/lineage",
    ):
        assert "team-b" in everything(path, ADMIN), path
        assert "team-b" not in everything(path, TEAM_A), path
    assert "team-a" in everything("/api/v1/namespaces", TEAM_A)
    for hidden in (
        "/api/v1/namespaces/team-b",
        "/api/v1/namespaces/team-b/jobs",
        "/api/v1/ml/sources?nodeId=dataset:team-b:secret_table",
    ):
        assert scoped.get(hidden, headers=team_a).status_code == 404, hidden
        assert scoped.get(hidden, headers=as_key(ADMIN)).status_code == 200, hidden


def test_tag_writes_are_limited_to_the_keys_namespaces(scoped: TestClient) -> None:
    events = [
        run_event("COMPLETE", 1, job=("team-a", "load"), outputs=[dataset("team-a", "mine")]),
        run_event("COMPLETE", 2, job=("team-b", "load"), outputs=[dataset("team-b", "theirs")]),
    ]
    stored = scoped.post("/api/v1/lineage/batch", json=events, headers=as_key(ADMIN))
    assert stored.json()["summary"]["successful"] == 2
    team_a = as_key(TEAM_A)
    refused = scoped.post("/api/v1/namespaces/team-b/datasets/theirs/tags/pii", headers=team_a)
    assert refused.status_code == 403
    assert "'team-b'" in refused.json()["error"]
    tagged = scoped.post("/api/v1/namespaces/team-a/datasets/mine/tags/pii", headers=team_a)
    assert tagged.status_code == 200, tagged.text
    tags = scoped.get("/api/v1/namespaces/team-b/datasets/theirs", headers=as_key(ADMIN)).json()
    assert tags["tags"] == []
