"""Inputs that used to give a 5xx (issue 12's eight defects), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import random
import string
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from mllineage.collector.app import create_app
from mllineage.collector.db.failures import Failure, classify, public_reason
from mllineage.collector.ingest.limits import MAX_IDENTIFIER_BYTES, MAX_NESTING, MAX_TAG_BYTES
from mllineage.collector.settings import Settings
from tests.collector.events import dataset, facet, run_event

LINEAGE, BATCH = "/api/v1/lineage", "/api/v1/lineage/batch"


def noise(size: int, seed: int) -> str:
    """Incompressible text: what makes PostgreSQL's index rows too large."""
    rng = random.Random(seed)
    return "".join(rng.choices(string.ascii_letters + string.digits, k=size))


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def locs(response: Any) -> list[str]:
    return [d["loc"] for d in response.json()["details"]]


def stored_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM lineage_events")).scalar_one())


def test_times_outside_the_datetime_range_are_located_4xx(client: TestClient) -> None:
    """Defect 1: 0001-01-01T00:00+01:00 is year 0 in UTC (OverflowError, was a text 500)."""
    for when in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        response = client.post(LINEAGE, json={**run_event("START", 0), "eventTime": when})
        assert response.status_code == 422, response.text
        assert locs(response) == ["/eventTime"]
    edge = client.post(LINEAGE, json={**run_event("START", 0), "eventTime": "0001-01-01T00:00Z"})
    assert edge.status_code == 201
    late = "9999-12-31T23:59:59-01:00"
    for path, name in (
        ("/api/v1/ml/sources?nodeId=dataset:ns:x&asOf=", "asOf"),
        ("/api/v1/lineage?nodeId=dataset:ns:x&asOf=", "asOf"),
        ("/api/v1/events/lineage?before=", "before"),
        ("/api/v1/events/lineage?after=", "after"),
    ):
        response = client.get(path + late.replace("+", "%2B"))
        assert response.status_code == 400, (path, response.text)
        assert any(loc.endswith(name) for loc in locs(response))


def test_deep_nesting_fails_only_that_event(client: TestClient, engine: Engine) -> None:
    """Defect 2 and 3: 255-1,024 levels passed parsing but broke re-serialisation (a 500 that
    took the whole batch down); one limit now applies, per event."""
    good = run_event("START", 0)
    deep = run_event("START", 0, run_facets={"custom": facet(x=nested(300))})
    just_fits = run_event("START", 0, run_facets={"custom": facet(x=nested(MAX_NESTING - 5))})
    single = client.post(LINEAGE, json=deep)
    assert single.status_code == 422
    assert locs(single)[0].startswith("/run/facets/custom/x/a/a")
    assert client.post(LINEAGE, json=just_fits).status_code == 201
    batch = client.post(BATCH, json=[good, deep])
    assert batch.status_code == 200
    body = batch.json()
    assert body["summary"]["successful"] == 1
    assert [f["index"] for f in body["failed_events"]] == [1]
    assert stored_events(engine) == 2


def test_identifier_sizes_give_the_same_answer_on_both_databases(
    client: TestClient, engine: Engine
) -> None:
    """Defect 4: a runId > 255 chars or a ~2,800-char random name was a 500 on PostgreSQL only."""
    long_run = run_event("START", 0, run_id="r" * 256)
    parent = {"run": {"runId": "p" * 300}, "job": {"namespace": "ns", "name": "parent"}}
    long_parent = run_event("START", 0, run_facets={"parent": facet(**parent)})
    long_ns = run_event("START", 0, inputs=[dataset(noise(2_800, 1), "table")])
    responses = [client.post(LINEAGE, json=e) for e in (long_run, long_parent, long_ns)]
    assert [r.status_code for r in responses] == [422, 422, 422]
    assert locs(responses[0]) == ["/run/runId"]
    assert locs(responses[1]) == ["/run/facets/parent/run/runId"]
    assert locs(responses[2]) == ["/inputs/0/namespace"]
    assert "indexed" in responses[2].json()["details"][0]["msg"]

    # Everything at its limit at once is stored on both databases (the budgets fit the index).
    big = MAX_IDENTIFIER_BYTES
    tags = {"tags": [{"key": noise(MAX_TAG_BYTES, 2), "value": noise(MAX_TAG_BYTES, 3),
                      "field": noise(big, 4)}]}  # fmt: skip
    symlinks = {"identifiers": [{"namespace": noise(big, 5), "name": noise(big, 6), "type": "T"}]}
    source = {"namespace": noise(big, 7), "name": noise(big, 8), "field": noise(big, 9)}
    lineage = {"fields": {noise(big, 10): {"inputFields": [source]}}}
    widest = dataset(
        noise(big, 11),
        noise(big, 12),
        tags=facet(**tags),
        symlinks=facet(**symlinks),
        columnLineage=facet(**lineage),
        version=facet(datasetVersion=noise(big, 13)),
    )
    event = run_event(
        "COMPLETE", 1, run_id="r" * 255, job=(noise(big, 14), noise(big, 15)), outputs=[widest]
    )
    response = client.post(LINEAGE, json=event)
    assert response.status_code == 201, response.text
    assert stored_events(engine) == 1


def test_nul_in_path_or_query_is_a_400(client: TestClient) -> None:
    """Defect 5: PostgreSQL refuses U+0000 in text comparisons (was a 500; SQLite said 404)."""
    for path in (
        "/api/v1/namespaces/%00",
        "/api/v1/jobs/runs/%00",
        "/api/v1/search?q=%00",
        "/api/v1/ml/governance/tagged?tag=%00",
        "/api/v1/namespaces/a%00b/datasets/x",
    ):
        response = client.get(path)
        assert response.status_code == 400, path
        assert response.json()["details"][0]["msg"] == "contains the character U+0000"


def test_integer_parameters_are_bounded(client: TestClient) -> None:
    """Defect 6: an offset >= 2**63 overflowed the database's bigint (500)."""
    for path in (
        "/api/v1/namespaces",
        "/api/v1/events/lineage",
        "/api/v1/namespaces/ns/jobs",
        "/api/v1/ml/impact?nodeId=dataset:ns:x",
        "/api/v1/ml/search?q=x",
    ):
        sep = "&" if "?" in path else "?"
        response = client.get(f"{path}{sep}offset={2**63}")
        assert response.status_code == 400, path
        assert locs(response) == ["/query/offset"]


def test_an_unhandled_error_is_a_logged_json_500_with_the_request_id(
    engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 7: whatever escapes every handler is JSON with a request id, logged with its stack."""
    app = create_app(settings, engine=engine)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    with TestClient(app) as client:
        response = client.get("/broken", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal server error",
        "details": [],
        "request_id": "req-42",
    }
    assert response.headers["x-request-id"] == "req-42"
    [record] = [r for r in caplog.records if r.name == "mllineage.collector.api.middleware"]
    assert record.exc_info is not None
    assert "a bug" in str(record.exc_info[1])


def test_one_classification_of_database_failures(engine: Engine) -> None:
    """Defect 8: a cancelled statement (57014, a statement timeout) is "unavailable" everywhere;
    on SQLite the equivalent is a database without its tables."""
    with engine.connect() as conn:
        try:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET statement_timeout = 1")
                conn.exec_driver_sql("SELECT pg_sleep(1)")
            else:
                conn.exec_driver_sql("SELECT * FROM no_such_table")
        except DBAPIError as exc:
            failure, said = classify(exc), public_reason(exc)
        else:
            pytest.fail("the statement should have failed")
    assert failure is Failure.UNAVAILABLE
    if engine.dialect.name == "postgresql":
        assert said == "the database cancelled the statement (timeout) (SQLSTATE 57014)"


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://nobody@127.0.0.1:9/db", "sqlite:////nonexistent-dir/x/db.sqlite"]
)
def test_ready_does_not_echo_driver_errors(url: str) -> None:
    """Defect 8: /ready showed the driver's message, which names the database host and port."""
    with TestClient(create_app(Settings(database_url=url, retry_after_seconds=3))) as client:
        ready = client.get("/ready")
        read = client.get("/api/v1/namespaces")
    assert ready.status_code == read.status_code == 503
    assert ready.headers["Retry-After"] == read.headers["Retry-After"] == "3"
    for response in (ready, read):
        assert "127.0.0.1" not in response.text
        assert "nonexistent-dir" not in response.text
    assert ready.json()["error"].startswith("the database cannot be reached")


def test_per_event_counts_are_capped_before_validation(engine: Engine, database_url: str) -> None:
    """One event with 100k inputs took 8.7 s and 196 MB; now counts are capped (configurable)."""
    settings = Settings(database_url=database_url, max_event_inputs=50, max_event_facets=5)
    with TestClient(create_app(settings, engine=engine)) as client:
        wide = run_event("START", 0, inputs=[dataset("ns", f"t{i}") for i in range(51)])
        response = client.post(LINEAGE, json=wide)
        assert response.status_code == 422
        assert response.json()["details"] == [
            {"loc": "/inputs", "msg": "51 inputs; at most 50 per event"}
        ]
        facets = {f"x_{i}": facet() for i in range(6)}
        many = client.post(LINEAGE, json=run_event("START", 0, run_facets=facets))
        assert many.status_code == 422
        assert locs(many) == ["/run/facets"]
        assert (
            client.post(LINEAGE, json=run_event("START", 0, inputs=wide["inputs"][:50])).status_code
            == 201
        )
