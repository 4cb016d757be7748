"""Airflow helper: OperatorLineage from mllineage datasets, with and without Airflow installed."""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any

import attr
import pytest
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import job_type_job
from openlineage.client.serde import Serde

from mllineage.emitter import (
    Emitter,
    MLLineageTrainingRunFacet,
    OperatorLineageData,
    airflow_parent,
    dataset,
    model_dataset,
    operator_lineage,
)
from tests.emitter.conftest import MemoryTransport
from tests.emitter.spec import SpecValidator

TRAIN = dataset(
    "s3://ml-data",
    "churn/train.parquet",
    schema={"tenure": "int64"},
    column_lineage={"tenure": [(dataset("s3://f", "customers"), "tenure")]},
)
MODEL = model_dataset("mlflow://mlflow:5000", "churn", version="5")
TRAINING = MLLineageTrainingRunFacet(metrics={"auc": 0.93})


def test_airflow_is_not_installed() -> None:
    assert importlib.util.find_spec("airflow") is None


def test_without_airflow_returns_the_same_shape() -> None:
    lineage = operator_lineage(inputs=[TRAIN], outputs=[MODEL], training=TRAINING)
    assert isinstance(lineage, OperatorLineageData)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [
        ("s3://ml-data", "churn/train.parquet")
    ]
    assert "columnLineage" not in (lineage.inputs[0].facets or {})
    assert lineage.outputs[0].facets is not None
    assert set(lineage.outputs[0].facets) == {"datasetType", "mllineage_model", "version"}
    assert lineage.run_facets == {"mllineage_training": TRAINING}
    assert lineage.job_facets == {}


def test_event_built_like_the_provider_validates(spec: SpecValidator) -> None:
    """The provider's adapter puts OperatorLineage fields straight into its RunEvent."""
    lineage = operator_lineage(inputs=[TRAIN], outputs=[MODEL], training=TRAINING)
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2024-05-01T03:10:00+00:00",
        run=Run(runId="01931885-2800-7be7-aa8d-aaa15c337267", facets=lineage.run_facets),
        job=Job(
            namespace="airflow",
            name="churn_dag.train",
            facets={
                **lineage.job_facets,
                "jobType": job_type_job.JobTypeJobFacet(
                    processingType="BATCH", integration="AIRFLOW", jobType="TASK"
                ),
            },
        ),
        inputs=lineage.inputs,
        outputs=lineage.outputs,
        producer="https://github.com/apache/airflow/tree/providers-openlineage/2.3.0",
    )
    document = Serde.to_dict(event)
    spec.assert_valid(document)
    assert document["run"]["facets"]["mllineage_training"]["metrics"] == {"auc": 0.93}


def test_with_airflow_returns_airflows_class(monkeypatch: pytest.MonkeyPatch) -> None:
    @attr.define
    class OperatorLineage:  # the provider's definition, reduced to its fields
        inputs: list[Any] = attr.Factory(list)
        outputs: list[Any] = attr.Factory(list)
        run_facets: dict[str, Any] = attr.Factory(dict)
        job_facets: dict[str, Any] = attr.Factory(dict)

    module = types.ModuleType("airflow.providers.openlineage.extractors")
    module.OperatorLineage = OperatorLineage  # type: ignore[attr-defined]
    for name in ("airflow", "airflow.providers", "airflow.providers.openlineage"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, module.__name__, module)

    lineage = operator_lineage(outputs=[MODEL], job_facets={"custom": TRAINING})  # type: ignore[dict-item]
    assert type(lineage) is OperatorLineage
    assert [d.name for d in lineage.outputs] == ["churn"]
    assert lineage.inputs == []
    assert lineage.run_facets == {}
    assert lineage.job_facets == {"custom": TRAINING}


def test_airflow_parent_from_macros(emitter: Emitter, transport: MemoryTransport) -> None:
    parent = airflow_parent(
        "default/churn_dag.train/01931885-2800-7be7-aa8d-aaa15c337267",
        "default/churn_dag/01931885-2800-799d-8041-88a263ffa0d8",
    )
    assert (parent.namespace, parent.name, parent.run_id) == (
        "default",
        "churn_dag.train",
        "01931885-2800-7be7-aa8d-aaa15c337267",
    )
    assert parent.root is not None
    assert (parent.root.name, parent.root.root) == ("churn_dag", None)
    with emitter.run("churn.train", parent=parent):
        pass
    facet = transport.events[0]["run"]["facets"]["parent"]
    assert facet["job"] == {"namespace": "default", "name": "churn_dag.train"}
    assert facet["root"]["run"]["runId"] == "01931885-2800-799d-8041-88a263ffa0d8"


def test_airflow_parent_namespace_may_contain_slashes() -> None:
    parent = airflow_parent("airflow://prod/eu/dag.task/01931885-2800-7be7-aa8d-aaa15c337267")
    assert (parent.namespace, parent.name, parent.root) == ("airflow://prod/eu", "dag.task", None)


@pytest.mark.parametrize(
    "value", ["dag.task/01931885-2800-7be7-aa8d-aaa15c337267", "ns//01931885", "ns/dag.task/run-1"]
)
def test_airflow_parent_rejects_malformed_ids(value: str) -> None:
    with pytest.raises(ValueError, match=r"namespace|UUID"):
        airflow_parent(value)
