"""The ingest endpoints' lean path: plain Starlette routes in front of FastAPI's, request ids
without uuid4, and memory handed back only once a burst is over (both databases)."""

from __future__ import annotations

import asyncio
import copy
import re
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from mllineage.collector.api import inflight
from mllineage.collector.api.inflight import InflightBudget
from mllineage.collector.app import create_app
from mllineage.collector.db.tables import events_t
from mllineage.collector.settings import Settings
from tests.collector.test_shape import RUN_EVENT


def _event(number: int) -> dict[str, Any]:
    event = copy.deepcopy(RUN_EVENT)
    event["run"]["runId"] = f"0190c2d4-6a8e-7d3c-9a51-{number:012x}"
    return event


def test_the_ingest_routes_are_served_by_the_lean_routes_with_unchanged_answers(
    client: TestClient, engine: Engine
) -> None:
    app: Any = client.app
    lean = {route.path for route in app.router.routes[:2]}
    assert lean == {"/api/v1/lineage", "/api/v1/lineage/batch"}

    created = client.post("/api/v1/lineage", json=_event(1))
    assert created.status_code == 201
    assert created.content == b'{"status":"created","warnings":[]}'
    assert created.headers["content-type"] == "application/json"
    again = client.post("/api/v1/lineage", json=_event(1))
    assert again.content == b'{"status":"duplicate","warnings":[]}'
    odd = _event(2)
    odd["run"]["runId"] = "not-a-uuid"
    warned = client.post("/api/v1/lineage", json=odd)
    assert warned.status_code == 201
    assert warned.json()["warnings"] == [
        {"loc": "/run/runId", "msg": "'not-a-uuid' is not a valid uuid"}
    ]

    batch = client.post("/api/v1/lineage/batch", json=[_event(3), {"eventTime": "x"}])
    assert batch.status_code == 200
    assert batch.json()["summary"] == {
        "received": 2,
        "successful": 1,
        "failed": 1,
        "retriable": 0,
        "non_retriable": 1,
    }
    assert batch.json()["failed_events"][0]["index"] == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events_t)).scalar() == 3

    # the request metrics still name the route template, not "unmatched"
    metrics = client.get("/metrics").text
    assert 'route="/api/v1/lineage",status="201"' in metrics
    assert 'route="/api/v1/lineage/batch",status="200"' in metrics
    assert 'mllineage_ingest_events_total{outcome="created"} 3.0' in metrics


def test_the_openapi_document_still_describes_the_ingest_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    single = paths["/api/v1/lineage"]["post"]
    assert single["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OpenLineage.Event"
    }
    assert "201" in single["responses"]
    assert {"400", "401", "403", "413", "422", "503"} <= set(single["responses"])
    assert "200" in paths["/api/v1/lineage/batch"]["post"]["responses"]


def test_the_lean_routes_check_the_write_scope(engine: Engine, database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        api_keys={"writer-key": ["write"], "reader-key": ["read"]},
    )
    with TestClient(create_app(settings, engine=engine)) as secured:
        body = orjson.dumps(_event(4))
        assert secured.post("/api/v1/lineage", content=body).status_code == 401
        reader = {"Authorization": "Bearer reader-key"}
        assert secured.post("/api/v1/lineage", content=body, headers=reader).status_code == 403
        writer = {"Authorization": "Bearer writer-key"}
        assert secured.post("/api/v1/lineage", content=body, headers=writer).status_code == 201


def test_request_ids_are_32_hex_digits_unique_per_request(client: TestClient) -> None:
    ids = [client.get("/health").headers["x-request-id"] for _ in range(50)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)
    assert len(set(ids)) == 50
    other = TestClient(create_app(Settings(database_url="sqlite://")))
    assert other.get("/health").headers["x-request-id"][:16] != ids[0][:16]  # per-process prefix
    assert client.get("/health", headers={"X-Request-ID": "mine"}).headers["x-request-id"] == "mine"


def test_memory_is_released_once_a_burst_is_over_not_between_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    released: list[int] = []
    monkeypatch.setattr(inflight, "release_free_memory", lambda: released.append(1))
    monkeypatch.setattr(inflight, "RELEASE_IDLE_SECONDS", 0.05)
    half = inflight.RELEASE_AFTER_BYTES // 2 + 1

    async def burst() -> None:
        budget = InflightBudget(capacity=10 * half)
        for _ in range(4):  # steady load: the reservations drop to zero between requests
            assert budget.try_reserve(half)
            budget.release(half)
            await asyncio.sleep(0.03)
        assert released == []  # never while requests keep coming
        await asyncio.sleep(0.2)
        assert released == [1]  # once idle
        await asyncio.sleep(0.2)
        assert released == [1]

    asyncio.run(burst())
