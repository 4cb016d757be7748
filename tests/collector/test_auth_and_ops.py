"""API keys with scopes, health/readiness probes, request ids and structured logs."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from mllineage.collector.app import create_app
from mllineage.collector.logs import JsonFormatter, request_id_var
from mllineage.collector.settings import Settings
from tests.collector.events import run_event

WRITER, READER, ADMIN = "w-0a1b2c3d4e5f", "r-9f8e7d6c5b4a", "a-13579bdf"


@pytest.fixture
def secured(engine: Engine, database_url: str) -> Iterator[TestClient]:
    hashed_reader = "sha256:" + hashlib.sha256(READER.encode()).hexdigest()
    settings = Settings(
        database_url=database_url,
        api_keys={WRITER: ["write"], hashed_reader: ["read"], ADMIN: ["read", "write"]},
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_ingest_needs_a_key_with_write_scope(secured: TestClient) -> None:
    event = run_event("START", 0)
    missing = secured.post("/api/v1/lineage", json=event)
    assert missing.status_code == 401
    assert "Authorization: Bearer" in missing.json()["error"]
    assert secured.post("/api/v1/lineage", json=event, headers=bearer("nope")).status_code == 401
    assert (
        secured.post("/api/v1/lineage", json=event, headers={"Authorization": WRITER}).status_code
        == 401
    )
    wrong_scope = secured.post("/api/v1/lineage", json=event, headers=bearer(READER))
    assert wrong_scope.status_code == 403
    assert "write" in wrong_scope.json()["error"]
    assert secured.post("/api/v1/lineage", json=event, headers=bearer(WRITER)).status_code == 201
    assert (
        secured.post("/api/v1/lineage/batch", json=[event], headers=bearer(ADMIN)).status_code
        == 200
    )


def test_probes_need_no_key(secured: TestClient) -> None:
    assert secured.get("/health").json() == {"status": "ok"}
    assert secured.get("/ready").json()["status"] == "ready"


def test_keys_need_scopes() -> None:
    with pytest.raises(ValueError, match="scope"):
        Settings(api_keys={"k": []})


def test_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLLINEAGE_API_KEYS", json.dumps({"env-key": ["read"]}))
    monkeypatch.setenv("MLLINEAGE_MAX_BODY_BYTES", "1234")
    settings = Settings()
    assert settings.api_keys == {"env-key": ["read"]}
    assert settings.max_body_bytes == 1234
    assert settings.auth_enabled


def test_request_id_is_echoed_or_made_and_keys_never_logged(
    secured: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mllineage")
    response = secured.post(
        "/api/v1/lineage",
        json=run_event("START", 0),
        headers={**bearer(WRITER), "X-Request-ID": "req-42"},
    )
    assert response.headers["x-request-id"] == "req-42"
    assert len(secured.get("/health").headers["x-request-id"]) == 32
    access = [r for r in caplog.records if r.name == "mllineage.access"]
    assert any(r.getMessage() == "POST /api/v1/lineage 201" for r in access)
    assert all(WRITER not in r.getMessage() for r in caplog.records)


def test_json_log_lines_carry_the_request_id() -> None:
    token = request_id_var.set("abc123")
    try:
        record = logging.LogRecord(
            "mllineage.x", logging.INFO, __file__, 1, "hello %s", ("you",), None
        )
        record.request_id = request_id_var.get()
        record.duration_ms = 1.5
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello you"
    assert line["request_id"] == "abc123"
    assert line["duration_ms"] == 1.5
    assert line["level"] == "INFO"
