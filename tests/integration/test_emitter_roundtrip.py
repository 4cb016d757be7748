"""The emitter's whole ML chain over real HTTP into a running collector: the stored graph."""

from __future__ import annotations

from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.transport.http import HttpConfig, HttpTransport
from sqlalchemy import Engine, text

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from mllineage.emitter import (
    Emitter,
    Feature,
    MLLineageTrainingRunFacet,
    create_ml_lineage,
    dataset,
    endpoint_dataset,
    feature_group_dataset,
    model_dataset,
)
from tests.servers import running_server

KEY = "roundtrip-ingest-key"


def emit_chain(url: str) -> Any:
    client = OpenLineageClient(
        transport=HttpTransport(
            HttpConfig.from_dict(
                {
                    "type": "http",
                    "url": url,
                    "compression": "gzip",
                    "auth": {"type": "api_key", "apiKey": KEY},
                }
            )
        )
    )
    emitter = Emitter(client, namespace="ml", strict=True, source_code=False)
    customers = dataset(
        "postgres://crm:5432",
        "crm.public.customers",
        schema={"id": "int", "email": "text"},
        pii=["email"],
    )
    orders = dataset(
        "s3://raw", "orders/2024.parquet", schema={"customer_id": "int", "amount": "double"}
    )
    profile = feature_group_dataset(
        "feast://prod",
        "customer_profile",
        features=[Feature("customer_id", "int"), Feature("email_domain", "string")],
        entities=["customer_id"],
        column_lineage={"email_domain": [(customers, "email")], "customer_id": [(customers, "id")]},
    )
    spend = feature_group_dataset(
        "feast://prod",
        "customer_spend",
        features=[Feature("customer_id", "int"), Feature("total_spend", "double")],
        entities=["customer_id"],
        column_lineage={"total_spend": [(orders, "amount")]},
    )
    training_set = dataset(
        "s3://ml",
        "churn/train.parquet",
        schema={"customer_id": "int", "email_domain": "text", "total_spend": "double"},
    )
    model = model_dataset("mlflow://registry", "churn", version="3", framework="numpy")
    endpoint = endpoint_dataset("sagemaker://eu-west-1", "churn-prod", model_version="3")
    summary = create_ml_lineage(
        emitter,
        data_sources=[customers, orders],
        feature_pipeline="features.build",
        feature_groups=[profile, spend],
        feature_query="features.query_training_set",
        training_dataset=training_set,
        training_job="churn.train",
        model=model,
        training=MLLineageTrainingRunFacet(hyperparameters={"lr": 0.1}, metrics={"auc": 0.91}),
        endpoint=endpoint,
    )
    client.close()
    return summary


def rows(engine: Engine, sql: str) -> set[tuple[Any, ...]]:
    with engine.connect() as conn:
        return {tuple(row) for row in conn.execute(text(sql))}


def test_full_chain_lands_as_one_connected_graph(engine: Engine, database_url: str) -> None:
    settings = Settings(database_url=database_url, api_keys={KEY: ["write"]})
    with running_server(create_app(settings, engine=engine)) as url:
        emit_chain(url)

    kinds = rows(engine, "SELECT name, kind FROM datasets")
    assert kinds == {
        ("crm.public.customers", "dataset"),
        ("orders/2024.parquet", "dataset"),
        ("customer_profile", "feature_group"),
        ("customer_spend", "feature_group"),
        ("churn/train.parquet", "dataset"),
        ("churn", "model"),
        ("churn-prod", "endpoint"),
    }
    edges = rows(
        engine,
        "SELECT j.name, e.direction, d.name FROM job_edges e JOIN jobs j ON j.id = e.job_id"
        " JOIN datasets d ON d.id = e.dataset_id",
    )
    deploy = {j for j, _, _ in edges} - {
        "features.build",
        "features.query_training_set",
        "churn.train",
    }
    assert len(deploy) == 1
    [deploy_job] = deploy
    assert edges == {
        ("features.build", "in", "crm.public.customers"),
        ("features.build", "in", "orders/2024.parquet"),
        ("features.build", "out", "customer_profile"),
        ("features.build", "out", "customer_spend"),
        ("features.query_training_set", "in", "customer_profile"),
        ("features.query_training_set", "in", "customer_spend"),
        ("features.query_training_set", "out", "churn/train.parquet"),
        ("churn.train", "in", "churn/train.parquet"),
        ("churn.train", "out", "churn"),
        (deploy_job, "in", "churn"),
        (deploy_job, "out", "churn-prod"),
    }
    assert rows(engine, "SELECT state, count(*) FROM runs GROUP BY state") == {("COMPLETE", 4)}
    # the model version is the one the model facet names, produced by the training run
    versions = rows(
        engine,
        "SELECT v.version, j.name FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id"
        " JOIN runs r ON r.uuid = v.run_uuid JOIN jobs j ON j.id = r.job_id WHERE d.name = 'churn'",
    )
    assert versions == {("3", "churn.train")}
    # governance and column lineage survive the trip
    assert rows(
        engine,
        "SELECT d.name, t.field, t.key FROM dataset_tags t JOIN datasets d ON d.id = t.dataset_id",
    ) >= {("crm.public.customers", "email", "pii")}
    feature_sources = rows(
        engine,
        "SELECT d.name, c.field, i.name, c.input_field FROM column_lineage c"
        " JOIN datasets d ON d.id = c.dataset_id JOIN datasets i ON i.id = c.input_dataset_id",
    )
    assert ("customer_profile", "email_domain", "crm.public.customers", "email") in feature_sources
    assert (
        "churn/train.parquet",
        "email_domain",
        "customer_profile",
        "email_domain",
    ) in feature_sources
    with engine.connect() as conn:
        warned = conn.execute(
            text("SELECT count(*) FROM lineage_events WHERE warnings IS NOT NULL")
        ).scalar_one()
    assert warned == 0, "our own facets validate against our bundled schemas"
