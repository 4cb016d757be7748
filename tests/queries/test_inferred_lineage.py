"""Walks over edges inferred from orchestration: a model trained by a hook-reading Airflow task
is reached from the raw table, marked inferred with its evidence (``edges=all``), and only
declared edges are walked with ``edges=declared``. Both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from mllineage.collector.schemas.lineage import Answer, PagedAnswer
from mllineage.collector.schemas.ml import ImpactRow, QualityRow, SourceRow
from tests.collector import orchestration as dag
from tests.queries.ml_answers import ask, inferred_edges

CUSTOMERS = f"dataset:{dag.CUSTOMERS[0]}:{dag.CUSTOMERS[1]}"
FEATURES = f"dataset:{dag.FEATURES[0]}:{dag.FEATURES[1]}"
MODEL = f"dataset:{dag.MODEL[0]}:{dag.MODEL[1]}"
BUILD = "job:airflow:churn_training.build_features"
TRAIN = "job:airflow:churn_training.train"
FIT = "job:ml:churn.fit"
CHECK_RUN = "01936898-5bd1-7215-b04d-000000000006"


@pytest.fixture
def airflow(client: TestClient) -> TestClient:
    check = dag.sql_check_task(
        9,
        dag_id=dag.DAG_ID,
        task_id="check_features",
        dag_run_id=dag.DAG_RUN,
        run_id=CHECK_RUN,
        table=dag.FEATURES,
        row_count=5000,
        assertions=[dag.assertion("null_check", False, column="tenure")],
    )
    response = client.post("/api/v1/lineage/batch", json=[*dag.churn_dag(), check])
    assert response.status_code == 200, response.text
    return client


def test_impact_of_a_raw_table_reaches_the_model_through_the_inferred_edge(
    airflow: TestClient,
) -> None:
    body = ask(airflow, "impact", nodeId=CUSTOMERS, kinds="model")
    [row] = TypeAdapter(PagedAnswer[ImpactRow]).validate_python(body).rows
    assert (row.node_id, row.depth, row.inferred) == (MODEL, 4, True)
    assert row.path == [CUSTOMERS, BUILD, FEATURES, FIT, MODEL]
    assert inferred_edges(body) == {
        (FEATURES, FIT): (
            f"runs under airflow:churn_training.train (run {dag.TRAIN_RUN}), "
            "whose inputs it inherits"
        )
    }
    assert [(q.node_id, q.status) for q in row.quality] == [(FEATURES, "failed")]

    jobs = ask(airflow, "impact", nodeId=CUSTOMERS, kinds="job")
    assert inferred_edges(jobs)[(FEATURES, TRAIN)] == (
        f"airflow task dependency: build_features → train, DAG run {dag.DAG_RUN}"
    )
    declared = ask(airflow, "impact", nodeId=CUSTOMERS, kinds="model", edges="declared")
    assert declared["rows"] == []


def test_sources_of_the_model_cross_the_inferred_edge_upstream(airflow: TestClient) -> None:
    rows = (
        TypeAdapter(Answer[SourceRow]).validate_python(ask(airflow, "sources", nodeId=MODEL)).rows
    )
    assert [(r.node_id, r.depth, r.inferred) for r in rows] == [(CUSTOMERS, 4, True)]
    assert ask(airflow, "sources", nodeId=MODEL, edges="declared")["rows"] == []


def test_failing_checks_reach_the_model_through_the_inferred_edge(airflow: TestClient) -> None:
    body = ask(airflow, "governance/quality")
    [row] = TypeAdapter(PagedAnswer[QualityRow]).validate_python(body).rows
    assert (row.node_id, row.checked_node_id, row.inferred) == (MODEL, FEATURES, True)
    assert [(a.assertion, a.column) for a in row.failing_assertions] == [("null_check", "tenure")]
    assert row.checked_by_run_id == CHECK_RUN
    assert ask(airflow, "governance/quality", edges="declared")["rows"] == []
