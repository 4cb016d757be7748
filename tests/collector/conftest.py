"""Collector fixtures: the app on a real database, driven over HTTP (Starlette's TestClient)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def client(engine: Engine, settings: Settings) -> Iterator[TestClient]:
    """The app over HTTP. After each ingest request the client waits, as every read does, until
    the projection covers it, so tests may also inspect the graph tables directly."""
    app = create_app(settings, engine=engine)

    def projected(response: httpx.Response) -> None:
        if response.request.method == "POST" and "/lineage" in response.request.url.path:
            app.state.read_barrier.wait()

    with TestClient(app) as test_client:
        test_client.event_hooks["response"].append(projected)
        yield test_client
