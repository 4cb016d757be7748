"""The raw event log: monthly partitions on Postgres, retention that keeps graph and dedup."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from mllineage.collector.db.partitions import apply_retention, create_month_partitions
from mllineage.collector.ingest.store import store_events
from mllineage.collector.ingest.validate import EventValidator
from tests.collector.events import dataset, run_event

OLD = datetime(2020, 1, 15, tzinfo=UTC)


def test_events_land_in_the_partition_of_their_month(client: TestClient, engine: Engine) -> None:
    assert client.post("/api/v1/lineage", json=run_event("START", 0)).status_code == 201
    if engine.dialect.name != "postgresql":
        return
    now = datetime.now(UTC)
    with engine.connect() as conn:
        partition = conn.execute(
            text("SELECT tableoid::regclass::text FROM lineage_events")
        ).scalar_one()
        names = set(
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                    " WHERE i.inhparent = 'lineage_events'::regclass"
                )
            ).scalars()
        )
    assert partition == f"lineage_events_y{now:%Y}m{now:%m}"
    assert len(names - {"lineage_events_default"}) >= 4, "this month and three ahead"


def test_retention_removes_old_raw_events_but_keeps_graph_and_dedup(
    client: TestClient, engine: Engine
) -> None:
    old_event = run_event("COMPLETE", 0, outputs=[dataset("db", "old_table")])
    validator = EventValidator()
    with engine.begin() as conn:
        assert create_month_partitions(conn, OLD, months_ahead=0) in (
            [],
            ["lineage_events_y2020m01"],
        )
        store_events(conn, [validator.validate(old_event)], received_at=OLD)
    assert client.post("/api/v1/lineage", json=run_event("START", 1)).status_code == 201

    with engine.begin() as conn:
        removed = apply_retention(conn, datetime(2021, 1, 1, tzinfo=UTC))
    assert removed == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM lineage_events")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM event_digests")).scalar_one() == 2
        assert (
            conn.execute(
                text("SELECT count(*) FROM datasets WHERE name = 'old_table'")
            ).scalar_one()
            == 1
        )

    again = client.post("/api/v1/lineage", json=old_event)
    assert again.status_code == 201
    assert again.json()["status"] == "duplicate"
