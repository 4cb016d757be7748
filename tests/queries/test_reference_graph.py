"""Every ML question against the hand-built reference graph (``reference_graph.py``), whose
answers are worked out by hand in the comments. Runs on SQLite and PostgreSQL.

The current graph (each job's edges from its latest completed run) is:

    ingest_clicks -> S3                      fp_customers: S1, S2 -> FG_C
    fp_activity: HIVE(=S3), S2 -> FG_A       trainset: FG_C, FG_A -> TS      (nobody reads TS now)
    train (run 2): FG_A -> MODEL             deploy: MODEL -> ENDPOINT       log: ENDPOINT -> PRED
    feedback: PRED -> FG_A (cycle)           report_i: S2 -> R_i (i = 1..5, the fan-out hub)
"""

from __future__ import annotations

import itertools
from dataclasses import fields
from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from mllineage.collector.schemas import ml
from mllineage.collector.schemas.lineage import Answer, NodeView, PagedAnswer
from tests.queries.reference_graph import (
    ENDPOINT,
    FG_A,
    FG_C,
    GLUE,
    HIVE,
    MODEL,
    PRED,
    REPORTS,
    RUN,
    S1,
    S2,
    S3,
    TS,
    dataset_id,
    field_id,
    job_id,
)

ROW_MODELS: dict[str, type[Any]] = {
    "lineage": ml.LineageRow,
    "sources": ml.SourceRow,
    "feature-groups": ml.FeatureGroupRow,
    "models": ml.ModelRow,
    "model-lineage": ml.ChainRow,
    "impact": ml.ImpactRow,
    "governance/tagged": ml.TaggedRow,
    "audit": ml.AuditRow,
    "feature-lineage": ml.FeatureLineageRow,
}
PAGED = {"impact", "governance/tagged"}


def ask(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    """GET an ML question; the body must match the route's declared response model exactly, and
    be what that model's own serialiser makes of it."""
    response = client.get(f"/api/v1/ml/{path}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    row_model = ROW_MODELS[path]
    declared: TypeAdapter[Any]
    if path in PAGED:
        declared = TypeAdapter(PagedAnswer[row_model])  # type: ignore[valid-type]
        assert set(body) == {"rows", "graph", "truncated", "total_count"}
    else:
        declared = TypeAdapter(Answer[row_model])  # type: ignore[valid-type]
        assert set(body) == {"rows", "graph", "truncated"}
    assert declared.dump_json(declared.validate_json(response.content)) == response.content
    for row in body["rows"]:
        assert set(row) == {f.name for f in fields(row_model)}
    for node in body["graph"]["nodes"]:
        assert set(node) == {f.name for f in fields(NodeView)}
    return body


def by_node(rows: list[dict[str, Any]], key: str = "depth") -> dict[str, Any]:
    return {row["node_id"]: row[key] for row in rows}


def check_graph_holds_paths(body: dict[str, Any]) -> None:
    """Every evidence path runs along edges of the returned graph."""
    edges = {(e["origin"], e["destination"]) for e in body["graph"]["edges"]}
    nodes = {n["id"] for n in body["graph"]["nodes"]}
    for row in body["rows"]:
        path = row["path"]
        assert set(path) <= nodes, path
        assert all((a, b) in edges for a, b in itertools.pairwise(path)), path


def test_upstream_lineage_is_directed_and_counts_hops(ref: TestClient) -> None:
    body = ask(ref, "lineage", nodeId=dataset_id(MODEL), direction="upstream")
    # MODEL <- train(1) <- FG_A(2) <- fp_activity, feedback(3) <- S3 (via HIVE), S2, PRED(4)
    # <- ingest_clicks, log_predictions(5) <- ENDPOINT(6) <- deploy(7) <- MODEL (visited: cycle).
    assert by_node(body["rows"]) == {
        job_id("train"): 1,
        dataset_id(FG_A): 2,
        job_id("fp_activity"): 3,
        job_id("feedback"): 3,
        dataset_id(S3): 4,
        dataset_id(S2): 4,
        dataset_id(PRED): 4,
        job_id("ingest_clicks"): 5,
        job_id("log_predictions"): 5,
        dataset_id(ENDPOINT): 6,
        job_id("deploy"): 7,
    }
    assert {r["direction"] for r in body["rows"]} == {"upstream"}
    assert by_node(body["rows"], "run_id")[job_id("train")] == RUN["train_2"]
    assert body["truncated"] is False
    check_graph_holds_paths(body)


def test_depth_limits_hops(ref: TestClient) -> None:
    body = ask(ref, "lineage", nodeId=dataset_id(MODEL), direction="upstream", depth=2)
    assert by_node(body["rows"]) == {job_id("train"): 1, dataset_id(FG_A): 2}
    assert ask(ref, "lineage", nodeId=dataset_id(MODEL), depth=0)["rows"] == []


def test_both_directions_never_reach_siblings(ref: TestClient) -> None:
    # FG_C: upstream fp_customers(1), S1 and S2(2); downstream trainset(1), TS(2).
    # S2's other consumers (fp_activity, report_i) are siblings, not lineage of FG_C.
    body = ask(ref, "lineage", nodeId=dataset_id(FG_C), direction="both")
    assert by_node(body["rows"], "direction") == {
        job_id("fp_customers"): "upstream",
        dataset_id(S1): "upstream",
        dataset_id(S2): "upstream",
        job_id("trainset"): "downstream",
        dataset_id(TS): "downstream",
    }


def test_cycle_is_walked_once(ref: TestClient) -> None:
    # Downstream of MODEL: deploy(1) ENDPOINT(2) log(3) PRED(4) feedback(5) FG_A(6) then
    # train(7) back to MODEL (already visited) and trainset(7) -> TS(8).
    body = ask(ref, "lineage", nodeId=dataset_id(MODEL), direction="downstream")
    assert by_node(body["rows"]) == {
        job_id("deploy"): 1,
        dataset_id(ENDPOINT): 2,
        job_id("log_predictions"): 3,
        dataset_id(PRED): 4,
        job_id("feedback"): 5,
        dataset_id(FG_A): 6,
        job_id("train"): 7,
        job_id("trainset"): 7,
        dataset_id(TS): 8,
    }
    edges = {(e["origin"], e["destination"]) for e in body["graph"]["edges"]}
    assert (job_id("train"), dataset_id(MODEL)) in edges  # the edge closing the cycle is kept


def test_node_cap_truncates(ref: TestClient) -> None:
    body = ask(ref, "impact", nodeId=dataset_id(S2), maxNodes=5)
    assert body["truncated"] is True
    assert len(body["graph"]["nodes"]) == 5


def test_symlink_ids_resolve_to_the_same_node(ref: TestClient) -> None:
    # HIVE is read by fp_activity; S3 (which declares HIVE and GLUE as symlinks) is written by
    # ingest_clicks. Upstream of either name (or the GLUE name nobody stores) is ingest_clicks.
    for node in (dataset_id(HIVE), dataset_id(S3), dataset_id(GLUE)):
        body = ask(ref, "lineage", nodeId=node, direction="upstream")
        assert by_node(body["rows"]) == {job_id("ingest_clicks"): 1}, node
    down = ask(ref, "lineage", nodeId=dataset_id(GLUE), direction="downstream", depth=2)
    assert by_node(down["rows"]) == {job_id("fp_activity"): 1, dataset_id(FG_A): 2}


def test_sources(ref: TestClient) -> None:
    # Raw sources = datasets with no producer, or only input-less producers (S3 <- ingest).
    # MODEL: S2 and S3 at 4 hops (PRED is produced from ENDPOINT: not raw).
    body = ask(ref, "sources", nodeId=dataset_id(MODEL))
    assert by_node(body["rows"]) == {dataset_id(S2): 4, dataset_id(S3): 4}
    assert by_node(body["rows"], "path")[dataset_id(S3)] == [
        dataset_id(S3),
        job_id("fp_activity"),
        dataset_id(FG_A),
        job_id("train"),
        dataset_id(MODEL),
    ]
    check_graph_holds_paths(body)
    # FG_C is built from S1 and S2 (diamond member: S2 also feeds FG_A).
    assert by_node(ask(ref, "sources", nodeId=dataset_id(FG_C))["rows"]) == {
        dataset_id(S1): 2,
        dataset_id(S2): 2,
    }


def test_feature_groups_both_directions(ref: TestClient) -> None:
    # Built from S2 (downstream): FG_C and FG_A, two hops each.
    body = ask(ref, "feature-groups", nodeId=dataset_id(S2), direction="downstream")
    rows = {r["node_id"]: r for r in body["rows"]}
    assert set(rows) == {dataset_id(FG_C), dataset_id(FG_A)}
    assert rows[dataset_id(FG_C)]["features"] == ["email_domain", "age", "total_spend"]
    assert rows[dataset_id(FG_C)]["owners"] == ["team:features"]
    assert rows[dataset_id(FG_A)]["feature_store"] == "feast"  # the feast_featureView facet
    assert rows[dataset_id(FG_A)]["feature_group"] == "activity_features"
    # The model depends on (upstream): FG_A only, since run 2 retrained it on FG_A alone.
    up = ask(ref, "feature-groups", nodeId=dataset_id(MODEL), direction="upstream")
    assert by_node(up["rows"]) == {dataset_id(FG_A): 2}


def test_models_with_versions_and_endpoints(ref: TestClient) -> None:
    body = ask(ref, "models", nodeId=dataset_id(FG_A))
    [row] = body["rows"]
    assert row["node_id"] == dataset_id(MODEL)
    assert row["model_name"] == "churn"
    assert row["current_version"] == "2"  # the version the walked (current) train run produced
    assert row["run_id"] == RUN["train_2"]
    assert row["versions"] == ["2", "1"]
    # The endpoint's deployment run read version 1.
    assert row["endpoints"] == [
        {
            "node_id": dataset_id(ENDPOINT),
            "name": "churn-endpoint",
            "model_version": "1",
            "status": "InService",
            "until": None,  # a dataset node of the current graph, not a version
        }
    ]
    assert row["depth"] == 2


def test_impact_grouped_by_kind_with_owners_and_last_run(ref: TestClient) -> None:
    body = ask(ref, "impact", nodeId=dataset_id(S2))
    rows = body["rows"]
    kinds = [r["kind"] for r in rows]
    order = ["dataset", "feature_group", "model", "endpoint", "job"]
    assert kinds == sorted(kinds, key=order.index)  # grouped, in this order
    by_kind: dict[str, set[str]] = {}
    for row in rows:
        by_kind.setdefault(row["kind"], set()).add(row["node_id"])
    assert by_kind == {
        "dataset": {dataset_id(r) for r in REPORTS} | {dataset_id(TS), dataset_id(PRED)},
        "feature_group": {dataset_id(FG_A), dataset_id(FG_C)},
        "model": {dataset_id(MODEL)},
        "endpoint": {dataset_id(ENDPOINT)},
        "job": {job_id(f"report_{i}") for i in range(1, 6)}
        | {job_id(j) for j in ("fp_activity", "fp_customers", "trainset", "train")}
        | {job_id(j) for j in ("deploy", "log_predictions", "feedback")},
    }
    index = {r["node_id"]: r for r in rows}
    assert index[dataset_id(MODEL)]["owners"] == ["team:ml-platform"]
    assert index[dataset_id(MODEL)]["last_run_id"] == RUN["train_2"]
    assert index[dataset_id(MODEL)]["depth"] == 4  # S2 > fp_activity > FG_A > train > MODEL
    assert index[job_id("train")]["owners"] == ["team:data-science"]
    # FG_A has two writers in the graph; its last run is the later one (feedback, t17).
    assert index[dataset_id(FG_A)]["last_run_id"] == RUN["feedback"]
    assert index[dataset_id(FG_A)]["last_run_state"] == "COMPLETE"
    check_graph_holds_paths(body)
    models_only = ask(ref, "impact", nodeId=dataset_id(S2), kinds="model,endpoint")["rows"]
    assert [r["node_id"] for r in models_only] == [dataset_id(MODEL), dataset_id(ENDPOINT)]


def test_governance_set_query(ref: TestClient) -> None:
    # Today: no model or endpoint has S1 (pii email) upstream; S2's pii=false is not PII.
    assert ask(ref, "governance/tagged", tag="pii")["rows"] == []
    # gdpr is on S3, which fp_activity reads under its Hive name: MODEL (4 hops), ENDPOINT (6).
    body = ask(ref, "governance/tagged", tag="gdpr")
    assert [(r["node_id"], r["depth"], r["tagged_node_id"]) for r in body["rows"]] == [
        (dataset_id(MODEL), 4, dataset_id(S3)),
        (dataset_id(ENDPOINT), 6, dataset_id(S3)),
    ]
    assert body["rows"][0]["tagged_fields"] == [""]
    assert body["rows"][0]["tag_values"] == ["consent-required"]
    check_graph_holds_paths(body)
    # Asking for the negative value explicitly finds S2's downstream models.
    explicit = ask(ref, "governance/tagged", tag="pii:false")["rows"]
    assert {r["node_id"] for r in explicit} == {dataset_id(MODEL), dataset_id(ENDPOINT)}


def test_governance_over_all_versions(ref: TestClient) -> None:
    # Every model version and deployment ever built on S1.email (pinned runs and versions):
    # v1 via FG_C -> TS (6 hops); the endpoint deployment of v1 (8); v2 too, through the
    # feedback loop (v1 predictions -> PRED -> FG_A -> v2: 14 hops).
    body = ask(ref, "governance/tagged", tag="pii", scope="versions")
    deploy_version = dataset_id(ENDPOINT, RUN["deploy"])
    assert by_node(body["rows"]) == {
        dataset_id(MODEL, "1"): 6,
        dataset_id(MODEL, "2"): 14,
        deploy_version: 8,
    }
    assert {r["tagged_node_id"] for r in body["rows"]} == {dataset_id(S1)}
    assert {tuple(r["tagged_fields"]) for r in body["rows"]} == {("email",)}
    check_graph_holds_paths(body)


def test_wide_answers_are_paged_in_their_order(ref: TestClient) -> None:
    # Impact of S2 has 24 rows and pii:false has 2 tagged rows; pages of 5 (and of 1) put
    # back together are the whole answer, each page counts all rows and holds its own paths.
    for path, params in (
        ("impact", {"nodeId": dataset_id(S2)}),
        ("governance/tagged", {"tag": "pii:false"}),
        ("governance/tagged", {"tag": "pii", "scope": "versions"}),
    ):
        whole = ask(ref, path, **params)
        total = len(whole["rows"])
        assert whole["total_count"] == total > 1
        for size in (1, 5):
            pages = [
                ask(ref, path, limit=size, offset=offset, **params)
                for offset in range(0, total + size, size)
            ]
            assert [row for page in pages for row in page["rows"]] == whole["rows"]
            assert {page["total_count"] for page in pages} == {total}
            assert pages[-1]["rows"] == []
            for page in pages:
                check_graph_holds_paths(page)
                shown = {node["id"] for node in page["graph"]["nodes"]}
                assert {row["node_id"] for row in page["rows"]} <= shown
    one = ask(ref, "impact", nodeId=dataset_id(S2), limit=1)
    assert len(one["graph"]["nodes"]) < len(
        ask(ref, "impact", nodeId=dataset_id(S2))["graph"]["nodes"]
    )


def test_page_parameters_are_checked(ref: TestClient) -> None:
    for params in ({"limit": 0}, {"limit": 1_000_001}, {"offset": -1}, {"limit": "all"}):
        response = ref.get("/api/v1/ml/governance/tagged", params={"tag": "pii", **params})
        assert response.status_code == 400, response.text
        assert response.json()["details"][0]["loc"] == f"/query/{next(iter(params))}"


def test_audit_of_a_model_version(ref: TestClient) -> None:
    [row] = ask(ref, "audit", nodeId=dataset_id(MODEL, "1"))["rows"]
    assert row["version"] == "1"
    assert row["run_id"] == RUN["train_1"]
    assert row["run_state"] == "COMPLETE"
    assert row["job_node_id"] == job_id("train")
    assert row["started_at"] == "2024-05-01T12:08:00Z"
    assert row["ended_at"] == "2024-05-01T12:10:00Z"
    # The code as run 1 reported it, not the job's current code (def456, from run 2).
    assert row["code_location"]["version"] == "abc123"
    assert row["parameters"] == {"max_depth": 4, "lr": 0.1}
    assert row["metrics"] == {"auc": 0.81, "loss": 0.3}
    assert row["owners"] == ["team:data-science", "team:ml-platform"]
    assert [(i["node_id"], i["producing_run_id"]) for i in row["inputs"]] == [
        (dataset_id(TS, RUN["trainset"]), RUN["trainset"])
    ]
    assert [e["event_type"] for e in row["events"]] == ["START", "COMPLETE"]
    assert row["events"][1]["payload"]["run"]["runId"] == RUN["train_1"]
    # No version: the newest, v2, with its own run and code.
    [latest] = ask(ref, "audit", nodeId=dataset_id(MODEL))["rows"]
    assert (latest["version"], latest["run_id"]) == ("2", RUN["train_2"])
    assert latest["code_location"]["version"] == "def456"
    assert [i["node_id"] for i in latest["inputs"]] == [dataset_id(FG_A, RUN["feedback"])]


def test_feature_lineage(ref: TestClient) -> None:
    # FG_A.order_count <- S2.id; it flows on into TS.order_count; MODEL consumes it today
    # (its current facet lists order_count among its features and it is downstream of FG_A).
    body = ask(ref, "feature-lineage", nodeId=field_id(FG_A, "order_count"))
    rows = {(r["role"], r["node_id"]): r for r in body["rows"]}
    assert set(rows) == {
        ("feature", field_id(FG_A, "order_count")),
        ("source", field_id(S2, "id")),
        ("downstream", field_id(TS, "order_count")),
        ("consumer", dataset_id(MODEL)),
    }
    assert rows[("source", field_id(S2, "id"))]["transformations"] == [
        {"type": "DIRECT", "subtype": "TRANSFORMATION"}
    ]
    assert rows[("consumer", dataset_id(MODEL))]["evidence"] == "model_features"
    # The PII path: FG_C.email_domain <- S1.email, on into TS.email_domain; no model reads TS
    # today, so no consumer (see test_as_of for the answer before the retraining).
    pii = ask(ref, "feature-lineage", nodeId=field_id(FG_C, "email_domain"))
    assert {(r["role"], r["node_id"]) for r in pii["rows"]} == {
        ("feature", field_id(FG_C, "email_domain")),
        ("source", field_id(S1, "email")),
        ("downstream", field_id(TS, "email_domain")),
    }


def test_errors_are_clear(ref: TestClient) -> None:
    missing = ref.get("/api/v1/ml/lineage", params={"nodeId": "dataset:nope:nothing"})
    assert missing.status_code == 404
    assert "no dataset" in missing.json()["error"]
    bad = ref.get("/api/v1/ml/lineage", params={"nodeId": "table:x:y"})
    assert bad.status_code == 400
    kinds = ref.get("/api/v1/ml/impact", params={"nodeId": dataset_id(S2), "kinds": "cars"})
    assert kinds.status_code == 400
    version = ref.get("/api/v1/ml/audit", params={"nodeId": dataset_id(MODEL), "version": "9"})
    assert version.status_code == 404
