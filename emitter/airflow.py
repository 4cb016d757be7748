"""Airflow: ML facets on a task's lineage, through the Airflow OpenLineage provider.

The provider (``apache-airflow-providers-openlineage``) emits the task's START/COMPLETE/FAIL
events itself; an operator contributes lineage by returning an ``OperatorLineage`` from its
``get_openlineage_facets_on_start`` / ``..._on_complete`` / ``..._on_failure`` methods (or a
custom extractor). :func:`operator_lineage` builds that object from mllineage datasets and
facets, so the task's events carry feature groups, models and endpoints and the
``mllineage_training`` run facet::

    class TrainChurnModelOperator(BaseOperator):
        def execute(self, context):
            self.model_version = train_and_register()

        def get_openlineage_facets_on_complete(self, task_instance):
            return operator_lineage(
                inputs=[training_set],
                outputs=[model_dataset("mlflow://mlflow:5000", "churn", version=self.model_version)],
                training=MLLineageTrainingRunFacet(metrics=self.metrics),
            )

Airflow is imported lazily: without it (tests, or code that only prepares lineage) the result
is an :class:`OperatorLineageData` with the same four attributes.

Inside a task that runs its own code (a ``PythonOperator`` callable, a ``KubernetesPodOperator``
container), pass the provider's macros down and nest mllineage runs under the task with
:func:`airflow_parent`::

    PythonOperator(
        task_id="train",
        python_callable=train,
        templates_dict={
            "parent": "{{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}",
            "root": "{{ macros.OpenLineageProviderPlugin.lineage_root_parent_id(task_instance) }}",
        },
    )

    def train(templates_dict, **_):
        parent = airflow_parent(templates_dict["parent"], templates_dict["root"])
        with Emitter().run("churn.train", job_type="TRAINING", parent=parent) as run:
            ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, cast

import attr
from openlineage.client.event_v2 import Dataset, InputDataset, OutputDataset
from openlineage.client.facet_v2 import JobFacet, RunFacet

from mllineage.emitter._datasets import as_input, as_output
from mllineage.emitter._run import ParentRef
from mllineage.emitter.training import FACET_KEY as TRAINING_KEY
from mllineage.emitter.training import MLLineageTrainingRunFacet

__all__ = ["OperatorLineageData", "OperatorLineageLike", "airflow_parent", "operator_lineage"]


class OperatorLineageLike(Protocol):
    """What the Airflow provider reads from an operator's lineage."""

    inputs: list[InputDataset]
    outputs: list[OutputDataset]
    run_facets: dict[str, RunFacet]
    job_facets: dict[str, JobFacet]


@attr.define
class OperatorLineageData:
    """Airflow's ``OperatorLineage`` shape, used when Airflow is not installed."""

    inputs: list[InputDataset] = attr.Factory(list)
    outputs: list[OutputDataset] = attr.Factory(list)
    run_facets: dict[str, RunFacet] = attr.Factory(dict)
    job_facets: dict[str, JobFacet] = attr.Factory(dict)


def operator_lineage(
    *,
    inputs: Iterable[Dataset] = (),
    outputs: Iterable[Dataset] = (),
    training: MLLineageTrainingRunFacet | None = None,
    run_facets: Mapping[str, RunFacet] | None = None,
    job_facets: Mapping[str, JobFacet] | None = None,
) -> OperatorLineageLike:
    """An ``OperatorLineage`` (Airflow's class when importable) carrying mllineage datasets.

    Inputs and outputs keep all their facets (an input drops ``columnLineage``, which only an
    output can assert); ``training`` becomes the ``mllineage_training`` run facet. No ``jobType``
    facet is added: the provider sets the task's own (``integration=AIRFLOW``).
    """
    runs = dict(run_facets or {})
    if training is not None:
        runs[TRAINING_KEY] = training
    ins = [as_input(ds) for ds in inputs]
    outs = [as_output(ds) for ds in outputs]
    jobs = dict(job_facets or {})
    try:
        from airflow.providers.openlineage.extractors import (  # type: ignore[import-not-found,unused-ignore]
            OperatorLineage,
        )
    except ImportError:
        return OperatorLineageData(inputs=ins, outputs=outs, run_facets=runs, job_facets=jobs)
    return cast(
        OperatorLineageLike,
        OperatorLineage(inputs=ins, outputs=outs, run_facets=runs, job_facets=jobs),
    )


def airflow_parent(parent_id: str, root_parent_id: str | None = None) -> ParentRef:
    """The Airflow task run, from the provider's ``lineage_parent_id`` macro.

    Both macros render ``<namespace>/<job name>/<run id>``: ``parent_id`` the task
    (``lineage_parent_id``), ``root_parent_id`` the DAG run (``lineage_root_parent_id``).
    The namespace may itself contain ``/``; job names (``dag_id.task_id``) and run ids don't.
    """
    root = _parse_parent_id(root_parent_id) if root_parent_id else None
    return _parse_parent_id(parent_id, root=root)


def _parse_parent_id(value: str, root: ParentRef | None = None) -> ParentRef:
    parts = value.rsplit("/", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"expected '<namespace>/<job name>/<run id>', got {value!r}")
    namespace, name, run_id = parts
    return ParentRef(namespace, name, run_id, root=root)
