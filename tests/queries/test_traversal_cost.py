"""The traversal fetches a whole frontier level per statement: its query count depends on the
number of levels, never on the number of nodes (no N+1 follow-ups)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.collector.events import dataset, run_event


def hub_events(ns: str, consumers: int, chain: int) -> list[dict[str, Any]]:
    """``src`` read by ``consumers`` jobs, each writing ``out_i``; then a chain of ``chain``
    jobs after ``out_0``."""
    events = [
        run_event(
            "COMPLETE",
            1,
            job=(ns, f"consumer_{i}"),
            inputs=[dataset(ns, "src")],
            outputs=[dataset(ns, f"out_{i}")],
        )
        for i in range(consumers)
    ]
    for step in range(chain):
        source = "out_0" if step == 0 else f"chain_{step - 1}"
        events.append(
            run_event(
                "COMPLETE",
                2 + step,
                job=(ns, f"step_{step}"),
                inputs=[dataset(ns, source)],
                outputs=[dataset(ns, f"chain_{step}")],
            )
        )
    return events


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def statements_for(client: TestClient, engine: Engine, path: str, ns: str) -> int:
    with counting(engine) as statements:
        response = client.get(f"/api/v1/ml/{path}", params={"nodeId": f"dataset:{ns}:src"})
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("path", ["impact", "lineage", "models", "feature-groups"])
def test_query_count_does_not_grow_with_fan_out(
    client: TestClient, engine: Engine, path: str
) -> None:
    for ns, consumers in (("small", 3), ("large", 120)):
        response = client.post("/api/v1/lineage/batch", json=hub_events(ns, consumers, chain=3))
        assert response.json()["summary"]["failed"] == 0
    body = client.get("/api/v1/ml/impact", params={"nodeId": "dataset:large:src"}).json()
    assert len(body["rows"]) == 2 * 120 + 6  # consumer jobs and outputs, 3 chain pairs
    assert max(r["depth"] for r in body["rows"]) == 8
    # Same depth (8 hops), 40 times the nodes: the same number of statements.
    assert statements_for(client, engine, path, "small") == statements_for(
        client, engine, path, "large"
    )


def test_read_connections_plan_each_statement_for_its_arguments(
    client: TestClient, engine: Engine
) -> None:
    """Reads run with JIT off and custom plans (the id arrays vary from call to call), in
    autocommit; the settings stay on the pooled connection and are never applied to SQLite."""
    from types import SimpleNamespace

    from mllineage.collector.api.reads import read_connection

    request: Any = SimpleNamespace(app=client.app, query_params={}, state=SimpleNamespace())
    for _ in range(2):
        with read_connection(request) as conn:
            if engine.dialect.name == "postgresql":
                assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
                assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
                assert conn.connection.info["read_settings"] is True
                driver = conn.connection.driver_connection
                assert driver is not None
                assert driver.autocommit  # no BEGIN/ROLLBACK round trips
            else:
                assert "read_settings" not in conn.connection.info
    assert client.get("/api/v1/ml/governance/tagged").status_code == 200
