"""Query fixtures: the collector app on both databases, loaded with the reference graph."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from tests.queries import reference_graph


@pytest.fixture
def client(engine: Engine, database_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=database_url), engine=engine)
    with TestClient(app) as test_client:
        yield test_client


def ingest(client: TestClient, events: list[dict[str, Any]]) -> None:
    """POST real OpenLineage events, in order, and check every one was stored."""
    for event in events:
        response = client.post("/api/v1/lineage", json=event)
        assert response.status_code == 201, response.text


@pytest.fixture
def ref(client: TestClient) -> TestClient:
    """The client, with the reference graph ingested."""
    response = client.post("/api/v1/lineage/batch", json=reference_graph.events())
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["failed"] == 0, response.text
    return client


@pytest.fixture
def live_ref_url(engine: Engine, database_url: str) -> Iterator[str]:
    """A real uvicorn server (for clients that need a socket), reference graph loaded."""
    from tests.servers import running_server

    app = create_app(Settings(database_url=database_url), engine=engine)
    with running_server(app) as url:
        response = httpx.post(f"{url}/api/v1/lineage/batch", json=reference_graph.events())
        assert response.status_code == 200, response.text
        assert response.json()["summary"]["failed"] == 0
        yield url
