"""create_ml_lineage: the exact events of the whole chain, linked by consistent node ids."""

from __future__ import annotations

from typing import Any

import pytest
from openlineage.client import OpenLineageClient

from mllineage.emitter import (
    Emitter,
    Feature,
    JobSpec,
    LineageSummary,
    MLLineageTrainingRunFacet,
    ParentRef,
    create_ml_lineage,
    dataset,
    endpoint_dataset,
    feature_group_dataset,
    model_dataset,
)
from tests.emitter.conftest import FailingTransport, MemoryTransport
from tests.emitter.spec import SpecValidator

CUSTOMERS_RAW = dataset(
    "postgres://crm:5432",
    "crm.public.customers",
    schema={"id": "int", "email": "text", "signup": "date"},
)
CLAIMS_RAW = dataset("s3://raw", "claims/2024.csv", schema={"customer": "int", "amount": "float"})
CUSTOMERS = feature_group_dataset(
    "s3://features",
    "offline/customers",
    features=[Feature("customer_id", "int64"), Feature("tenure", "int64"), Feature("email", "str")],
    entities=["customer_id"],
    pii=["email"],
    column_lineage={
        "customer_id": [(CUSTOMERS_RAW, "id", "IDENTITY")],
        "tenure": [(CUSTOMERS_RAW, "signup", "TRANSFORMATION")],
        "email": [(CUSTOMERS_RAW, "email", "IDENTITY")],
    },
)
CLAIMS = feature_group_dataset(
    "s3://features",
    "offline/claims",
    features=[Feature("customer_id", "int64"), Feature("claim_total", "float64")],
    entities=["customer_id"],
    column_lineage={
        "customer_id": [(CLAIMS_RAW, "customer", "IDENTITY")],
        "claim_total": [(CLAIMS_RAW, "amount", "AGGREGATION")],
    },
)
TRAINING_SET = dataset(
    "s3://ml-data",
    "churn/train.parquet",
    schema={"customer_id": "int64", "tenure": "int64", "claim_total": "float64", "churned": "bool"},
)
MODEL = model_dataset("mlflow://mlflow:5000", "churn", version="4", framework="numpy")
ENDPOINT = endpoint_dataset("sagemaker://eu-west-1", "churn-prod", model_version="4")

N = {
    "customers_raw": "dataset:postgres://crm:5432:crm.public.customers",
    "claims_raw": "dataset:s3://raw:claims/2024.csv",
    "customers": "dataset:s3://features:offline/customers",
    "claims": "dataset:s3://features:offline/claims",
    "training_set": "dataset:s3://ml-data:churn/train.parquet",
    "model": "dataset:mlflow://mlflow:5000:churn",
    "endpoint": "dataset:sagemaker://eu-west-1:churn-prod",
}


def chain(emitter: Emitter, **overrides: Any) -> LineageSummary:
    arguments: dict[str, Any] = {
        "data_sources": [CUSTOMERS_RAW, CLAIMS_RAW],
        "feature_pipeline": JobSpec("churn.features", description="Builds churn features"),
        "feature_groups": [CUSTOMERS, CLAIMS],
        "feature_query": JobSpec("churn.training_set", sql="SELECT * FROM customers JOIN claims"),
        "training_dataset": TRAINING_SET,
        "training_job": "churn.train",
        "model": MODEL,
        "training": MLLineageTrainingRunFacet(hyperparameters={"lr": 0.1}, metrics={"auc": 0.9}),
        "endpoint": ENDPOINT,
    }
    arguments.update(overrides)
    return create_ml_lineage(emitter, **arguments)


def _node(ds: dict[str, Any]) -> str:
    return f"dataset:{ds['namespace']}:{ds['name']}"


def test_the_exact_event_set(
    emitter: Emitter, transport: MemoryTransport, spec: SpecValidator
) -> None:
    summary = chain(emitter)
    events = transport.events
    assert [(e["eventType"], e["job"]["name"]) for e in events] == [
        ("START", "churn.features"),
        ("COMPLETE", "churn.features"),
        ("START", "churn.training_set"),
        ("COMPLETE", "churn.training_set"),
        ("START", "churn.train"),
        ("COMPLETE", "churn.train"),
        ("START", "deploy_churn-prod"),
        ("COMPLETE", "deploy_churn-prod"),
    ]
    expected_edges = {
        "churn.features": ([N["customers_raw"], N["claims_raw"]], [N["customers"], N["claims"]]),
        "churn.training_set": ([N["customers"], N["claims"]], [N["training_set"]]),
        "churn.train": ([N["training_set"]], [N["model"]]),
        "deploy_churn-prod": ([N["model"]], [N["endpoint"]]),
    }
    job_types = {
        "churn.features": "FEATURE_PIPELINE",
        "churn.training_set": "FEATURE_QUERY",
        "churn.train": "TRAINING",
        "deploy_churn-prod": "DEPLOYMENT",
    }
    for event in events:
        name = event["job"]["name"]
        assert ([_node(d) for d in event["inputs"]], [_node(d) for d in event["outputs"]]) == (
            expected_edges[name]
        )
        assert event["job"]["facets"]["jobType"]["jobType"] == job_types[name]
        assert event["job"]["namespace"] == "ml-tests"
        assert "parent" not in event["run"]["facets"]
        spec.assert_valid(event)
    # One run per job; the summary reports exactly the emitted runs and edges.
    runs = {e["job"]["name"]: e["run"]["runId"] for e in events}
    assert len(set(runs.values())) == 4
    assert summary.run_ids == {
        "feature_pipeline": runs["churn.features"],
        "feature_query": runs["churn.training_set"],
        "training": runs["churn.train"],
        "deployment": runs["deploy_churn-prod"],
    }
    assert summary.emitted
    for stage in summary.stages:
        job = next(n for n, r in runs.items() if r == stage.run_id)
        assert stage.job == f"job:ml-tests:{job}"
        assert (list(stage.inputs), list(stage.outputs)) == expected_edges[job]
        assert stage.run_node_id == f"run:{stage.run_id}"
    assert summary.nodes == (
        N["customers_raw"],
        N["claims_raw"],
        "job:ml-tests:churn.features",
        N["customers"],
        N["claims"],
        "job:ml-tests:churn.training_set",
        N["training_set"],
        "job:ml-tests:churn.train",
        N["model"],
        "job:ml-tests:deploy_churn-prod",
        N["endpoint"],
    )
    assert len(summary.edges) == len(summary.to_rows()) == 4 + 3 + 2 + 2


def test_facets_travel_with_the_chain(emitter: Emitter, transport: MemoryTransport) -> None:
    chain(emitter)
    complete = {e["job"]["name"]: e for e in transport.events if e["eventType"] == "COMPLETE"}

    # Feature pipeline outputs carry feature <- source column lineage and the PII tag.
    customers = complete["churn.features"]["outputs"][0]["facets"]
    assert customers["columnLineage"]["fields"]["tenure"]["inputFields"] == [
        {
            "namespace": "postgres://crm:5432",
            "name": "crm.public.customers",
            "field": "signup",
            "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION"}],
        }
    ]
    assert customers["tags"]["tags"] == [
        {"key": "pii", "value": "true", "source": "USER", "field": "email"}
    ]
    assert "mllineage_featureGroup" in customers

    # Read by the feature query, the groups keep their facets but not their column lineage.
    query = complete["churn.training_set"]
    assert all("columnLineage" not in d["facets"] for d in query["inputs"])
    assert all("mllineage_featureGroup" in d["facets"] for d in query["inputs"])
    assert query["job"]["facets"]["sql"]["query"] == "SELECT * FROM customers JOIN claims"

    # Training-set columns are derived from the same-named features of every group.
    lineage = query["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert set(lineage) == {"customer_id", "tenure", "claim_total"}  # churned is the label
    assert [(f["name"], f["field"]) for f in lineage["customer_id"]["inputFields"]] == [
        ("offline/customers", "customer_id"),
        ("offline/claims", "customer_id"),
    ]
    assert lineage["claim_total"]["inputFields"][0]["transformations"] == [
        {"type": "DIRECT", "subtype": "IDENTITY"}
    ]

    training = complete["churn.train"]
    assert training["run"]["facets"]["mllineage_training"]["metrics"] == {"auc": 0.9}
    assert training["outputs"][0]["facets"]["datasetType"]["datasetType"] == "MODEL"
    assert "mllineage_training" not in complete["churn.features"]["run"]["facets"]
    deployment = complete["deploy_churn-prod"]
    assert deployment["outputs"][0]["facets"]["mllineage_endpoint"]["modelVersion"] == "4"
    assert complete["churn.features"]["job"]["facets"]["documentation"]["description"] == (
        "Builds churn features"
    )


def test_chain_nests_under_the_current_run(emitter: Emitter, transport: MemoryTransport) -> None:
    with emitter.run("churn.pipeline", job_type="PIPELINE") as pipeline:
        summary = chain(emitter)
    stage_events = [e for e in transport.events if e["run"]["runId"] in summary.run_ids.values()]
    assert len(stage_events) == 8
    for event in stage_events:
        parent = event["run"]["facets"]["parent"]
        assert parent["run"]["runId"] == parent["root"]["run"]["runId"] == pipeline.run_id
        assert parent["job"] == {"namespace": "ml-tests", "name": "churn.pipeline"}


def test_chain_with_an_explicit_parent(emitter: Emitter, transport: MemoryTransport) -> None:
    dag_task = ParentRef("airflow", "churn_dag.lineage", "01931885-2800-7be7-aa8d-aaa15c337267")
    summary = chain(emitter, endpoint=None, parent=dag_task)
    assert [s.stage for s in summary.stages] == ["feature_pipeline", "feature_query", "training"]
    assert len(transport.events) == 6
    assert {e["run"]["facets"]["parent"]["run"]["runId"] for e in transport.events} == {
        dag_task.run_id
    }


def test_explicit_column_lineage_is_kept(emitter: Emitter, transport: MemoryTransport) -> None:
    training_set = dataset(
        "s3://ml-data",
        "churn/train.parquet",
        schema={"tenure": "int64"},
        column_lineage={"tenure": [(CUSTOMERS, "tenure", "TRANSFORMATION")]},
    )
    chain(emitter, training_dataset=training_set, endpoint=None)
    query = next(e for e in transport.events if e["job"]["name"] == "churn.training_set")
    inputs = query["outputs"][0]["facets"]["columnLineage"]["fields"]["tenure"]["inputFields"]
    assert inputs[0]["transformations"] == [{"type": "DIRECT", "subtype": "TRANSFORMATION"}]


def test_emission_failures_are_reported_not_raised() -> None:
    emitter = Emitter(OpenLineageClient(transport=FailingTransport()), source_code=False)
    summary = emitter.create_ml_lineage(
        data_sources=[CUSTOMERS_RAW],
        feature_pipeline="f",
        feature_groups=[CUSTOMERS],
        feature_query="q",
        training_dataset=TRAINING_SET,
        training_job="t",
        model=MODEL,
    )
    assert not summary.emitted
    assert len(summary.stages) == 3


def test_invalid_chains_are_rejected(emitter: Emitter) -> None:
    with pytest.raises(ValueError, match="data source"):
        chain(emitter, data_sources=[])
    with pytest.raises(ValueError, match="endpoint"):
        chain(emitter, endpoint=None, deployment_job="deploy")
