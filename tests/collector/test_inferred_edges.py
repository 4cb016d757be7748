"""Edges inferred from orchestration, on the provider's real event shapes, both databases."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from mllineage.collector.db.tables import datasets_t, inferred_io_t, jobs_t
from mllineage.collector.queries import inferred as read_inferred
from tests.collector import orchestration as dag
from tests.conftest import empty_database

#: Hand-worked from ``dag.churn_dag``: ``train`` declares nothing, so it reads what its upstream
#: ``build_features`` wrote; ``churn.fit`` runs inside ``train`` and declares no inputs, so it
#: reads what ``train`` reads. ``train`` writes nothing itself but the run nested in it does, so
#: it gets no inferred outputs; ``report`` and ``build_features`` declare both sides.
EXPECTED = {
    (
        dag.TRAIN_RUN,
        "in",
        dag.FEATURES[1],
        dag.FEATURES_RUN,
        "churn_training.train",
        "airflow_task_dependency",
    ),
    (dag.FIT_RUN, "in", dag.FEATURES[1], dag.TRAIN_RUN, "churn.fit", "parent"),
}


def inferred(engine: Engine) -> set[tuple[Any, ...]]:
    query = (
        select(
            inferred_io_t.c.run_uuid,
            inferred_io_t.c.direction,
            datasets_t.c.name,
            inferred_io_t.c.via_run_uuid,
            jobs_t.c.name,
            inferred_io_t.c.rule,
        )
        .join(datasets_t, datasets_t.c.id == inferred_io_t.c.dataset_id)
        .join(jobs_t, jobs_t.c.id == inferred_io_t.c.job_id)
    )
    with engine.connect() as conn:
        dag_runs = set(conn.execute(select(inferred_io_t.c.dag_run_uuid)).scalars())
        assert dag_runs <= {dag.DAG_RUN}
        return {tuple(row) for row in conn.execute(query)}


def test_a_hook_reading_task_and_the_run_inside_it_read_the_upstream_task_output(
    client: TestClient, engine: Engine
) -> None:
    events = dag.churn_dag()
    for event in events:  # one transaction per event: every step re-derives its dependants
        assert client.post("/api/v1/lineage", json=event).status_code == 201
    assert inferred(engine) == EXPECTED

    empty_database(engine)  # the same events the other way round, in one batch
    response = client.post("/api/v1/lineage/batch", json=events[::-1])
    assert response.status_code == 200, response.text
    assert inferred(engine) == EXPECTED


def test_declared_inputs_win_over_inferred_ones(client: TestClient, engine: Engine) -> None:
    events = dag.churn_dag()
    for event in events:
        assert client.post("/api/v1/lineage", json=event).status_code == 201
    late = dag.airflow_task_run(
        "COMPLETE",
        22,
        dag_id=dag.DAG_ID,
        task_id="train",
        dag_run_id=dag.DAG_RUN,
        run_id=dag.TRAIN_RUN,
        upstream=["build_features"],
        inputs=[{"namespace": dag.CUSTOMERS[0], "name": dag.CUSTOMERS[1], "facets": {}}],
    )  # the provider learnt the hook's reads (hook-level lineage): declared now
    assert client.post("/api/v1/lineage", json=late).status_code == 201
    assert inferred(engine) == {
        (dag.FIT_RUN, "in", dag.CUSTOMERS[1], dag.TRAIN_RUN, "churn.fit", "parent")
    }


def test_current_inferred_edges_say_what_they_were_inferred_from(
    client: TestClient, engine: Engine
) -> None:
    response = client.post("/api/v1/lineage/batch", json=dag.churn_dag())
    assert response.status_code == 200, response.text
    with engine.connect() as conn:
        features = conn.execute(
            select(datasets_t.c.id).where(datasets_t.c.name == dag.FEATURES[1])
        ).scalar_one()
        edges = read_inferred.current_of_datasets(conn, [features])
        said = sorted(read_inferred.evidence(conn, edges).values())
    assert said == [
        f"airflow task dependency: build_features → train, DAG run {dag.DAG_RUN}",
        f"runs under airflow:churn_training.train (run {dag.TRAIN_RUN}), whose inputs it inherits",
    ]
