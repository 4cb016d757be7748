"""Inferred edges in history: ``asOf`` and ``scope=versions`` walks cross the edges inferred from
orchestration, marked with their evidence, and ``edges=declared`` turns them off. Both databases.

Hand-worked timeline (minutes after 12:00), DAG ``churn_weekly`` = ``build_features >> train``,
events shaped as the Airflow provider sends them (``tests.collector.orchestration``):

- DAG run 1 (0-21): ``build_features`` (SQL operator) reads CUSTOMERS and writes FEATURES
  version ``f1`` (complete at 5); ``train`` (PythonOperator, reads through a hook) declares no
  inputs and writes MODEL version ``1`` (runs 6-20). Inferred: train run 1 reads FEATURES.
- DAG run 2 (100-121): the same, FEATURES ``f2``, MODEL ``2``.
- DAG run 3 (200-221, only where a test adds it): the provider learnt the hook's reads, so
  ``train`` declares FEATURES as its input and writes MODEL ``3``: no inferred edge for run 3.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from mllineage.collector.schemas.lineage import Answer, PagedAnswer
from mllineage.collector.schemas.ml import (
    ChainRow,
    ImpactRow,
    LineageRow,
    ModelRow,
    SourceRow,
    TaggedRow,
)
from tests.collector import orchestration as dag
from tests.collector.events import at, dataset, facet
from tests.queries.conftest import ingest
from tests.queries.ml_answers import ask, inferred_edges

DAG_ID = "churn_weekly"
CUSTOMERS = dag.CUSTOMERS
FEATURES = dag.FEATURES
MODEL = dag.MODEL
DAG_RUNS = {k: f"01936898-5bd1-70bf-9ca2-00000000010{k}" for k in (1, 2, 3)}
BUILD_RUNS = {k: f"01936898-5bd1-7215-b04d-00000000020{k}" for k in (1, 2, 3)}
TRAIN_RUNS = {k: f"01936898-5bd1-7215-b04d-00000000030{k}" for k in (1, 2, 3)}


def node(name: tuple[str, str], version: str | None = None) -> str:
    return f"dataset:{name[0]}:{name[1]}" + (f"#{version}" if version else "")


C, F, M = node(CUSTOMERS), node(FEATURES), node(MODEL)
BUILD = f"job:airflow:{DAG_ID}.build_features"
TRAIN = f"job:airflow:{DAG_ID}.train"

BEFORE_TRAINING = at(5.5)  # run 1: features built, train not started
AFTER_RUN_1 = at(30)
AFTER_RUN_2 = at(130)
AFTER_RUN_3 = at(230)


def evidence(k: int) -> str:
    return f"airflow task dependency: build_features → train, DAG run {DAG_RUNS[k]}"


def dag_run(k: int, *, train_declares: bool = False) -> list[dict[str, Any]]:
    """DAG run ``k`` (see the module docstring), starting at minute ``100 * (k - 1)``."""
    base = 100 * (k - 1)
    task: dict[str, Any] = {"dag_id": DAG_ID, "dag_run_id": DAG_RUNS[k]}
    build: dict[str, Any] = {
        **task,
        "task_id": "build_features",
        "run_id": BUILD_RUNS[k],
        "downstream": ["train"],
        "operator": "SQLExecuteQueryOperator",
    }
    train: dict[str, Any] = {**task, "task_id": "train", "run_id": TRAIN_RUNS[k]}
    train["upstream"] = ["build_features"]
    features = dataset(*FEATURES, version=facet(datasetVersion=f"f{k}"))
    model = dataset(
        *MODEL, datasetType=facet(datasetType="MODEL"), version=facet(datasetVersion=str(k))
    )
    read = [dataset(*FEATURES)] if train_declares else None
    return [
        dag.airflow_dag_run("START", base, dag_id=DAG_ID, run_id=DAG_RUNS[k]),
        dag.airflow_task_run("START", base + 1, **build),
        dag.airflow_task_run(
            "COMPLETE",
            base + 5,
            inputs=[dataset(*CUSTOMERS, tags=pii())],
            outputs=[features],
            **build,
        ),
        dag.airflow_task_run("START", base + 6, inputs=read, **train),
        dag.airflow_task_run("COMPLETE", base + 20, inputs=read, outputs=[model], **train),
        dag.airflow_dag_run("COMPLETE", base + 21, dag_id=DAG_ID, run_id=DAG_RUNS[k]),
    ]


def pii() -> dict[str, Any]:
    return facet(tags=[{"key": "pii", "value": "true", "source": "manual"}])


@pytest.fixture
def weekly(client: TestClient) -> TestClient:
    """DAG runs 1 and 2 ingested."""
    ingest(client, [*dag_run(1), *dag_run(2)])
    return client


def impact(client: TestClient, **params: str) -> tuple[list[ImpactRow], dict[str, Any]]:
    body = ask(client, "impact", nodeId=C, **params)
    return TypeAdapter(PagedAnswer[ImpactRow]).validate_python(body).rows, body


def test_impact_as_of_after_the_dag_run_reaches_the_model_through_the_inferred_edge(
    weekly: TestClient,
) -> None:
    rows, body = impact(weekly, asOf=AFTER_RUN_1, kinds="model,job")
    assert [(r.node_id, r.depth, r.inferred) for r in rows] == [
        (M, 4, True),
        (BUILD, 1, False),
        (TRAIN, 3, True),
    ]
    assert rows[0].path == [C, BUILD, F, TRAIN, M]
    assert inferred_edges(body) == {(F, TRAIN): evidence(1)}
    assert rows[2].last_run_id == TRAIN_RUNS[1]  # the run current then

    # As of after run 2, the hop rests on run 2's DAG run: the run current then.
    _, later = impact(weekly, asOf=AFTER_RUN_2, kinds="model")
    assert inferred_edges(later) == {(F, TRAIN): evidence(2)}


def test_impact_as_of_before_the_training_run_stops_at_the_features(weekly: TestClient) -> None:
    rows, body = impact(weekly, asOf=BEFORE_TRAINING)
    assert [(r.node_id, r.inferred) for r in rows] == [(F, False), (BUILD, False)]
    assert inferred_edges(body) == {}


def test_edges_declared_stops_short_as_of_and_over_versions(weekly: TestClient) -> None:
    rows, body = impact(weekly, asOf=AFTER_RUN_1, edges="declared")
    assert [r.node_id for r in rows] == [F, BUILD]
    assert inferred_edges(body) == {}
    rows, _ = impact(weekly, scope="versions", kinds="model", edges="declared")
    assert rows == []


def test_impact_over_versions_reaches_every_model_version_marked_inferred(
    weekly: TestClient,
) -> None:
    rows, body = impact(weekly, scope="versions", kinds="model")
    assert [(r.node_id, r.depth, r.inferred) for r in rows] == [
        (node(MODEL, "1"), 4, True),
        (node(MODEL, "2"), 4, True),
    ]
    train1, train2 = (f"run:{TRAIN_RUNS[k]}" for k in (1, 2))
    assert rows[0].path == [
        C,
        f"run:{BUILD_RUNS[1]}",
        node(FEATURES, "f1"),
        train1,
        rows[0].node_id,
    ]
    assert inferred_edges(body) == {
        (node(FEATURES, "f1"), train1): evidence(1),
        (node(FEATURES, "f2"), train2): evidence(2),
    }


def test_models_of_the_raw_table_as_of_and_over_versions(weekly: TestClient) -> None:
    models = TypeAdapter(Answer[ModelRow])
    rows = models.validate_python(ask(weekly, "models", nodeId=C, scope="versions")).rows
    assert [(r.node_id, r.current_version, r.run_id, r.inferred) for r in rows] == [
        (node(MODEL, "1"), "1", TRAIN_RUNS[1], True),
        (node(MODEL, "2"), "2", TRAIN_RUNS[2], True),
    ]
    assert [r.until for r in rows] == [datetime.fromisoformat(at(120)), None]  # v2 replaced v1
    rows = models.validate_python(ask(weekly, "models", nodeId=C, asOf=AFTER_RUN_1)).rows
    assert [(r.node_id, r.current_version, r.versions, r.inferred) for r in rows] == [
        (M, "1", ["1"], True)
    ]
    assert ask(weekly, "models", nodeId=C, asOf=AFTER_RUN_1, edges="declared")["rows"] == []


def test_tagged_over_versions_and_as_of_crosses_the_inferred_edge(weekly: TestClient) -> None:
    body = ask(weekly, "governance/tagged", tag="pii", scope="versions")
    rows = TypeAdapter(PagedAnswer[TaggedRow]).validate_python(body).rows
    assert [(r.node_id, r.tagged_node_id, r.inferred) for r in rows] == [
        (node(MODEL, "1"), C, True),
        (node(MODEL, "2"), C, True),
    ]
    body = ask(weekly, "governance/tagged", tag="pii", asOf=AFTER_RUN_1)
    rows = TypeAdapter(PagedAnswer[TaggedRow]).validate_python(body).rows
    assert [(r.node_id, r.inferred) for r in rows] == [(M, True)]
    assert ask(weekly, "governance/tagged", tag="pii", asOf=BEFORE_TRAINING)["rows"] == []


def test_model_lineage_of_a_version_crosses_the_inferred_read_upstream(
    weekly: TestClient,
) -> None:
    body = ask(weekly, "model-lineage", nodeId=M, version="1")
    rows = TypeAdapter(Answer[ChainRow]).validate_python(body).rows
    train1, build1 = f"run:{TRAIN_RUNS[1]}", f"run:{BUILD_RUNS[1]}"
    assert [(r.node_id, r.direction, r.depth, r.inferred) for r in rows] == [
        (node(MODEL, "1"), "self", 0, False),
        (train1, "upstream", 1, False),
        (node(FEATURES, "f1"), "upstream", 2, True),
        (build1, "upstream", 3, True),
        (C, "upstream", 4, True),
    ]
    assert rows[-1].path == [C, build1, node(FEATURES, "f1"), train1, node(MODEL, "1")]
    assert inferred_edges(body) == {(node(FEATURES, "f1"), train1): evidence(1)}

    declared = ask(weekly, "model-lineage", nodeId=M, version="1", edges="declared")
    assert [r["node_id"] for r in declared["rows"]] == [node(MODEL, "1"), train1]


def test_model_lineage_of_a_feature_version_crosses_the_inferred_read_downstream(
    weekly: TestClient,
) -> None:
    body = ask(weekly, "model-lineage", nodeId=F, version="f2")
    rows = TypeAdapter(Answer[ChainRow]).validate_python(body).rows
    downstream = [(r.node_id, r.depth, r.inferred) for r in rows if r.direction == "downstream"]
    assert downstream == [(f"run:{TRAIN_RUNS[2]}", 1, True), (node(MODEL, "2"), 2, True)]


def test_lineage_and_sources_of_the_model_as_of_cross_the_inferred_edge_upstream(
    weekly: TestClient,
) -> None:
    body = ask(weekly, "lineage", nodeId=M, direction="upstream", asOf=AFTER_RUN_1)
    rows = TypeAdapter(Answer[LineageRow]).validate_python(body).rows
    assert [(r.node_id, r.depth, r.inferred) for r in rows] == [
        (TRAIN, 1, False),
        (F, 2, True),
        (BUILD, 3, True),
        (C, 4, True),
    ]
    assert rows[0].run_id == TRAIN_RUNS[1]
    assert inferred_edges(body) == {(F, TRAIN): evidence(1)}

    body = ask(weekly, "sources", nodeId=M, asOf=AFTER_RUN_1)
    sources = TypeAdapter(Answer[SourceRow]).validate_python(body).rows
    assert [(r.node_id, r.depth, r.inferred) for r in sources] == [(C, 4, True)]
    assert ask(weekly, "sources", nodeId=M, asOf=AFTER_RUN_1, edges="declared")["rows"] == []


def test_once_the_task_declares_its_inputs_only_older_times_infer(weekly: TestClient) -> None:
    ingest(weekly, dag_run(3, train_declares=True))

    rows, body = impact(weekly, asOf=AFTER_RUN_3, kinds="model")
    assert [(r.node_id, r.inferred) for r in rows] == [(M, False)]
    assert inferred_edges(body) == {}
    rows, body = impact(weekly, asOf=AFTER_RUN_2, kinds="model")
    assert [(r.node_id, r.inferred) for r in rows] == [(M, True)]
    assert inferred_edges(body) == {(F, TRAIN): evidence(2)}
    rows, _ = impact(weekly, kinds="model")  # today = as of after run 3
    assert [(r.node_id, r.inferred) for r in rows] == [(M, False)]

    body = ask(weekly, "lineage", nodeId=M, direction="upstream", asOf=AFTER_RUN_3)
    assert inferred_edges(body) == {}
    assert [r["inferred"] for r in body["rows"]] == [False] * 4

    rows, _ = impact(weekly, scope="versions", kinds="model")
    assert [(r.node_id, r.inferred) for r in rows] == [
        (node(MODEL, "1"), True),
        (node(MODEL, "2"), True),
        (node(MODEL, "3"), False),
    ]
