"""Production defaults: serve refuses an open address without keys, CORS is an allow-list, and
the request bytes in flight are bounded (503 + Retry-After before the body is read)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mllineage.client.cli import main
from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from tests.collector.events import run_event


def test_serve_refuses_a_public_address_without_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    refused = CliRunner().invoke(
        main, ["serve", "--host", "0.0.0.0", "--no-migrate", "--database-url", url], env={}
    )
    assert refused.exit_code == 1
    assert "refusing to serve 0.0.0.0 without API keys" in refused.output
    assert "MLLINEAGE_API_KEYS" in refused.output
    assert "--insecure" in refused.output


def test_serve_insecure_starts_with_a_warning(tmp_path: Path) -> None:
    """MLLINEAGE_ALLOW_INSECURE=true is the explicit opt-out; the server says so at start."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "MLLINEAGE_ALLOW_INSECURE": "true"}
    env.pop("MLLINEAGE_API_KEYS", None)
    args = ["serve", "--host", "0.0.0.0", "--port", str(port), "--no-migrate"]
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    command = [sys.executable, "-c", "from mllineage.client.cli import main; main()", *args]
    process = subprocess.Popen(
        [*command, "--database-url", url], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the insecure server did not start")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "without API keys (--insecure)" in stderr


def test_cors_is_off_by_default_and_an_allow_list_when_set(
    engine: Engine, database_url: str
) -> None:
    origin = "https://lineage-ui.example"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    with TestClient(create_app(Settings(database_url=database_url), engine=engine)) as client:
        assert (
            "access-control-allow-origin"
            not in client.get("/api/v1/namespaces", headers={"Origin": origin}).headers
        )
    settings = Settings(database_url=database_url, cors_origins=[origin])
    with TestClient(create_app(settings, engine=engine)) as client:
        allowed = client.options("/api/v1/lineage", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == origin
        other = client.options(
            "/api/v1/lineage", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers
    assert Settings(cors_origins=json.loads('["https://a.example"]')).cors_origins


def test_bytes_in_flight_are_bounded_before_the_body_is_read(
    engine: Engine, database_url: str
) -> None:
    settings = Settings(database_url=database_url, max_inflight_bytes=4_000, retry_after_seconds=4)
    app = create_app(settings, engine=engine)
    event = json.dumps(run_event("START", 0)).encode()

    async def scenario() -> None:
        release = asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            yield event[:10]
            await release.wait()
            yield event[10:]

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://collector") as client:
            # No Content-Length (chunked): it reserves the whole body limit, more than the budget,
            # and still runs because it is alone.
            slow = asyncio.create_task(client.post("/api/v1/lineage", content=slow_body()))
            while app.state.inflight.reserved == 0:
                await asyncio.sleep(0.01)
            refused = await client.post("/api/v1/lineage", content=event)
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "4"
            assert "in flight" in refused.json()["error"]
            release.set()
            assert (await slow).status_code == 201
            assert app.state.inflight.reserved == 0
            assert (await client.post("/api/v1/lineage", content=event)).status_code == 201

    app.state.writer.start()
    try:
        asyncio.run(scenario())
    finally:
        app.state.writer.stop()
