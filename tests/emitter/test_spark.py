"""Spark helper: the parent of mllineage runs from spark.openlineage.* configuration."""

from __future__ import annotations

from typing import Any

import pytest

from mllineage.emitter import Emitter, ParentRef, spark_parent
from tests.emitter.conftest import MemoryTransport

TASK_RUN = "01931885-2800-7be7-aa8d-aaa15c337267"
DAG_RUN = "01931885-2800-799d-8041-88a263ffa0d8"
APP_RUN = "0195a1b2-0000-7000-8000-000000000001"
PROPERTIES = {
    "spark.app.name": "ChurnFeatures app",
    "spark.openlineage.namespace": "spark-prod",
    "spark.openlineage.parentJobNamespace": "airflow",
    "spark.openlineage.parentJobName": "churn_dag.features",
    "spark.openlineage.parentRunId": TASK_RUN,
    "spark.openlineage.rootParentJobNamespace": "airflow",
    "spark.openlineage.rootParentJobName": "churn_dag",
    "spark.openlineage.rootParentRunId": DAG_RUN,
}


class RuntimeConfig:
    """Like ``spark.conf``: ``get(key)`` of a missing key raises unless a default is passed."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def get(self, key: str, default: Any = ...) -> Any:
        if key in self._values:
            return self._values[key]
        if default is ...:
            raise KeyError(f"SparkNoSuchElementException: {key}")
        return default


class SparkSession:
    def __init__(self, values: dict[str, str]) -> None:
        self.conf = RuntimeConfig(values)
        self.sparkContext = object()


class SparkConf:
    """Like ``pyspark.SparkConf``: ``get(key, defaultValue=None)``."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def get(self, key: str, defaultValue: str | None = None) -> str | None:  # noqa: N803
        return self._values.get(key, defaultValue)


@pytest.mark.parametrize("wrap", [dict, RuntimeConfig, SparkSession, SparkConf])
def test_parent_is_the_launching_task_with_its_root(wrap: Any) -> None:
    parent = spark_parent(wrap(dict(PROPERTIES)))
    assert parent == ParentRef(
        "airflow", "churn_dag.features", TASK_RUN, root=ParentRef("airflow", "churn_dag", DAG_RUN)
    )


def test_no_parent_without_the_parent_properties() -> None:
    assert spark_parent({"spark.app.name": "x"}) is None
    partial = {k: v for k, v in PROPERTIES.items() if k != "spark.openlineage.parentRunId"}
    assert spark_parent(partial) is None


def test_parent_without_root_properties() -> None:
    launch = {k: v for k, v in PROPERTIES.items() if "rootParent" not in k}
    parent = spark_parent(RuntimeConfig(launch))
    assert parent is not None
    assert parent.root is None


def test_application_run_as_parent() -> None:
    parent = spark_parent(PROPERTIES, application_run_id=APP_RUN)
    assert parent == ParentRef(
        "spark-prod", "churn_features_app", APP_RUN, root=ParentRef("airflow", "churn_dag", DAG_RUN)
    )
    named = spark_parent(
        {**PROPERTIES, "spark.openlineage.appName": "churn_features"}, application_run_id=APP_RUN
    )
    assert named is not None
    assert named.name == "churn_features"
    alone = spark_parent({"spark.app.name": "adhoc"}, application_run_id=APP_RUN)
    assert alone == ParentRef(
        "default", "adhoc", APP_RUN, root=ParentRef("default", "adhoc", APP_RUN)
    )
    with pytest.raises(ValueError, match="application_job_name"):
        spark_parent({}, application_run_id=APP_RUN)


def test_invalid_run_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="UUID"):
        spark_parent({**PROPERTIES, "spark.openlineage.parentRunId": "task-1"})


def test_unsupported_sources_are_rejected() -> None:
    with pytest.raises(TypeError, match="SparkSession"):
        spark_parent(42)


def test_driver_run_joins_the_spark_hierarchy(emitter: Emitter, transport: MemoryTransport) -> None:
    with emitter.run("churn.features.ml", parent=spark_parent(SparkSession(dict(PROPERTIES)))):
        pass
    facet = transport.events[0]["run"]["facets"]["parent"]
    assert facet["run"]["runId"] == TASK_RUN
    assert facet["root"]["job"] == {"namespace": "airflow", "name": "churn_dag"}
