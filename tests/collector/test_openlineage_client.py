"""The real openlineage-python client, HTTP transport with gzip and an API key, over a socket."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import (
    DatasetEvent,
    InputDataset,
    Job,
    JobEvent,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    StaticDataset,
)
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.transport.http import HttpCompression, HttpConfig, HttpTransport
from sqlalchemy import Engine, text

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from tests.servers import running_server

WRITE_KEY = "ingest-key-5b8d"
READ_KEY = "reader-key-0c1e"
PRODUCER = "https://github.com/mllineage/mllineage/tree/0.1.0/tests"


def http_client(url: str, api_key: str | None) -> OpenLineageClient:
    config = HttpConfig.from_dict(
        {
            "type": "http",
            "url": url,
            "compression": "gzip",
            "auth": {"type": "api_key", "apiKey": api_key} if api_key else {},
            "retry": {"total": 0},
        }
    )
    assert config.compression == HttpCompression.GZIP
    return OpenLineageClient(transport=HttpTransport(config))


def run_events() -> list[RunEvent]:
    run = Run(runId=str(uuid.uuid4()))
    job = Job(namespace="spark", name="ingest_clicks")
    now = datetime.now(UTC).isoformat()
    raw = InputDataset(namespace="s3://raw", name="clicks/2024-05-01")
    out = OutputDataset(
        namespace="postgres://warehouse:5432",
        name="analytics.clicks",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name="user_id", type="BIGINT")]
            )
        },
    )
    return [
        RunEvent(
            eventType=state,
            eventTime=now,
            run=run,
            job=job,
            producer=PRODUCER,
            inputs=[raw],
            outputs=[out],
        )
        for state in (RunState.START, RunState.COMPLETE)
    ]


def test_python_client_http_transport_with_gzip_and_api_key(
    engine: Engine, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        database_url=database_url,
        api_keys={WRITE_KEY: ["write"], READ_KEY: ["read"]},
    )
    caplog.set_level(logging.DEBUG)
    with running_server(create_app(settings, engine=engine)) as url:
        client = http_client(url, WRITE_KEY)
        for event in run_events():
            client.emit(event)
        client.emit(
            DatasetEvent(
                eventTime=datetime.now(UTC).isoformat(),
                producer=PRODUCER,
                dataset=StaticDataset(namespace="s3://raw", name="clicks/2024-05-01"),
            )
        )
        client.emit(
            JobEvent(
                eventTime=datetime.now(UTC).isoformat(),
                producer=PRODUCER,
                job=Job(namespace="spark", name="declared"),
                inputs=[InputDataset(namespace="s3://raw", name="clicks/2024-05-01")],
            )
        )
        client.close()

        with pytest.raises(Exception, match="403"):
            http_client(url, READ_KEY).transport.emit(run_events()[0])
        with pytest.raises(Exception, match="401"):
            http_client(url, None).transport.emit(run_events()[0])

    with engine.connect() as conn:
        kinds = sorted(conn.execute(text("SELECT kind FROM lineage_events")).scalars())
        state = conn.execute(text("SELECT state FROM runs")).scalar_one()
    assert kinds == ["dataset", "job", "run", "run"]
    assert state == "COMPLETE"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert WRITE_KEY not in logged
    assert READ_KEY not in logged
