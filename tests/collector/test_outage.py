"""Database outage mid-traffic (a private Postgres cluster): 503s while down, then recovery."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from mllineage.collector.app import create_app
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.settings import Settings
from tests import throwaway_postgres
from tests.collector.events import dataset, run_event


@pytest.fixture
def cluster() -> Iterator[throwaway_postgres.Cluster]:
    if not throwaway_postgres.available():
        message = "PostgreSQL server binaries (initdb/pg_ctl) are not available"
        if os.environ.get("MLLINEAGE_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with throwaway_postgres.throwaway_cluster() as cluster:
        yield cluster


def test_outage_gives_503_with_retry_after_and_the_collector_recovers_by_itself(
    cluster: throwaway_postgres.Cluster,
) -> None:
    engine = make_engine(cluster.url, pool_size=2)
    upgrade(engine)
    app = create_app(Settings(database_url=cluster.url, retry_after_seconds=7), engine=engine)
    runs = [str(uuid.uuid4()) for _ in range(6)]

    def complete(run_id: str) -> dict[str, object]:
        return run_event("COMPLETE", 1, run_id=run_id, outputs=[dataset("db", "out")])

    with TestClient(app) as client:
        for run_id in runs[:2]:
            assert client.post("/api/v1/lineage", json=complete(run_id)).status_code == 201
        assert client.get("/ready").status_code == 200

        cluster.stop()
        for run_id in runs[2:4]:
            response = client.post("/api/v1/lineage", json=complete(run_id))
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "7"
            assert "database unavailable" in response.json()["error"]
            batch = client.post("/api/v1/lineage/batch", json=[complete(run_id)])
            assert batch.status_code == 503
        read = client.get("/api/v1/namespaces")
        assert read.status_code == 503
        assert read.headers["Retry-After"] == "7"
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.headers["Retry-After"] == "7"
        assert client.get("/health").status_code == 200

        cluster.start()
        # the client retries what failed; the collector needs no restart
        for run_id in runs[2:]:
            assert client.post("/api/v1/lineage", json=complete(run_id)).status_code == 201
        assert client.get("/ready").status_code == 200
        assert client.get("/api/v1/namespaces").status_code == 200

    with engine.connect() as conn:
        stored = set(conn.execute(text("SELECT uuid FROM runs")).scalars())
        events = conn.execute(text("SELECT count(*) FROM lineage_events")).scalar_one()
        versions = conn.execute(text("SELECT count(*) FROM dataset_versions")).scalar_one()
    engine.dispose()
    assert stored == set(runs)
    assert events == versions == len(runs)
