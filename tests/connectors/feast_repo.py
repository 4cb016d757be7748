"""A real Feast feature repository (local provider, file registry, SQLite online store).

``customer_profile`` holds a PII feature (``email_domain``: tagged in the view's ``tags`` and in
the field's own tags, which Feast writes into the field description as ``[Tags: pii=true]``);
``engagement`` holds none. The feature service ``churn_v1`` serves both. Lineage goes to the
collector through Feast's own OpenLineage settings in ``feature_store.yaml``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PROJECT = "churn"
OPENLINEAGE_NAMESPACE = "feast://acme"
NAMESPACE = f"{OPENLINEAGE_NAMESPACE}/{PROJECT}"  # Feast's namespace for the project's datasets
SERVICE = "churn_v1"
ROWS = 30
AS_OF = pd.Timestamp("2024-06-01", tz="UTC")


def write_repo(root: Path, *, collector_url: str | None, tracking_uri: str | None = None) -> None:
    """Data files and ``feature_store.yaml`` (OpenLineage on when ``collector_url`` is given)."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    ids = np.arange(ROWS)
    pd.DataFrame(
        {
            "customer_id": ids,
            "email_domain": ["acme.io"] * ROWS,
            "tenure_days": ids * 10,
            "event_timestamp": [AS_OF] * ROWS,
        }
    ).to_parquet(data / "profile.parquet")
    pd.DataFrame(
        {
            "customer_id": ids,
            "sessions_7d": ids % 7,
            "spend_30d": (ids * 1.5).astype("float32"),
            "event_timestamp": [AS_OF] * ROWS,
        }
    ).to_parquet(data / "activity.parquet")
    lines = [
        f"project: {PROJECT}",
        f"registry: {data / 'registry.db'}",
        "provider: local",
        f"online_store: {{type: sqlite, path: {data / 'online.db'}}}",
        "entity_key_serialization_version: 3",
    ]
    if collector_url is not None:
        lines += [
            "openlineage:",
            "  enabled: true",
            "  transport_type: http",
            f"  transport_url: {collector_url}",
            "  transport_endpoint: api/v1/lineage",
            f"  namespace: {OPENLINEAGE_NAMESPACE}",
        ]
    if tracking_uri is not None:
        lines += ["mlflow:", "  enabled: true", f"  tracking_uri: {tracking_uri}"]
    (root / "feature_store.yaml").write_text("\n".join(lines) + "\n")


def definitions(root: Path) -> dict[str, Any]:
    """The repository's objects, by name (what a ``features.py`` would declare)."""
    from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
    from feast.types import Float32, Int64, String

    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.INT64)
    profile_source = FileSource(
        name="customer_profile_source",
        path=str(root / "data" / "profile.parquet"),
        timestamp_field="event_timestamp",
    )
    activity_source = FileSource(
        name="activity_source",
        path=str(root / "data" / "activity.parquet"),
        timestamp_field="event_timestamp",
    )
    profile = FeatureView(
        name="customer_profile",
        entities=[customer],
        ttl=timedelta(days=3650),
        schema=[
            Field(name="email_domain", dtype=String, tags={"pii": "true"}),
            Field(name="tenure_days", dtype=Int64),
        ],
        source=profile_source,
        tags={"pii": "true"},
        owner="team:crm",
    )
    engagement = FeatureView(
        name="engagement",
        entities=[customer],
        ttl=timedelta(days=3650),
        schema=[Field(name="sessions_7d", dtype=Int64), Field(name="spend_30d", dtype=Float32)],
        source=activity_source,
        owner="team:growth",
    )
    service = FeatureService(name=SERVICE, features=[profile, engagement])
    objects: list[Any] = [customer, profile_source, activity_source, profile, engagement, service]
    return {obj.name: obj for obj in objects}


def apply_and_materialize(root: Path) -> Any:
    """``feast apply`` then ``feast materialize`` (the Python API of both); returns the store."""
    from feast import FeatureStore

    store = FeatureStore(repo_path=str(root))
    store.apply(list(definitions(root).values()))
    store.materialize(datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 6, 2, tzinfo=UTC))
    return store


def train_with_feast(root: Path, artifacts: Path) -> tuple[str, str]:
    """Train on the feature service through Feast's MLflow integration (it tags the run with the
    feature service and views it retrieved, and the registered version with the service);
    returns (registered model name, version)."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    store = apply_and_materialize(root)
    tracking_uri = store.config.mlflow.tracking_uri
    mlflow.set_tracking_uri(tracking_uri)
    if mlflow.get_experiment_by_name(PROJECT) is None:  # Feast's default experiment
        mlflow.create_experiment(PROJECT, artifact_location=artifacts.as_uri())
    entity_df = pd.DataFrame(
        {"customer_id": np.arange(ROWS), "event_timestamp": [AS_OF + timedelta(days=1)] * ROWS}
    )
    service = store.get_feature_service(SERVICE)
    with store.mlflow.start_run(run_name="train-churn"):
        frame = store.get_historical_features(entity_df=entity_df, features=service).to_df()
        training = from_pandas(frame, name="churn_train", source="s3://acme-ml/churn/train.parquet")
        mlflow.log_input(training, context="training")
        mlflow.log_params({"max_depth": 4})
        mlflow.log_metric("auc", 0.87)
        info = mlflow.pyfunc.log_model(
            name="model", python_model=_constant_model(), pip_requirements=["numpy", "pandas"]
        )
    version = store.mlflow.register_model(info.model_uri, "churn")
    return "churn", str(version.version)


def _constant_model() -> Any:
    from tests.connectors.seed_mlflow import MeanModel

    return MeanModel(0.5)
