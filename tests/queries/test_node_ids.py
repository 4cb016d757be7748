"""Unit tests of the type-aware node-id parser (no database)."""

from __future__ import annotations

import pytest

from mllineage.schemas.node_ids import (
    InvalidNodeId,
    NodeRef,
    node_id_readings,
    parse_node_id,
)


@pytest.mark.parametrize(
    ("node_id", "namespace", "name"),
    [
        ("dataset:food_delivery:public.delivery_7_days", "food_delivery", "public.delivery_7_days"),
        (
            "dataset:postgres://db.example.com:5432:public.users",
            "postgres://db.example.com:5432",
            "public.users",
        ),
        (
            "dataset:trino://host:1337:catalog.schema.table",
            "trino://host:1337",
            "catalog.schema.table",
        ),
        ("dataset:s3://bucket:path/to/file.parquet", "s3://bucket", "path/to/file.parquet"),
        ("dataset:s3://bucket/warehouse:db.table", "s3://bucket/warehouse", "db.table"),
        (
            "dataset:hdfs://namenode:8020/warehouse:db.table",
            "hdfs://namenode:8020/warehouse",
            "db.table",
        ),
        ("dataset:postgres://[::1]:5432:public.t", "postgres://[::1]:5432", "public.t"),
        ("dataset:kafka://broker:9092:123", "kafka://broker:9092", "123"),  # numeric topic
        ("dataset:bigquery:project.dataset.table", "bigquery", "project.dataset.table"),
        ("dataset:file:/tmp/data.csv", "file", "/tmp/data.csv"),
        ("dataset:ns:name:with:colons", "ns", "name:with:colons"),
        ("job:airflow://scheduler:8080:dag.task", "airflow://scheduler:8080", "dag.task"),
        ("job:pipelines:train", "pipelines", "train"),
    ],
)
def test_preferred_reading_splits_namespace_by_uri_syntax(
    node_id: str, namespace: str, name: str
) -> None:
    parsed = parse_node_id(node_id)
    assert (parsed.namespace, parsed.name, parsed.version) == (namespace, name, None)


def test_version_suffix_and_field() -> None:
    assert parse_node_id("dataset:mlflow://tracking:5000:models/churn#3") == NodeRef(
        "dataset", "mlflow://tracking:5000", "models/churn", version="3"
    )
    assert parse_node_id("datasetField:postgres://db:5432:public.users:email") == NodeRef(
        "datasetField", "postgres://db:5432", "public.users", field="email"
    )
    assert parse_node_id("datasetField:ns:ds:f#v1") == NodeRef(
        "datasetField", "ns", "ds", field="f", version="v1"
    )


def test_run_ids_keep_their_text() -> None:
    assert parse_node_id("run:8f3c8c3e-2f5e-4a5b-9c1d-0e9d2b7f6a11").name == (
        "8f3c8c3e-2f5e-4a5b-9c1d-0e9d2b7f6a11"
    )


def test_every_split_is_offered_for_the_resolver_preferred_first() -> None:
    readings = node_id_readings("dataset:ns:2024:data")
    assert [(r.namespace, r.name) for r in readings] == [("ns", "2024:data"), ("ns:2024", "data")]
    # A '#' may also belong to the name: the unversioned reading is offered after the versioned.
    readings = node_id_readings("dataset:ns:report#final")
    assert readings[0] == NodeRef("dataset", "ns", "report", version="final")
    assert NodeRef("dataset", "ns", "report#final") in readings


def test_canonical_text_round_trips() -> None:
    for text in (
        "dataset:postgres://db.example.com:5432:public.users",
        "dataset:s3://lake:raw/clicks/2024#00000000-0000-4000-8000-000000000001",
        "job:pipelines:train",
        "datasetField:feast://prod:customer_features:email_domain",
        "run:abc",
    ):
        assert parse_node_id(text).node_id == text


@pytest.mark.parametrize(
    "bad", ["", "table:ns:name", "dataset:", "dataset:noseparator", "run:", "datasetField:ns:ds"]
)
def test_invalid_ids_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidNodeId):
        parse_node_id(bad)
