"""``mllineage demo``: a realistic ML workflow as real OpenLineage events, posted to a collector.

The story (all times 2024-06-01/02 UTC, run ids deterministic, so loading twice changes nothing):

- raw sources: CRM ``public.customers`` (``email`` and ``phone`` tagged ``pii``),
  ``public.transactions``, a Spark-ingested clickstream on S3 that registers the Hive table
  ``raw.clickstream`` (a symlink), and support ``tickets`` from Kafka;
- feature pipelines build three feature groups: ``customer_profile`` (``email_domain`` derived from
  the PII ``email``), ``engagement`` (from the Hive table) and ``support_signals``;
- ``build_churn_trainset`` joins feature groups into a training set; version 1 of the
  ``churn-classifier`` model is trained on profile + engagement, then the training set is rebuilt
  from engagement + support signals and the model retrained as version 2;
- ``deploy_churn_endpoint`` serves v1 on a SageMaker endpoint, later v2; ``score_customers``
  writes daily churn scores from the model.

So PII reaches model v1 through a feature, not v2; ``asOf`` before the retraining still says so.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from mllineage import schemas
from mllineage.schemas.node_ids import dataset_node_id, field_node_id

PRODUCER = "https://github.com/mllineage/mllineage/tree/0.1.0/client/demo"
RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACETS = "https://openlineage.io/spec/facets"
BASE = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)

CRM = "postgres://crm-db.internal:5432"
RAW = "s3://acme-raw"
HIVE = "hive://metastore.internal:9083"
KAFKA = "kafka://broker.internal:9092"
FEAST = "feast://acme-feature-store"
ML = "s3://acme-ml"
MLFLOW = "mlflow://mlflow.internal:5000"
SAGEMAKER = "sagemaker://us-east-1"
JOBS = "airflow://scheduler.internal:8080"

CUSTOMERS = (CRM, "public.customers")
TRANSACTIONS = (CRM, "public.transactions")
CLICKSTREAM = (RAW, "events/clickstream")
CLICKSTREAM_TABLE = (HIVE, "raw.clickstream")
TICKETS = (KAFKA, "support.tickets")
PROFILE = (FEAST, "customer_profile")
ENGAGEMENT = (FEAST, "engagement")
SUPPORT = (FEAST, "support_signals")
TRAINSET = (ML, "datasets/churn_train")
MODEL = (MLFLOW, "models/churn-classifier")
ENDPOINT = (SAGEMAKER, "churn-classifier-prod")
SCORES = (ML, "predictions/churn_scores")

#: Node ids worth asking about once the demo is loaded.
NODES = {
    "model": dataset_node_id(*MODEL),
    "model_v1": dataset_node_id(*MODEL, "1"),
    "endpoint": dataset_node_id(*ENDPOINT),
    "feature_group": dataset_node_id(*PROFILE),
    "source": dataset_node_id(*TRANSACTIONS),
    "hive_table": dataset_node_id(*CLICKSTREAM_TABLE),
    "feature": field_node_id(*PROFILE, "email_domain"),
}
#: Between model v1 and the retraining: ``asOf`` this time sees the v1 graph.
BEFORE_RETRAINING = BASE + timedelta(hours=10)


def _at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _run_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://mllineage.dev/demo/{name}"))


def _facet(spec: str, **fields: Any) -> dict[str, Any]:
    """A standard facet: ``spec`` like ``SchemaDatasetFacet.json`` under the 1-0-x schemas."""
    return {"_producer": PRODUCER, "_schemaURL": f"{FACETS}/{spec}", **fields}


def _ours(key: str, **fields: Any) -> dict[str, Any]:
    """One of our facets, pointing at its bundled schema."""
    schema_url = schemas.facet_keys()[key]
    return {"_producer": PRODUCER, "_schemaURL": schema_url, **fields}


def _schema(*fields: tuple[str, str]) -> dict[str, Any]:
    return _facet(
        "1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
        fields=[{"name": n, "type": t} for n, t in fields],
    )


def _owners(*names: str) -> dict[str, Any]:
    return _facet(
        "1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet",
        owners=[{"name": n, "type": "team"} for n in names],
    )


def _job_owners(*names: str) -> dict[str, Any]:
    return _facet(
        "1-0-1/OwnershipJobFacet.json#/$defs/OwnershipJobFacet",
        owners=[{"name": n, "type": "team"} for n in names],
    )


def _lineage(**fields: list[tuple[tuple[str, str], str, str]]) -> dict[str, Any]:
    """``out=[(dataset, column, transformation subtype)]`` -> a columnLineage facet."""
    return _facet(
        "1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
        fields={
            out: {
                "inputFields": [
                    {
                        "namespace": key[0],
                        "name": key[1],
                        "field": column,
                        "transformations": [{"type": "DIRECT", "subtype": subtype}],
                    }
                    for key, column, subtype in sources
                ]
            }
            for out, sources in fields.items()
        },
    )


def _code(path: str, version: str) -> dict[str, Any]:
    return _facet(
        "1-0-1/SourceCodeLocationJobFacet.json#/$defs/SourceCodeLocationJobFacet",
        type="git",
        url="https://github.com/acme/ml-platform",
        repoUrl="https://github.com/acme/ml-platform.git",
        path=path,
        version=version,
        branch="main",
    )


def _ds(key: tuple[str, str], **facets: Any) -> dict[str, Any]:
    return {"namespace": key[0], "name": key[1], "facets": facets}


def _run(
    job: str,
    run_name: str,
    start: float,
    end: float,
    *,
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    run_facets: dict[str, Any] | None = None,
    job_facets: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A START and a COMPLETE event of one run."""
    run_id = _run_id(run_name)
    facets = {
        "jobType": _facet(
            "2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
            processingType="BATCH",
            integration="AIRFLOW",
            jobType="TASK",
        ),
        **(job_facets or {}),
    }

    def event(kind: str, hours: float, with_outputs: bool) -> dict[str, Any]:
        return {
            "eventType": kind,
            "eventTime": _at(hours),
            "producer": PRODUCER,
            "schemaURL": RUN_EVENT_SCHEMA,
            "run": {"runId": run_id, "facets": run_facets or {}},
            "job": {"namespace": JOBS, "name": job, "facets": facets},
            "inputs": inputs,
            "outputs": outputs if with_outputs else [],
        }

    return [event("START", start, False), event("COMPLETE", end, True)]


def _model(version: str, features: list[str], auc: float) -> dict[str, Any]:
    return _ds(
        MODEL,
        mllineage_model=_ours(
            "mllineage_model",
            name="churn-classifier",
            version=version,
            framework="xgboost",
            frameworkVersion="2.0.3",
            task="binary-classification",
            features=features,
            hyperparameters={"max_depth": 6, "eta": 0.1, "num_round": 200},
            metrics={"val_auc": auc},
            artifactUri=f"s3://acme-ml/models/churn-classifier/{version}/model.xgb",
            registryUri="mlflow://mlflow.internal:5000",
            stage="Production",
        ),
        datasetType=_facet(
            "1-0-0/DatasetTypeDatasetFacet.json#/$defs/DatasetTypeDatasetFacet",
            datasetType="MODEL",
        ),
        ownership=_owners("ml-platform"),
    )


def _endpoint(model_version: str, deployed_hours: float) -> dict[str, Any]:
    return _ds(
        ENDPOINT,
        mllineage_endpoint=_ours(
            "mllineage_endpoint",
            name="churn-classifier-prod",
            platform="sagemaker",
            url="https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/churn-classifier-prod/invocations",
            modelVersion=model_version,
            status="InService",
            trafficPercent=100,
            instanceType="ml.m5.large",
            deployedAt=_at(deployed_hours),
        ),
        ownership=_owners("ml-platform"),
    )


def _training(auc: float) -> dict[str, Any]:
    return {
        "mllineage_training": _ours(
            "mllineage_training",
            hyperparameters={"max_depth": 6, "eta": 0.1, "num_round": 200},
            metrics={"val_auc": auc, "train_logloss": 0.21},
            framework="xgboost",
            trackingUri="http://mlflow.internal:5000",
            experimentId="17",
        )
    }


def demo_events() -> list[dict[str, Any]]:
    """Every event of the demo workflow, in time order."""
    customers = _ds(
        CUSTOMERS,
        schema=_schema(
            ("customer_id", "bigint"),
            ("email", "varchar"),
            ("phone", "varchar"),
            ("signup_date", "date"),
        ),
        tags=_facet(
            "1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet",
            tags=[
                {"key": "pii", "value": "true", "field": "email", "source": "data-governance"},
                {"key": "pii", "value": "true", "field": "phone", "source": "data-governance"},
            ],
        ),
        ownership=_owners("crm"),
    )
    transactions = _ds(
        TRANSACTIONS,
        schema=_schema(("customer_id", "bigint"), ("amount", "numeric"), ("ts", "timestamp")),
        ownership=_owners("payments"),
    )
    clickstream = _ds(
        CLICKSTREAM,
        symlinks=_facet(
            "1-0-1/SymlinksDatasetFacet.json#/$defs/SymlinksDatasetFacet",
            identifiers=[
                {"namespace": CLICKSTREAM_TABLE[0], "name": CLICKSTREAM_TABLE[1], "type": "TABLE"}
            ],
        ),
        schema=_schema(("customer_id", "bigint"), ("session_id", "string"), ("ts", "timestamp")),
    )
    clickstream_table = _ds(CLICKSTREAM_TABLE)
    tickets = _ds(TICKETS, schema=_schema(("customer_id", "bigint"), ("priority", "string")))
    profile = _ds(
        PROFILE,
        mllineage_featureGroup=_ours(
            "mllineage_featureGroup",
            name="customer_profile",
            featureStore="feast",
            entities=["customer_id"],
            features=[
                {"name": "email_domain", "type": "String"},
                {"name": "tenure_days", "type": "Integral"},
                {"name": "lifetime_value", "type": "Fractional"},
            ],
            onlineStore="redis",
            offlineStore="s3://acme-features/offline/customer_profile",
        ),
        schema=_schema(
            ("customer_id", "bigint"),
            ("email_domain", "string"),
            ("tenure_days", "int"),
            ("lifetime_value", "double"),
        ),
        columnLineage=_lineage(
            email_domain=[(CUSTOMERS, "email", "TRANSFORMATION")],
            tenure_days=[(CUSTOMERS, "signup_date", "TRANSFORMATION")],
            lifetime_value=[(TRANSACTIONS, "amount", "AGGREGATION")],
        ),
        ownership=_owners("feature-platform"),
    )
    engagement = _ds(
        ENGAGEMENT,
        mllineage_featureGroup=_ours(
            "mllineage_featureGroup",
            name="engagement",
            featureStore="feast",
            entities=["customer_id"],
            features=[{"name": "sessions_7d"}, {"name": "purchases_30d"}],
        ),
        schema=_schema(("customer_id", "bigint"), ("sessions_7d", "int"), ("purchases_30d", "int")),
        columnLineage=_lineage(
            sessions_7d=[(CLICKSTREAM_TABLE, "session_id", "AGGREGATION")],
            purchases_30d=[(TRANSACTIONS, "amount", "AGGREGATION")],
        ),
        ownership=_owners("growth"),
    )
    support = _ds(
        SUPPORT,
        mllineage_featureGroup=_ours(
            "mllineage_featureGroup",
            name="support_signals",
            featureStore="feast",
            entities=["customer_id"],
            features=[{"name": "tickets_90d"}, {"name": "escalations_90d"}],
        ),
        schema=_schema(
            ("customer_id", "bigint"), ("tickets_90d", "int"), ("escalations_90d", "int")
        ),
        columnLineage=_lineage(
            tickets_90d=[(TICKETS, "customer_id", "AGGREGATION")],
            escalations_90d=[(TICKETS, "priority", "AGGREGATION")],
        ),
        ownership=_owners("customer-success"),
    )
    trainset_v1 = _ds(
        TRAINSET,
        schema=_schema(("email_domain", "string"), ("tenure_days", "int"), ("sessions_7d", "int")),
        columnLineage=_lineage(
            email_domain=[(PROFILE, "email_domain", "IDENTITY")],
            tenure_days=[(PROFILE, "tenure_days", "IDENTITY")],
            sessions_7d=[(ENGAGEMENT, "sessions_7d", "IDENTITY")],
        ),
    )
    trainset_v2 = _ds(
        TRAINSET,
        schema=_schema(("sessions_7d", "int"), ("purchases_30d", "int"), ("tickets_90d", "int")),
        columnLineage=_lineage(
            sessions_7d=[(ENGAGEMENT, "sessions_7d", "IDENTITY")],
            purchases_30d=[(ENGAGEMENT, "purchases_30d", "IDENTITY")],
            tickets_90d=[(SUPPORT, "tickets_90d", "IDENTITY")],
        ),
    )
    owners = {"ownership": _job_owners("data-science")}
    events: list[dict[str, Any]] = []
    events += _run(
        "ingest_clickstream",
        "ingest",
        0,
        0.5,
        inputs=[],
        outputs=[clickstream],
        job_facets={"sourceCodeLocation": _code("spark/ingest_clickstream.py", "4f1c2e9")},
    )
    events += _run(
        "customer_profile_features",
        "profile",
        1,
        1.5,
        inputs=[customers, transactions],
        outputs=[profile],
    )
    events += _run(
        "engagement_features",
        "engagement",
        1,
        1.6,
        inputs=[clickstream_table, transactions],
        outputs=[engagement],
    )
    events += _run("support_features", "support", 1, 1.4, inputs=[tickets], outputs=[support])
    events += _run(
        "build_churn_trainset",
        "trainset-1",
        2,
        2.5,
        inputs=[_ds(PROFILE), _ds(ENGAGEMENT)],
        outputs=[trainset_v1],
    )
    events += _run(
        "train_churn_model",
        "train-1",
        3,
        4,
        inputs=[_ds(TRAINSET)],
        outputs=[_model("1", ["email_domain", "tenure_days", "sessions_7d"], 0.84)],
        run_facets=_training(0.84),
        job_facets={"sourceCodeLocation": _code("training/train_churn.py", "a1b2c3d"), **owners},
    )
    events += _run(
        "deploy_churn_endpoint",
        "deploy-1",
        5,
        5.2,
        inputs=[
            _ds(MODEL, version=_facet("1-0-1/DatasetVersionDatasetFacet.json", datasetVersion="1"))
        ],
        outputs=[_endpoint("1", 5.2)],
    )
    events += _run(
        "score_customers",
        "score-1",
        6,
        6.5,
        inputs=[_ds(MODEL), _ds(CUSTOMERS)],
        outputs=[_ds(SCORES)],
    )
    # The next day: the training set drops the PII-derived profile, the model is retrained.
    events += _run(
        "build_churn_trainset",
        "trainset-2",
        24,
        24.5,
        inputs=[_ds(ENGAGEMENT), _ds(SUPPORT)],
        outputs=[trainset_v2],
    )
    events += _run(
        "train_churn_model",
        "train-2",
        25,
        26,
        inputs=[_ds(TRAINSET)],
        outputs=[_model("2", ["sessions_7d", "purchases_30d", "tickets_90d"], 0.88)],
        run_facets=_training(0.88),
        job_facets={"sourceCodeLocation": _code("training/train_churn.py", "e4f5a6b"), **owners},
    )
    events += _run(
        "deploy_churn_endpoint",
        "deploy-2",
        27,
        27.2,
        inputs=[
            _ds(MODEL, version=_facet("1-0-1/DatasetVersionDatasetFacet.json", datasetVersion="2"))
        ],
        outputs=[_endpoint("2", 27.2)],
    )
    events += _run(
        "score_customers",
        "score-2",
        30,
        30.5,
        inputs=[_ds(MODEL), _ds(CUSTOMERS)],
        outputs=[_ds(SCORES)],
    )
    return events
