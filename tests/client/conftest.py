"""Client fixtures: a live collector (uvicorn on a free port) on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from tests.servers import running_server


@pytest.fixture
def server_url(engine: Engine, database_url: str) -> Iterator[str]:
    """Base URL of a running collector on an empty database."""
    app = create_app(Settings(database_url=database_url), engine=engine)
    with running_server(app) as url:
        yield url


@pytest.fixture
def demo_url(server_url: str) -> str:
    """A running collector with the ``mllineage demo`` workflow loaded through the client."""
    from mllineage.client import LineageClient
    from mllineage.client.demo import demo_events

    with LineageClient(server_url) as client:
        client.post_events(demo_events())
    return server_url
