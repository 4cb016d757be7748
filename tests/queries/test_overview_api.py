"""The overview, node search and node events reads, on the demo workflow plus a failed run."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from mllineage.client.demo import NODES, demo_events
from mllineage.collector.schemas.overview import NodeEvents, NodeSearch, Overview
from tests.collector.events import dataset, facet, run_event
from tests.queries.conftest import ingest

FAILED_RUN = "6f1c2a9e-0000-4000-8000-000000000001"


@pytest.fixture
def demo(client: TestClient) -> TestClient:
    """The demo workflow, and a feature job whose second run failed with a stack trace."""
    response = client.post("/api/v1/lineage/batch", json=demo_events())
    assert response.json()["summary"]["failed"] == 0, response.text
    source = dataset("postgres://crm-db.internal:5432", "public.customers")
    error = facet(message="column email_domain: division by zero", programmingLanguage="python")
    error["stackTrace"] = 'Traceback (most recent call last):\n  File "build.py", line 3'
    ingest(
        client,
        [
            run_event(
                "START", 0, run_id=FAILED_RUN, job=("etl", "refresh_profile"), inputs=[source]
            ),
            run_event(
                "FAIL",
                5,
                run_id=FAILED_RUN,
                job=("etl", "refresh_profile"),
                run_facets={"errorMessage": error},
            ),
        ],
    )
    return client


def test_overview_counts_kinds_and_lists_the_failed_run_with_its_message(demo: TestClient) -> None:
    response = demo.get("/api/v1/ml/overview", params={"failedLimit": 5})
    assert response.status_code == 200, response.text
    overview = TypeAdapter(Overview).validate_python(response.json())
    counts = {c.kind: c.count for c in overview.counts}
    assert counts == {"dataset": 7, "endpoint": 1, "feature_group": 3, "job": 9, "model": 1}
    [failed] = overview.failed_runs
    assert (failed.run_id, failed.job_node_id, failed.state) == (
        FAILED_RUN,
        "job:etl:refresh_profile",
        "FAIL",
    )
    assert failed.error_message == "column email_domain: division by zero"
    assert demo.get("/api/v1/ml/overview", params={"failedLimit": -1}).status_code == 400


def test_search_answers_every_kind_and_filters_by_kind(demo: TestClient) -> None:
    found = TypeAdapter(NodeSearch).validate_python(
        demo.get("/api/v1/ml/search", params={"q": "CHURN"}).json()
    )
    kinds = {hit.node_id: hit.kind for hit in found.rows}
    assert kinds[NODES["model"]] == "model"
    assert kinds[NODES["endpoint"]] == "endpoint"
    assert kinds["job:airflow://scheduler.internal:8080:train_churn_model"] == "job"
    assert found.total_count == len(found.rows)

    models = demo.get("/api/v1/ml/search", params={"q": "churn", "kinds": "model,endpoint"}).json()
    assert sorted(hit["kind"] for hit in models["rows"]) == ["endpoint", "model"]
    by_namespace = demo.get("/api/v1/ml/search", params={"q": "acme-feature-store"}).json()
    assert {hit["name"] for hit in by_namespace["rows"]} == {
        "customer_profile",
        "engagement",
        "support_signals",
    }
    paged = demo.get("/api/v1/ml/search", params={"q": "churn", "limit": 2, "offset": 1}).json()
    assert paged["total_count"] == found.total_count
    assert [hit["node_id"] for hit in paged["rows"]] == [hit.node_id for hit in found.rows[1:3]]

    bad = demo.get("/api/v1/ml/search", params={"q": "churn", "kinds": "table"})
    assert bad.status_code == 400
    assert [detail["loc"] for detail in bad.json()["details"]] == ["/query/kinds"]


def test_events_behind_a_job_a_dataset_a_version_and_a_run(demo: TestClient) -> None:
    def events(node_id: str) -> list[dict[str, Any]]:
        response = demo.get("/api/v1/ml/events", params={"nodeId": node_id})
        assert response.status_code == 200, response.text
        return TypeAdapter(NodeEvents).validate_python(response.json()).events

    job = events("job:etl:refresh_profile")
    assert [e["eventType"] for e in job] == ["FAIL", "START"]
    assert events(f"run:{FAILED_RUN}") == job

    model = events(NODES["model"])
    trainings = {e["run"]["runId"] for e in model}
    assert len(trainings) >= 2, "both training runs (v1 and v2) and the deployments"
    v1 = events(NODES["model_v1"])
    assert {e["job"]["name"] for e in v1} == {"train_churn_model"}
    assert len({e["run"]["runId"] for e in v1}) == 1
    assert {e["run"]["runId"] for e in v1} < trainings
    times = [str(e["eventTime"]) for e in model]
    assert times == sorted(times, reverse=True)

    assert demo.get("/api/v1/ml/events", params={"nodeId": "dataset:nowhere:x"}).status_code == 404
    assert demo.get("/api/v1/ml/events", params={"nodeId": "table:x"}).status_code == 400
