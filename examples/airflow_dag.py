"""Airflow DAG example: ML facets on Airflow task lineage (documentation; not run by the tests).

Needs ``apache-airflow`` with ``apache-airflow-providers-openlineage`` configured (for example
``AIRFLOW__OPENLINEAGE__TRANSPORT='{"type": "http", "url": "http://mllineage:5000"}'``); the
provider emits each task's START/COMPLETE/FAIL events and mllineage adds the ML content:

* ``train``: an operator you own returns :func:`operator_lineage` from
  ``get_openlineage_facets_on_complete``, so the task's own COMPLETE event carries the training
  set (digest, targets), the registered model (``mllineage_model``, ``datasetType=MODEL``) and
  the ``mllineage_training`` run facet.
* ``evaluate``: plain Python code emits its own mllineage run, nested under the Airflow task
  through the provider's ``lineage_parent_id`` / ``lineage_root_parent_id`` macros.
* ``features``: a Spark job that receives the same parent through ``spark.openlineage.*``
  properties (see ``examples/pyspark_features.py``).

Airflow 3 spells the first two imports ``from airflow.sdk import DAG, BaseOperator``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow import DAG
from airflow.models import BaseOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.standard.operators.python import PythonOperator

from mllineage.emitter import (
    Emitter,
    JobType,
    MLLineageTrainingRunFacet,
    airflow_parent,
    dataset,
    model_dataset,
    operator_lineage,
)

TRAINING_SET = dataset("s3://acme-ml", "churn/training_set.parquet")
PARENT = "{{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}"
ROOT = "{{ macros.OpenLineageProviderPlugin.lineage_root_parent_id(task_instance) }}"


class TrainChurnModelOperator(BaseOperator):
    """Trains and registers the churn model; reports its lineage to the OpenLineage provider."""

    def execute(self, context: Any) -> str:
        self.model_version, self.metrics = "8", {"holdout_auc": 0.84}  # train + register here
        return self.model_version

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return operator_lineage(
            inputs=[TRAINING_SET],
            outputs=[
                model_dataset(
                    "mlflow://mlflow.acme.internal:5000",
                    "churn_classifier",
                    version=self.model_version,
                    framework="numpy",
                    metrics=self.metrics,
                )
            ],
            training=MLLineageTrainingRunFacet(metrics=self.metrics, framework="numpy"),
        )


def evaluate(templates_dict: dict[str, str], **_: Any) -> None:
    """Any Python callable: its runs become children of the Airflow task run."""
    parent = airflow_parent(templates_dict["parent"], templates_dict["root"])
    emitter = Emitter(namespace="churn")  # OpenLineage config: openlineage.yml / OPENLINEAGE_*
    with emitter.run(
        "churn.evaluate", job_type=JobType.EVALUATION, parent=parent, inputs=[TRAINING_SET]
    ) as run:
        run.log_metrics(holdout_auc=0.84)


with DAG("churn", start_date=datetime(2024, 5, 1), schedule="@daily", catchup=False):
    features = SparkSubmitOperator(
        task_id="features",
        application="/opt/jobs/pyspark_features.py",
        conf={
            "spark.extraListeners": "io.openlineage.spark.agent.OpenLineageSparkListener",
            "spark.openlineage.namespace": "spark",
            "spark.openlineage.appName": "churn_features",
            "spark.openlineage.parentJobNamespace": (
                "{{ macros.OpenLineageProviderPlugin.lineage_job_namespace() }}"
            ),
            "spark.openlineage.parentJobName": (
                "{{ macros.OpenLineageProviderPlugin.lineage_job_name(task_instance) }}"
            ),
            "spark.openlineage.parentRunId": (
                "{{ macros.OpenLineageProviderPlugin.lineage_run_id(task_instance) }}"
            ),
            "spark.openlineage.rootParentJobNamespace": (
                "{{ macros.OpenLineageProviderPlugin.lineage_job_namespace() }}"
            ),
            "spark.openlineage.rootParentJobName": (
                "{{ macros.OpenLineageProviderPlugin.lineage_root_job_name(task_instance) }}"
            ),
            "spark.openlineage.rootParentRunId": (
                "{{ macros.OpenLineageProviderPlugin.lineage_root_run_id(task_instance) }}"
            ),
        },
    )
    train = TrainChurnModelOperator(task_id="train")
    check = PythonOperator(
        task_id="evaluate",
        python_callable=evaluate,
        templates_dict={"parent": PARENT, "root": ROOT},
    )
    features >> train >> check
