"""The in-database projection (PostgreSQL) follows the fold's Feast rules: the same Feast-shaped
events leave the same ``dataset_tags`` rows and dataset kinds either way (``dataset_tags.py``,
``fold.dataset_kind``; the events mirror what Feast 0.67's emitter sends, plus edge cases)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text

from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.ingest.pg_projection import project_in_database
from mllineage.collector.ingest.store import store_events
from mllineage.collector.ingest.store.context import StoreContext
from mllineage.collector.ingest.store.raw_log import insert_raw
from mllineage.collector.ingest.validate import EventValidator
from tests.conftest import empty_database

NS = "feast://acme/churn"
CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FEAST = {"_producer": "feast", "_schemaURL": "https://feast.dev/spec/facets/1-0-0/Feast.json"}
STANDARD = {"_producer": "feast", "_schemaURL": "https://openlineage.io/spec/facets/x.json"}


def _dataset(name: str, **facets: dict[str, Any]) -> dict[str, Any]:
    return {"namespace": NS, "name": name, "facets": facets}


def _event(run: str, at: str, inputs: list[Any], outputs: list[Any]) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": at,
        "producer": "feast",  # Feast 0.67 sends a plain string
        "schemaURL": CORE,
        "run": {"runId": run},
        "job": {"namespace": NS, "name": "feast_feature_views_churn"},
        "inputs": inputs,
        "outputs": outputs,
    }


def feast_events() -> list[dict[str, Any]]:
    described = [
        {
            "name": "email_domain",
            "type": "String",
            "description": "d [Tags: pii=true] [Tags: a = b=c ,noeq, =x]",
        },
        {"name": "tenure_days", "type": "Int64"},
    ]
    entity = _dataset("customer", feast_entity={**FEAST, "name": "customer", "tags": {}})
    source = _dataset("profile_source", feast_dataSource={**FEAST, "tags": {"pii": True, "n": 1}})
    view = _dataset(
        "customer_profile",
        feast_featureView={**FEAST, "name": "customer_profile", "tags": {"pii": "true", "x": None}},
        schema={**STANDARD, "fields": described},
    )
    service = _dataset(
        "churn_v1",
        feast_featureService={**FEAST, "name": "churn_v1", "tags": {}},
        schema={**STANDARD, "fields": described[:2]},
    )
    retagged = _dataset(
        "customer_profile",
        tags={**STANDARD, "tags": [{"key": "pii", "value": "true", "source": "CRM"}]},
        feast_entity={**FEAST, "name": "odd"},
    )
    untagged = _dataset("churn_v1", schema={**STANDARD, "fields": [{"name": "plain"}]})
    return [
        _event(
            "3f1c1d9e-0000-4000-8000-000000000001",
            "2024-06-01T09:00:00Z",
            [entity, source],
            [view, service],
        ),
        _event(
            "3f1c1d9e-0000-4000-8000-000000000002", "2024-06-01T10:00:00Z", [], [retagged, untagged]
        ),
    ]


def _snapshot(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        tags = conn.execute(
            text(
                "SELECT d.name, t.field, t.key, t.value, t.source FROM dataset_tags t"
                " JOIN datasets d ON d.id = t.dataset_id ORDER BY 1, 2, 3, 4"
            )
        )
        kinds = conn.execute(text("SELECT name, kind FROM datasets ORDER BY name"))
        return [tuple(r) for r in tags], [tuple(r) for r in kinds]


def test_feast_tags_and_kinds_are_the_same_in_sql_and_in_the_fold(postgres_database: str) -> None:
    engine = make_engine(postgres_database, pool_size=1)
    upgrade(engine)
    validator = EventValidator()
    now = datetime(2024, 6, 2, tzinfo=UTC)
    try:
        empty_database(engine)
        for payload in feast_events():  # one batch per event, as two requests would
            with engine.begin() as conn:
                store_events(conn, [validator.validate(payload)], received_at=now)
        folded = _snapshot(engine)

        empty_database(engine)
        for payload in feast_events():
            parsed = validator.validate(payload)
            with engine.begin() as conn:
                insert_raw(StoreContext.open(conn, None), [parsed], now)
                assert project_in_database(conn, [parsed.digest], now=now) == 1
        in_sql = _snapshot(engine)
    finally:
        engine.dispose()

    assert in_sql == folded
    tags, kinds = folded
    assert dict(kinds) == {
        "churn_v1": "feature_group",
        "customer": "entity",
        "customer_profile": "feature_group",
        "profile_source": "dataset",
    }
    assert tags == [
        ("customer_profile", "", "pii", "true", "CRM"),
        ("customer_profile", "email_domain", "a", "b=c", "FEAST"),
        ("customer_profile", "email_domain", "pii", "true", "FEAST"),
        ("profile_source", "", "n", "1", "FEAST"),
        ("profile_source", "", "pii", "true", "FEAST"),
    ]
