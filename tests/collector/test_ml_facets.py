"""Our own mllineage_* facets are checked against the bundled JSON Schemas at ingestion."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from mllineage.schemas import schema_url_for_facet_key
from tests.collector.events import PRODUCER, dataset, run_event


def model_facet(**fields: object) -> dict[str, object]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": schema_url_for_facet_key("mllineage_model"),
        **fields,
    }


def test_valid_ml_facets_pass_without_warnings(client: TestClient) -> None:
    model = dataset(
        "mlflow://r",
        "churn",
        mllineage_model=model_facet(name="churn", version="2", metrics={"auc": 0.9}),
    )
    response = client.post("/api/v1/lineage", json=run_event("COMPLETE", 1, outputs=[model]))
    assert response.status_code == 201
    assert response.json()["warnings"] == []


def test_invalid_ml_facet_is_stored_with_a_located_warning(
    client: TestClient, engine: Engine
) -> None:
    model = dataset(
        "mlflow://r", "churn", mllineage_model=model_facet(name="churn", metrics="high")
    )
    response = client.post("/api/v1/lineage", json=run_event("COMPLETE", 1, outputs=[model]))
    assert response.status_code == 201
    warnings = response.json()["warnings"]
    locs = {w["loc"] for w in warnings}
    assert "/outputs/0/facets/mllineage_model" in locs  # 'version' is a required property
    assert "/outputs/0/facets/mllineage_model/metrics" in locs
    assert any('"version" is a required property' in w["msg"] for w in warnings)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM lineage_events")).scalar_one() == 1


def test_strict_mode_rejects_invalid_ml_facets(engine: Engine, database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, strict_validation=True), engine=engine)
    model = dataset("mlflow://r", "churn", mllineage_model=model_facet(name="churn"))
    with TestClient(app) as strict:
        response = strict.post("/api/v1/lineage", json=run_event("COMPLETE", 1, outputs=[model]))
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == "/outputs/0/facets/mllineage_model"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM lineage_events")).scalar_one() == 0
