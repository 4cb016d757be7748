"""One notion of history: ``scope=current`` (the graph as it stands) vs ``scope=versions``
(every version ever built), on the demo workflow, both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from mllineage.client.demo import NODES, demo_events
from mllineage.collector.schemas.lineage import Answer, PagedAnswer
from mllineage.collector.schemas.ml import FeatureGroupRow, ImpactRow, ModelRow
from tests.queries.ml_answers import ask

CUSTOMERS = "dataset:postgres://crm-db.internal:5432:public.customers"
PROFILE_V1 = NODES["feature_group"] + "#0ffa1da3-f03d-5100-af34-2ba8bd49e9eb"
ENDPOINT_V1 = NODES["endpoint"] + "#ddd2ae46-c361-5599-baab-985d57cfd972"
V2_TRAINED = "2024-06-02T10:00:00Z"  # model v2 replaced v1
V2_DEPLOYED = "2024-06-02T11:12:00Z"  # the endpoint's v2 deployment replaced v1's


@pytest.fixture
def demo(client: TestClient) -> TestClient:
    response = client.post("/api/v1/lineage/batch", json=demo_events())
    assert response.status_code == 200, response.text
    return client


def test_models_built_on_a_feature_group_today_and_ever(demo: TestClient) -> None:
    # Today model v2 reads engagement + support signals only: nothing downstream of the profile.
    assert ask(demo, "models", nodeId=NODES["feature_group"])["rows"] == []
    body = ask(demo, "models", nodeId=NODES["feature_group"], scope="versions")
    rows = TypeAdapter(Answer[ModelRow]).validate_python(body).rows
    assert [(r.node_id, r.current_version, r.until and r.until.isoformat()) for r in rows] == [
        (NODES["model_v1"], "1", V2_TRAINED.replace("Z", "+00:00"))
    ]
    [served] = rows[0].endpoints
    assert (served.node_id, served.model_version) == (ENDPOINT_V1, "1")
    assert served.until is not None
    assert served.until.isoformat() == V2_DEPLOYED.replace("Z", "+00:00")
    assert rows[0].path[0] == PROFILE_V1


def test_impact_of_a_raw_table_reaches_every_model_version_it_fed(demo: TestClient) -> None:
    kinds = "feature_group,model,endpoint"
    today = ask(demo, "impact", nodeId=CUSTOMERS, kinds=kinds)
    assert [r["node_id"] for r in today["rows"]] == [NODES["feature_group"]]
    ever = TypeAdapter(PagedAnswer[ImpactRow]).validate_python(
        ask(demo, "impact", nodeId=CUSTOMERS, kinds=kinds, scope="versions")
    )
    assert [(r.node_id, r.version, r.depth) for r in ever.rows] == [
        (PROFILE_V1, PROFILE_V1.rsplit("#", 1)[1], 2),
        (NODES["model_v1"], "1", 6),
        (ENDPOINT_V1, ENDPOINT_V1.rsplit("#", 1)[1], 8),
    ]


def test_feature_groups_any_model_version_was_built_from(demo: TestClient) -> None:
    today = ask(demo, "feature-groups", nodeId=NODES["model"], direction="upstream")
    ever = ask(
        demo, "feature-groups", nodeId=NODES["model"], direction="upstream", scope="versions"
    )
    names = [
        r.feature_group for r in TypeAdapter(Answer[FeatureGroupRow]).validate_python(ever).rows
    ]
    assert sorted(r["feature_group"] for r in today["rows"]) == ["engagement", "support_signals"]
    assert sorted(names) == ["customer_profile", "engagement", "support_signals"]


def test_tagged_scope_current_is_the_old_graph_scope(demo: TestClient) -> None:
    as_of = "2024-06-01T18:00:00Z"
    current = ask(demo, "governance/tagged", tag="pii", scope="current", asOf=as_of)
    graph = ask(demo, "governance/tagged", tag="pii", scope="graph", asOf=as_of)
    assert current == graph
    assert {r["node_id"] for r in current["rows"]} == {NODES["model"], NODES["endpoint"]}
