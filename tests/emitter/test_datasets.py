"""Dataset builders: identity from URIs, governance facets, feature groups, models, endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from openlineage.client.serde import Serde

from mllineage.emitter import (
    Feature,
    MLLineageFeatureGroupDatasetFacet,
    annotate_dataset,
    as_input,
    as_output,
    dataset,
    dataset_node_id,
    endpoint_dataset,
    feature_group_dataset,
    job_node_id,
    model_dataset,
    split_uri,
)
from tests.emitter.spec import SpecValidator


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://ml-data/churn/train.parquet", ("s3://ml-data", "churn/train.parquet")),
        ("s3a://ml-data/churn/", ("s3://ml-data", "churn/")),
        ("gs://bucket/a/b.csv", ("gs://bucket", "a/b.csv")),
        (
            "abfss://c@acct.dfs.core.windows.net/x/y",
            ("abfss://c@acct.dfs.core.windows.net", "x/y"),
        ),
        ("hdfs://namenode:8020/warehouse/t", ("hdfs://namenode:8020", "/warehouse/t")),
        ("file:///data/x.csv", ("file", "/data/x.csv")),
        ("file://nas01/data/x.csv", ("file://nas01", "/data/x.csv")),
        ("/data/x.csv", ("file", "/data/x.csv")),
    ],
)
def test_split_uri(uri: str, expected: tuple[str, str]) -> None:
    assert split_uri(uri) == expected


def test_split_uri_relative_path_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert split_uri("data/x.csv") == ("file", str(tmp_path / "data" / "x.csv"))
    with pytest.raises(ValueError, match="bucket"):
        split_uri("s3://bucket")
    with pytest.raises(ValueError, match="namespace"):
        split_uri("mailto:someone")


def test_governance_facets(spec: SpecValidator) -> None:
    source = dataset("postgres://crm:5432", "crm.public.customers")
    ds = dataset(
        "s3://features",
        "offline/customers",
        schema={"customer_id": "int64", "email": "str"},
        description="# Customers\nProfile features",
        content_type="text/markdown",
        owners=["team:crm", ("user:ada", "MAINTAINER")],
        tags={"domain": "crm", "tier": "gold"},
        pii=["email"],
        column_lineage={"email": [(source, "email", "IDENTITY")]},
        dataset_version="2024-05-01",
        symlinks=[("glue://eu", "features.customers", "TABLE")],
    )
    facets = Serde.to_dict(ds)["facets"]
    assert set(facets) == {
        "schema",
        "documentation",
        "ownership",
        "tags",
        "columnLineage",
        "version",
        "symlinks",
    }
    assert facets["ownership"]["owners"] == [
        {"name": "team:crm"},
        {"name": "user:ada", "type": "MAINTAINER"},
    ]
    assert facets["tags"]["tags"] == [
        {"key": "domain", "value": "crm", "source": "USER"},
        {"key": "tier", "value": "gold", "source": "USER"},
        {"key": "pii", "value": "true", "source": "USER", "field": "email"},
    ]
    assert facets["documentation"]["contentType"] == "text/markdown"
    for key, facet in facets.items():
        assert spec.facet_errors("dataset", key, facet) == []
        assert spec.facet_schema("dataset", key) is not None


def test_whole_dataset_pii_and_annotation() -> None:
    raw = dataset("s3://raw", "crm/customers.csv", tags={"domain": "crm"}, pii=True)
    annotated = annotate_dataset(raw, tags={"domain": "sales"}, pii=["email"], owners=["team:crm"])
    tags = Serde.to_dict(annotated)["facets"]["tags"]["tags"]
    assert tags == [
        {"key": "pii", "value": "true", "source": "USER"},
        {"key": "domain", "value": "sales", "source": "USER"},
        {"key": "pii", "value": "true", "source": "USER", "field": "email"},
    ]
    assert "ownership" in (annotated.facets or {})
    assert "ownership" not in (raw.facets or {}), "the original dataset is unchanged"


def test_feature_group_dataset() -> None:
    fg = feature_group_dataset(
        "s3://features",
        "offline/customers",
        features=[Feature("customer_id", "int64", "key"), Feature("event_time"), "tenure"],
        entities=["customer_id"],
        event_time_feature="event_time",
        feature_store="feast://prod",
        group_version="3",
        online_store="redis://cache:6379",
        offline_store="s3://features/offline/customers",
        ttl_seconds=3600,
        description="Customer features",
    )
    facets = Serde.to_dict(fg)["facets"]
    group = facets["mllineage_featureGroup"]
    assert group["name"] == "customers"
    assert group["description"] == facets["documentation"]["description"] == "Customer features"
    assert [f["name"] for f in group["features"]] == ["customer_id", "event_time", "tenure"]
    assert facets["schema"]["fields"] == [
        {"name": "customer_id", "type": "int64", "description": "key"},
        {"name": "event_time"},
        {"name": "tenure"},
    ]
    names = [
        cast(
            MLLineageFeatureGroupDatasetFacet,
            (feature_group_dataset(ns, n, features=["a"]).facets or {})["mllineage_featureGroup"],
        ).name
        for ns, n in [("s3://f", "offline/customers.parquet"), ("hive://h:1", "db.fs.claims")]
    ]
    assert names == ["customers.parquet", "claims"]
    with pytest.raises(ValueError, match="not among the features"):
        feature_group_dataset("s3://f", "g", features=["a"], entities=["b"])


def test_model_dataset_is_a_versioned_model() -> None:
    model = model_dataset(
        "mlflow://mlflow:5000",
        "churn",
        version=12,
        model_name="churn_classifier",
        stage="Production",
        features=["tenure"],
    )
    facets = Serde.to_dict(model)["facets"]
    assert facets["datasetType"]["datasetType"] == "MODEL"
    assert facets["version"]["datasetVersion"] == "12"
    assert facets["mllineage_model"]["name"] == "churn_classifier"
    assert facets["mllineage_model"]["version"] == "12"


def test_endpoint_dataset() -> None:
    endpoint = endpoint_dataset(
        "sagemaker://eu-west-1",
        "churn-prod",
        platform="sagemaker",
        model_version=12,
        traffic_percent=25,
        deployed_at="2024-05-02T10:15:00+00:00",
    )
    facet = Serde.to_dict(endpoint)["facets"]["mllineage_endpoint"]
    assert (facet["name"], facet["modelVersion"], facet["trafficPercent"]) == (
        "churn-prod",
        "12",
        25,
    )


def test_inputs_drop_column_lineage_outputs_keep_it() -> None:
    source = dataset("s3://raw", "a.csv")
    ds = dataset("s3://f", "b", column_lineage={"x": [(source, "x")]})
    assert "columnLineage" not in (as_input(ds).facets or {})
    assert "columnLineage" in (as_output(ds).facets or {})


def test_node_ids_and_identity_errors() -> None:
    assert (
        dataset_node_id(dataset("postgres://db:5432", "a.b.c"))
        == "dataset:postgres://db:5432:a.b.c"
    )
    assert job_node_id("ml", "churn.train") == "job:ml:churn.train"
    with pytest.raises(ValueError, match="non-empty"):
        dataset("", "x")
