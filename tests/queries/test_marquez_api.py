"""Marquez-compatible reads: response shapes as in Marquez's documented fixtures, URL-encoded
namespaces and names (``%2F`` included), paging, events and search."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.collector.events import dataset, facet, run_event
from tests.queries.conftest import ingest
from tests.queries.reference_graph import (
    FG_C,
    GLUE,
    HIVE,
    JOBS,
    LAKE,
    MODEL,
    RUN,
    S1,
    S3,
    TS,
    dataset_id,
    field_id,
    job_id,
)

# Keys of Marquez's own fixtures: api/src/test/resources/lineage/node.json (a lineage node and
# its dataset data) and column_lineage/node.json (a column lineage node).
LINEAGE_NODE_KEYS = {"id", "type", "data", "inEdges", "outEdges"}
DATASET_DATA_KEYS = {
    "id",
    "type",
    "name",
    "physicalName",
    "createdAt",
    "updatedAt",
    "namespace",
    "sourceName",
    "fields",
    "tags",
    "lastModifiedAt",
    "description",
}
FIELD_KEYS = {"name", "type", "tags", "description"}
COLUMN_DATA_KEYS = {
    "namespace",
    "dataset",
    "field",
    "fieldType",
    "transformationDescription",
    "transformationType",
    "inputFields",
}
# Marquez's job JSON (service/models/Job.java) and run JSON (Run.java).
JOB_KEYS = {
    "id",
    "type",
    "name",
    "simpleName",
    "parentJobName",
    "createdAt",
    "updatedAt",
    "namespace",
    "inputs",
    "outputs",
    "location",
    "context",
    "description",
    "latestRun",
    "facets",
    "currentVersion",
}
RUN_KEYS = {
    "id",
    "createdAt",
    "updatedAt",
    "nominalStartTime",
    "nominalEndTime",
    "state",
    "startedAt",
    "endedAt",
    "durationMs",
    "args",
    "jobVersion",
    "inputVersions",
    "outputVersions",
    "context",
    "facets",
}


def enc(text: str) -> str:
    return quote(text, safe="")


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_lineage_graph_has_marquez_shape(ref: TestClient) -> None:
    body = get(ref, "/api/v1/lineage", nodeId=dataset_id(FG_C), depth=2)
    assert set(body) == {"graph"}
    nodes = {node["id"]: node for node in body["graph"]}
    # FG_C <- fp_customers <- S1, S2 and FG_C -> trainset -> TS, two hops each way.
    assert set(nodes) == {
        dataset_id(FG_C),
        job_id("fp_customers"),
        dataset_id(S1),
        "dataset:postgres://db.example.com:5432:public.orders",
        job_id("trainset"),
        dataset_id(TS),
    }
    for node in nodes.values():
        assert set(node) == LINEAGE_NODE_KEYS
        assert node["type"] == ("JOB" if node["id"].startswith("job:") else "DATASET")
        for edge in node["inEdges"] + node["outEdges"]:
            assert set(edge) == {"origin", "destination"}
    fg = nodes[dataset_id(FG_C)]
    assert set(fg["data"]) >= DATASET_DATA_KEYS
    assert all(set(f) == FIELD_KEYS for f in fg["data"]["fields"])
    assert fg["inEdges"] == [{"origin": job_id("fp_customers"), "destination": dataset_id(FG_C)}]
    assert fg["outEdges"] == [{"origin": dataset_id(FG_C), "destination": job_id("trainset")}]
    job = nodes[job_id("fp_customers")]["data"]
    assert set(job) >= JOB_KEYS
    assert set(job["latestRun"]) >= RUN_KEYS
    assert job["latestRun"]["state"] == "COMPLETED"


def test_lineage_accepts_run_and_versioned_ids(ref: TestClient) -> None:
    from_run = get(ref, "/api/v1/lineage", nodeId=f"run:{RUN['train_1']}", depth=1)
    assert job_id("train") in {n["id"] for n in from_run["graph"]}
    versioned = get(ref, "/api/v1/lineage", nodeId=dataset_id(MODEL, "1"), depth=1)
    assert dataset_id(MODEL) in {n["id"] for n in versioned["graph"]}


def test_column_lineage_has_marquez_shape(ref: TestClient) -> None:
    body = get(ref, "/api/v1/column-lineage", nodeId=field_id(TS, "email_domain"), depth=10)
    nodes = {node["id"]: node for node in body["graph"]}
    # TS.email_domain <- FG_C.email_domain <- S1.email
    assert set(nodes) == {
        field_id(TS, "email_domain"),
        field_id(FG_C, "email_domain"),
        field_id(S1, "email"),
    }
    middle = nodes[field_id(FG_C, "email_domain")]
    assert set(middle) == LINEAGE_NODE_KEYS
    assert middle["type"] == "DATASET_FIELD"
    assert set(middle["data"]) >= COLUMN_DATA_KEYS
    assert middle["data"]["fieldType"] == "string"
    assert middle["data"]["inputFields"] == [
        {
            "namespace": S1[0],
            "dataset": S1[1],
            "datasetVersion": None,
            "field": "email",
            "transformationDescription": None,
            "transformationType": "DIRECT/TRANSFORMATION",
        }
    ]
    assert middle["inEdges"] == [
        {"origin": field_id(S1, "email"), "destination": field_id(FG_C, "email_domain")}
    ]
    assert middle["outEdges"] == [
        {"origin": field_id(FG_C, "email_domain"), "destination": field_id(TS, "email_domain")}
    ]
    shallow = get(ref, "/api/v1/column-lineage", nodeId=field_id(TS, "email_domain"), depth=1)
    assert len(shallow["graph"]) == 2  # depth counts column hops


def test_encoded_namespaces_and_names_round_trip(ref: TestClient) -> None:
    base = f"/api/v1/namespaces/{enc(LAKE)}/datasets/{enc(S3[1])}"
    assert "%2F" in base
    assert get(ref, base)["id"] == {"namespace": LAKE, "name": S3[1]}
    assert get(ref, f"/api/v1/namespaces/{enc(HIVE[0])}")["name"] == HIVE[0]
    assert get(ref, f"/api/v1/namespaces/{enc(GLUE[0])}/datasets/{enc(GLUE[1])}")["name"] == S3[1]
    versions = get(ref, f"/api/v1/namespaces/{enc(MODEL[0])}/datasets/{enc(MODEL[1])}/versions")
    assert versions["totalCount"] == 2
    missing = ref.get(f"/api/v1/namespaces/{enc('s3://nowhere')}/datasets")
    assert missing.status_code == 404


def test_names_that_look_like_routes(client: TestClient) -> None:
    # A dataset literally named "exports/versions" in namespace "s3://b/x": encoded, it is a
    # dataset, not the versions list of "exports".
    ingest(
        client,
        [
            run_event(
                "COMPLETE",
                1,
                job=("ns", "exporter"),
                outputs=[
                    dataset("s3://b/x", "exports/versions", version=facet(datasetVersion="7")),
                    dataset("s3://b/x", "exports"),
                ],
            )
        ],
    )
    found = get(client, f"/api/v1/namespaces/{enc('s3://b/x')}/datasets/{enc('exports/versions')}")
    assert found["name"] == "exports/versions"
    assert found["currentVersion"] == "7"
    listed = get(client, f"/api/v1/namespaces/{enc('s3://b/x')}/datasets/exports/versions")
    assert listed["totalCount"] == 1  # the run-id version of "exports"


def test_jobs_runs_and_facets(ref: TestClient) -> None:
    jobs = get(ref, f"/api/v1/namespaces/{JOBS}/jobs", limit=3, offset=0)
    assert jobs["totalCount"] == 13
    assert [j["name"] for j in jobs["jobs"]] == ["deploy", "feedback", "fp_activity"]
    runs = get(ref, f"/api/v1/namespaces/{JOBS}/jobs/train/runs", limit=1)
    assert (runs["totalCount"], [r["id"] for r in runs["runs"]]) == (2, [RUN["train_2"]])
    run_facets = get(ref, f"/api/v1/jobs/runs/{RUN['train_1']}/facets")
    assert run_facets["runId"] == RUN["train_1"]
    assert set(run_facets["facets"]) == {"mllineage_training"}
    job_facets = get(ref, f"/api/v1/jobs/runs/{RUN['train_1']}/facets", type="job")
    assert job_facets["facets"]["sourceCodeLocation"]["version"] == "abc123"
    assert ref.get("/api/v1/jobs/runs/00000000-0000-4000-8000-0000000000ff").status_code == 404


def test_events_paging_and_time_filters(ref: TestClient) -> None:
    page = get(ref, "/api/v1/events/lineage", limit=3, sortDirection="asc")
    assert page["totalCount"] == 28  # 14 runs x START + COMPLETE
    assert [e["eventTime"] for e in page["events"]] == [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:01:00Z",
        "2024-05-01T12:02:00Z",
    ]
    newest = get(ref, "/api/v1/events/lineage", limit=1)
    assert newest["events"][0]["eventTime"] == "2024-05-01T12:31:00Z"  # desc by default
    window = get(
        ref,
        "/api/v1/events/lineage",
        after="2024-05-01T12:08:00Z",
        before="2024-05-01T12:10:00Z",
        sortDirection="asc",
    )
    assert [(e["eventType"], e["job"]["name"]) for e in window["events"]] == [("COMPLETE", "train")]
    assert window["totalCount"] == 1


def test_search(ref: TestClient) -> None:
    found = get(ref, "/api/v1/search", q="CHURN", filter="dataset")
    assert found["totalCount"] == 4
    assert set(found["results"][0]) == {"type", "name", "updatedAt", "namespace", "nodeId"}
    assert {r["nodeId"] for r in found["results"]} >= {dataset_id(MODEL), dataset_id(TS)}
    jobs = get(ref, "/api/v1/search", q="report_%", filter="JOB", limit=2)
    assert (jobs["totalCount"], len(jobs["results"])) == (5, 2)
    assert jobs["results"][0]["nodeId"] == job_id("report_1")
    newest = get(ref, "/api/v1/search", q="churn", sort="UPDATE_AT")
    assert newest["results"][0]["nodeId"] == dataset_id(MODEL)  # written last (t22)
    assert ref.get("/api/v1/search", params={"q": "x", "filter": "model"}).status_code == 400
