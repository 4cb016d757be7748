"""The whole chain from the two real tools: Feast (apply + materialize, its own OpenLineage
emitter pointed at the collector) -> MLflow training on a Feast feature service (Feast's MLflow
integration) -> registered model version (``mllineage sync mlflow``) -> deployment (our emitter),
and every seed question asked of it."""

from __future__ import annotations

from pathlib import Path

from mllineage.client import LineageClient, dataset_id, field_id
from mllineage.client.mlflow_sync import sync_mlflow
from mllineage.emitter import Emitter, JobType, dataset, endpoint_dataset
from tests.connectors.conftest import MlflowStore
from tests.connectors.feast_repo import (
    NAMESPACE as FEAST,
)
from tests.connectors.feast_repo import (
    OPENLINEAGE_NAMESPACE,
    PROJECT,
    SERVICE,
    train_with_feast,
    write_repo,
)

MLFLOW = "mlflow://mlflow.internal:5000"
PROFILE = dataset_id(FEAST, "customer_profile")
ENGAGEMENT = dataset_id(FEAST, "engagement")
PROFILE_SOURCE = dataset_id(FEAST, "customer_profile_source")
ACTIVITY_SOURCE = dataset_id(FEAST, "activity_source")
ENDPOINT = dataset_id("sagemaker://us-east-1", "churn-prod")


def test_feast_to_mlflow_to_endpoint(
    server_url: str, mlflow_store: MlflowStore, tmp_path: Path
) -> None:
    tracking_uri = mlflow_store.copy(tmp_path)
    repo = tmp_path / "feature_repo"
    write_repo(repo, collector_url=server_url, tracking_uri=tracking_uri)
    name, version = train_with_feast(repo, tmp_path / "artifacts")  # apply, materialize, train
    plan = sync_mlflow(
        tracking_uri,
        url=server_url,
        experiments=[PROJECT],
        namespace=MLFLOW,
        feast_namespace=OPENLINEAGE_NAMESPACE,
    )
    assert plan.model_versions == 1
    model = dataset_id(MLFLOW, f"models/{name}")
    deploy = Emitter(
        config={"transport": {"type": "http", "url": server_url}}, strict=True, namespace="serving"
    )
    # The deployment names the version it serves; the registry's facets stay the model's own.
    served = dataset(MLFLOW, f"models/{name}", dataset_version=version)
    endpoint = endpoint_dataset(
        "sagemaker://us-east-1", "churn-prod", model_version=version, status="InService"
    )
    with deploy.run("deploy-churn", job_type=JobType.DEPLOYMENT, inputs=[served]) as run:
        run.add_output(endpoint)

    with LineageClient(server_url, as_frame=False) as lc:
        # Feast's events (plain-string producer, relative dataSource URIs: stored with warnings)
        feast_jobs = {e["job"]["name"] for e in lc.iter_events() if e["producer"] == "feast"}
        assert feast_jobs == {
            f"feast_feature_views_{PROJECT}",
            f"feature_service_{SERVICE}",
            f"materialize_{PROJECT}",
        }
        # Feast's apply job lists every source and entity as input of every view, and its events
        # carry no finer view -> source mapping: both sources are upstream of each view. The
        # entity is read too, but it is a kind of its own, never a raw data source.
        sources = lc.get_data_sources(PROFILE)
        assert {s["node_id"] for s in sources} == {PROFILE_SOURCE, ACTIVITY_SOURCE}
        upstream = lc.get_lineage(PROFILE, direction="upstream", depth=2)
        assert {r["name"]: r["kind"] for r in upstream if r["type"] == "dataset"} == {
            "customer_profile_source": "dataset",
            "activity_source": "dataset",
            "customer": "entity",
        }

        # feast materialize: the views feed their online-store tables.
        materialized = lc.get_lineage(PROFILE, direction="downstream", depth=2)
        assert {"materialize_churn", "online_store_customer_profile"} <= {
            r["name"] for r in materialized
        }

        groups = lc.get_feature_groups_from_model(model)
        assert {g["name"]: g["feature_store"] for g in groups} == {
            SERVICE: "feast",
            "customer_profile": "feast",
            "engagement": "feast",
        }
        built = lc.get_feature_groups_from_source(ACTIVITY_SOURCE)
        assert {g["name"] for g in built} == {"customer_profile", "engagement", SERVICE}

        [used] = lc.get_models_using(ENGAGEMENT)
        assert (used["model_name"], used["current_version"]) == (name, version)
        assert [e["node_id"] for e in used["endpoints"]] == [ENDPOINT]

        chain = lc.get_model_lineage(model, version=version)
        by_name = {(r["direction"], r["name"]): r for r in chain}
        for group in ("customer_profile", "engagement", SERVICE):
            assert by_name[("upstream", group)]["kind"] == "feature_group"
        assert by_name[("upstream", "customer_profile_source")]["kind"] == "dataset"
        assert by_name[("downstream", "churn-prod")]["kind"] == "endpoint"

        impact = lc.get_impact(PROFILE_SOURCE, kinds=["feature_group", "model", "endpoint"])
        assert {r["kind"] for r in impact} == {"feature_group", "model", "endpoint"}

        # Feast's governance tags: the view's tags and the field's [Tags: pii=true], which the
        # feature service's schema repeats for the field it serves.
        tagged = lc.get_models_with_tag("pii")
        service = dataset_id(FEAST, SERVICE)
        assert {(r["node_id"], r["tagged_node_id"], tuple(r["tagged_fields"])) for r in tagged} == {
            (model, PROFILE, ("", "email_domain")),
            (ENDPOINT, PROFILE, ("", "email_domain")),
            (model, service, ("email_domain",)),
            (ENDPOINT, service, ("email_domain",)),
        }

        [audit] = lc.get_audit(model, version)
        assert audit["parameters"] == {"max_depth": 4}
        assert audit["metrics"]["auc"] == 0.87  # beside Feast's own feast.job_submission_sec
        assert {i["name"] for i in audit["inputs"]} >= {
            SERVICE,
            "customer_profile",
            "engagement",
            "churn/train.parquet",
        }

        consumers = lc.get_feature_lineage(field_id(FEAST, "customer_profile", "email_domain"))
        assert [(c["node_id"], c["evidence"]) for c in consumers if c["role"] == "consumer"] == [
            (model, "model_features")
        ]
