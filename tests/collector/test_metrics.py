"""``GET /metrics``: Prometheus exposition (parsed by prometheus-client's own parser), read scope."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from tests.collector.events import run_event
from tests.servers import free_port

READER, WRITER = "r-metrics-1", "w-metrics-1"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_requests_ingest_outcomes_and_forwarding_lag(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        api_keys={READER: ["read"], WRITER: ["write"]},
        forward=[
            {"type": "file", "log_file_path": str(tmp_path / "out.ndjson"), "append": True},
            {
                "type": "http",
                "url": f"http://127.0.0.1:{free_port()}",
                "name": "down",
                "retry": {"total": 0, "connect": 0, "read": 0},
            },
        ],
    )
    write = {"Authorization": f"Bearer {WRITER}"}
    with TestClient(create_app(settings, engine=engine)) as client:
        events = [run_event("COMPLETE", minute) for minute in range(3)]
        for event in [*events, events[0]]:
            assert client.post("/api/v1/lineage", json=event, headers=write).status_code == 201
        assert (
            client.post("/api/v1/lineage", json={"no": "event"}, headers=write).status_code == 422
        )
        assert client.get("/metrics").status_code == 401
        time.sleep(0.5)  # let the down target's first send fail
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {READER}"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    samples = _samples(answer.text)
    outcomes = {
        outcome: samples[("mllineage_ingest_events_total", (("outcome", outcome),))]
        for outcome in ("created", "duplicate", "rejected", "failed")
    }
    assert outcomes == {"created": 3, "duplicate": 1, "rejected": 1, "failed": 0}
    ingest = (("method", "POST"), ("route", "/api/v1/lineage"))
    assert samples[("mllineage_http_requests_total", (*ingest, ("status", "201")))] == 4
    assert samples[("mllineage_http_requests_total", (*ingest, ("status", "422")))] == 1
    assert samples[("mllineage_http_request_duration_seconds_count", ingest)] == 5
    unauthorised = (("method", "GET"), ("route", "/metrics"), ("status", "401"))
    assert samples[("mllineage_http_requests_total", unauthorised)] == 1
    assert ("mllineage_ingest_queue_depth", ()) in samples
    assert samples[("mllineage_projection_backlog_events", ())] >= 0
    assert ("mllineage_projection_lag_seconds", ()) in samples
    assert samples[("mllineage_forward_backlog_events", (("target", "down"),))] == 3
    assert samples[("mllineage_forward_lag_seconds", (("target", "down"),))] > 0
    assert samples[("mllineage_forward_failures_total", (("target", "down"),))] >= 1
    assert samples[("mllineage_db_pool_size", ())] >= 1
