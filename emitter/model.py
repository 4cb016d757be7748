"""The ``mllineage_model`` facet family: trained model versions as datasets.

A model version is the output of a training run and the input of a deployment run::

    model = model_dataset(
        "mlflow://mlflow.internal:5000", "churn_classifier",
        version="7", framework="numpy", task="binary_classification",
        metrics={"auc": 0.91}, features=["tenure_months", "monthly_charges"],
        artifact_uri="s3://ml-models/churn_classifier/7/model.npz",
    )

Besides ``mllineage_model`` the dataset carries the standard ``datasetType`` facet
(``MODEL``) and the standard ``version`` facet with the model version, so consumers that know
nothing about mllineage still see a versioned model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Unpack

import attr
from openlineage.client.event_v2 import Dataset
from openlineage.client.facet_v2 import dataset_type_dataset

from mllineage.emitter._datasets import DatasetOptions, dataset
from mllineage.emitter._producer import (
    PRODUCER,
    MLLineageDatasetFacetBase,
    finite_metrics,
    scalar_params,
    schema_url,
)

__all__ = ["MLLineageModelDatasetFacet", "model_dataset"]

FACET_KEY = "mllineage_model"


@attr.define
class MLLineageModelDatasetFacet(MLLineageDatasetFacetBase):
    """A dataset that is a trained model version (facet key ``mllineage_model``).

    ``hyperparameters`` values are kept as JSON scalars and ``metrics`` as finite floats
    (non-finite metrics are dropped with a warning), so the facet always serialises to JSON.
    """

    name: str
    version: str = attr.field(converter=str)
    framework: str | None = attr.field(default=None)
    frameworkVersion: str | None = attr.field(default=None)
    task: str | None = attr.field(default=None)
    hyperparameters: dict[str, str | int | float | bool] | None = attr.field(
        default=None, converter=scalar_params
    )
    metrics: dict[str, float] | None = attr.field(default=None, converter=finite_metrics)
    artifactUri: str | None = attr.field(default=None)
    features: list[str] | None = attr.field(default=None)
    registryUri: str | None = attr.field(default=None)
    stage: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return schema_url("MLLineageModelDatasetFacet")


def model_dataset(
    namespace: str,
    name: str,
    *,
    version: str | int,
    model_name: str | None = None,
    framework: str | None = None,
    framework_version: str | None = None,
    task: str | None = None,
    hyperparameters: Mapping[str, object] | None = None,
    metrics: Mapping[str, object] | None = None,
    artifact_uri: str | None = None,
    features: Sequence[str] | None = None,
    registry_uri: str | None = None,
    stage: str | None = None,
    **options: Unpack[DatasetOptions],
) -> Dataset:
    """A model-version dataset: ``mllineage_model`` + ``datasetType`` (``MODEL``) + ``version``.

    ``model_name`` is the registered model name (default: ``name``). The dataset identity
    (namespace, name) names the model, not the version: every version of a model is a version
    of the same dataset, told apart by the ``version`` facet.
    """
    options.setdefault("dataset_version", str(version))
    ds = dataset(namespace, name, **options)
    facets = dict(ds.facets or {})
    facets["datasetType"] = dataset_type_dataset.DatasetTypeDatasetFacet(
        datasetType="MODEL", producer=PRODUCER
    )
    facets[FACET_KEY] = MLLineageModelDatasetFacet(
        name=model_name or name,
        version=str(version),
        framework=framework,
        frameworkVersion=framework_version,
        task=task,
        hyperparameters=hyperparameters,
        metrics=metrics,
        artifactUri=artifact_uri,
        features=list(features) if features is not None else None,
        registryUri=registry_uri,
        stage=stage,
    )
    return Dataset(namespace=ds.namespace, name=ds.name, facets=facets)
