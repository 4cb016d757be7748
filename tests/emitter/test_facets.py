"""Every mllineage facet, fully populated and minimal, serialises to a document its schema accepts."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from openlineage.client.facet_v2 import BaseFacet
from openlineage.client.serde import Serde

from mllineage.emitter import (
    PRODUCER,
    Feature,
    MLLineageDatasetDatasetFacet,
    MLLineageEndpointDatasetFacet,
    MLLineageFeatureGroupDatasetFacet,
    MLLineageModelDatasetFacet,
    MLLineageTrainingRunFacet,
)
from mllineage.schemas import facet_keys, load_schema, schema_url_for_facet_key
from tests.emitter.spec import SpecValidator

FULL: dict[str, BaseFacet] = {
    "mllineage_featureGroup": MLLineageFeatureGroupDatasetFacet(
        name="customers",
        version="3",
        featureStore="sagemaker-feature-store",
        entities=["customer_id"],
        eventTimeFeature="event_time",
        features=[
            Feature("customer_id", "String", "Customer key"),
            Feature("event_time", "Fractional"),
            "tenure_months",
        ],
        onlineStore="dynamodb",
        offlineStore="s3://ml-features/offline/customers",
        ttlSeconds=86400,
        description="Customer profile features",
    ),
    "mllineage_model": MLLineageModelDatasetFacet(
        name="churn_classifier",
        version=7,
        framework="numpy",
        frameworkVersion=np.__version__,
        task="binary_classification",
        hyperparameters={"learning_rate": np.float64(0.1), "epochs": np.int64(200), "l2": True},
        metrics={"auc": np.float32(0.5), "accuracy": 0.87},
        artifactUri="s3://ml-models/churn_classifier/7/model.npz",
        features=["tenure_months", "monthly_charges"],
        registryUri="http://mlflow.internal:5000",
        stage="Production",
    ),
    "mllineage_endpoint": MLLineageEndpointDatasetFacet(
        name="churn-prod",
        platform="sagemaker",
        url="https://ml.internal/churn-prod/invocations",
        modelVersion="7",
        status="InService",
        trafficPercent=100,
        instanceType="ml.m5.large",
        deployedAt=datetime(2024, 5, 2, 10, 15, tzinfo=UTC),
    ),
    "mllineage_dataset": MLLineageDatasetDatasetFacet(
        digest="ab" * 32,
        digestAlgorithm="sha256-columnar-v1",
        source="s3://ml-data/churn/train.parquet",
        sourceType="parquet",
        targets="churned",
        predictions=["p0", "p1"],
        context="training",
    ),
    "mllineage_training": MLLineageTrainingRunFacet(
        hyperparameters={"learning_rate": 0.1, "optimizer": "sgd"},
        metrics={"train_loss": 0.31, "val_auc": 0.91},
        framework="numpy",
        trackingUri="http://mlflow.internal:5000",
        experimentId="12",
        externalRunId="a1b2c3",
    ),
}
MINIMAL: dict[str, BaseFacet] = {
    "mllineage_featureGroup": MLLineageFeatureGroupDatasetFacet(name="claims"),
    "mllineage_model": MLLineageModelDatasetFacet(name="churn_classifier", version="8"),
    "mllineage_endpoint": MLLineageEndpointDatasetFacet(name="churn-canary"),
    "mllineage_dataset": MLLineageDatasetDatasetFacet(),
    "mllineage_training": MLLineageTrainingRunFacet(),
}
POSITION = {key: "run" if key == "mllineage_training" else "dataset" for key in FULL}


def document(facet: BaseFacet) -> dict[str, Any]:
    """The facet as it goes on the wire (strict JSON)."""
    document: dict[str, Any] = json.loads(json.dumps(Serde.to_dict(facet), allow_nan=False))
    return document


def test_every_facet_key_is_covered() -> None:
    assert set(FULL) == set(MINIMAL) == set(facet_keys())


@pytest.mark.parametrize("variant", ["full", "minimal"])
@pytest.mark.parametrize("key", sorted(FULL))
def test_facet_validates_against_its_schema(spec: SpecValidator, key: str, variant: str) -> None:
    facet = (FULL if variant == "full" else MINIMAL)[key]
    doc = document(facet)
    schema = load_schema(doc["_schemaURL"])
    spec.validator(schema).validate({key: doc})
    assert spec.facet_errors(POSITION[key], key, doc) == []
    if variant == "full":  # every field of the schema is exercised
        (name,) = (n for n in schema["$defs"] if n.startswith("MLLineage"))
        fields = set(schema["$defs"][name]["allOf"][1]["properties"])
        assert fields == set(doc) - {"_producer", "_schemaURL"}


@pytest.mark.parametrize("key", sorted(FULL))
def test_facet_carries_producer_and_schema_url(key: str) -> None:
    doc = document(MINIMAL[key])
    assert doc["_producer"] == PRODUCER
    assert PRODUCER.startswith("https://github.com/mllineage/mllineage/tree/")
    assert PRODUCER.endswith("/emitter")
    assert doc["_schemaURL"] == schema_url_for_facet_key(key) == type(MINIMAL[key])._get_schema()


def test_values_are_normalised_to_json() -> None:
    model = document(FULL["mllineage_model"])
    assert model["version"] == "7"
    assert model["hyperparameters"] == {"learning_rate": 0.1, "epochs": 200, "l2": True}
    assert model["metrics"] == {"auc": 0.5, "accuracy": 0.87}
    assert document(FULL["mllineage_endpoint"])["deployedAt"] == "2024-05-02T10:15:00+00:00"
    assert document(FULL["mllineage_dataset"])["targets"] == ["churned"]
    group = document(FULL["mllineage_featureGroup"])
    assert group["features"][2] == {"name": "tenure_months"}


def test_non_finite_metrics_are_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mllineage.emitter"):
        facet = MLLineageTrainingRunFacet(
            metrics={"loss": float("nan"), "auc": 0.9, "inf": float("inf"), "flag": True},
            hyperparameters={"alpha": float("nan")},
        )
    assert facet.metrics == {"auc": 0.9}
    assert facet.hyperparameters == {"alpha": "nan"}
    assert {"'loss'", "'inf'", "'flag'"} <= {r.getMessage().split()[2] for r in caplog.records}


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: MLLineageEndpointDatasetFacet(name="e", trafficPercent=150), "trafficPercent"),
        (lambda: MLLineageDatasetDatasetFacet(context="train"), "context"),  # type: ignore[arg-type]
        (lambda: MLLineageDatasetDatasetFacet(digest="ABCDEF"), "digest"),
        (
            lambda: MLLineageEndpointDatasetFacet(name="e", deployedAt=datetime(2024, 1, 1)),
            "timezone",
        ),
    ],
)
def test_invalid_values_are_rejected_at_construction(factory: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        factory()
