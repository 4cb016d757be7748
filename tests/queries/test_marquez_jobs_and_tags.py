"""Marquez's all-namespace job list and its tag routes (tag writes become DatasetEvents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.collector.events import PRODUCER, SCHEMA_URL, at, dataset, facet, run_event
from tests.queries.conftest import ingest
from tests.queries.marquez_spec import validate

CUSTOMERS = ("postgres://crm:5432", "public.customers")
PATH = "/api/v1/namespaces/postgres%3A%2F%2Fcrm%3A5432/datasets/public.customers"


def _customers() -> dict[str, Any]:
    return dataset(
        *CUSTOMERS,
        schema=facet(fields=[{"name": "id", "type": "int"}, {"name": "email", "type": "str"}]),
        tags=facet(tags=[{"key": "pii", "value": "true", "field": "email"}]),
    )


def test_all_jobs_filter_by_latest_run_state(client: TestClient, shared_dir: Path) -> None:
    static_job = {
        "eventTime": at(0),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL.replace("RunEvent", "JobEvent"),
        "job": {"namespace": "b", "name": "static", "facets": {}},
        "inputs": [],
        "outputs": [],
    }
    ingest(
        client,
        [
            run_event("COMPLETE", 1, job=("a", "load"), outputs=[_customers()]),
            run_event("START", 2, job=("b", "score"), inputs=[_customers()]),
            run_event("FAIL", 3, job=("b", "score"), inputs=[_customers()]),
            static_job,
        ],
    )
    everything = client.get("/api/v1/jobs").json()
    validate(shared_dir, "JobList", everything)
    assert [j["id"] for j in everything["jobs"]] == [
        {"namespace": "a", "name": "load"},
        {"namespace": "b", "name": "score"},
        {"namespace": "b", "name": "static"},
    ]
    assert everything["totalCount"] == 3
    failed = client.get("/api/v1/jobs", params={"lastRunStates": "FAILED"}).json()
    assert [j["name"] for j in failed["jobs"]] == ["score"]
    assert failed["jobs"][0]["latestRun"]["state"] == "FAILED"
    several = client.get(
        "/api/v1/jobs", params=[("lastRunStates", "COMPLETED"), ("lastRunStates", "FAILED")]
    ).json()
    assert several["totalCount"] == 2
    paged = client.get("/api/v1/jobs", params={"limit": 1, "offset": 1}).json()
    assert [j["name"] for j in paged["jobs"]] == ["score"]
    assert paged["totalCount"] == 3
    bad = client.get("/api/v1/jobs", params={"lastRunStates": "DONE"})
    assert bad.status_code == 400
    assert "DONE" in bad.json()["error"]


def _field_tags(answer: dict[str, Any], field: str) -> list[str]:
    [found] = [f for f in answer["fields"] if f["name"] == field]
    tags: list[str] = found["tags"]
    return tags


def test_tag_writes_are_dataset_events_and_tags_are_listed(
    client: TestClient, shared_dir: Path
) -> None:
    ingest(client, [run_event("COMPLETE", 1, job=("a", "load"), outputs=[_customers()])])
    assert client.get("/api/v1/tags").json() == {"tags": [{"name": "pii", "description": None}]}

    tagged = client.post(f"{PATH}/tags/gdpr")
    assert tagged.status_code == 200
    validate(shared_dir, "Dataset", tagged.json())
    assert tagged.json()["tags"] == ["gdpr"]
    field = client.post(f"{PATH}/fields/email/tags/sensitivity:high").json()
    assert _field_tags(field, "email") == ["pii", "sensitivity:high"]
    assert client.post(f"{PATH}/fields/email/tags/pii").status_code == 200  # already there
    untagged = client.delete(f"{PATH}/fields/email/tags/pii").json()
    assert _field_tags(untagged, "email") == ["sensitivity:high"]
    assert untagged["tags"] == ["gdpr"]

    assert client.post(f"{PATH}/fields/phone/tags/pii").status_code == 404
    assert client.post("/api/v1/namespaces/x/datasets/nope/tags/pii").status_code == 404
    listed = client.get("/api/v1/tags").json()
    validate(shared_dir, "TagList", listed)
    assert [t["name"] for t in listed["tags"]] == ["gdpr", "sensitivity:high"]
    assert client.get("/api/v1/tags/gdpr").json() == {"name": "gdpr", "description": None}
    assert client.get("/api/v1/tags/pii").status_code == 404

    # The audit trail: three DatasetEvents by the collector (the repeated tag wrote nothing).
    events = client.get("/api/v1/events/lineage", params={"sortDirection": "asc"}).json()
    written = [e for e in events["events"] if "run" not in e]
    assert len(written) == 3
    last_tags = written[-1]["dataset"]["facets"]["tags"]["tags"]
    assert {(t["key"], t["value"], t.get("field"), t["source"]) for t in last_tags} == {
        ("gdpr", "true", None, "mllineage-api"),
        ("sensitivity", "high", "email", "mllineage-api"),
    }


def test_v2beta_search_finds_jobs_and_datasets_with_highlights(client: TestClient) -> None:
    load = run_event("COMPLETE", 1, job=("a", "load"), outputs=[_customers()])
    score = run_event(
        "FAIL",
        2,
        job=("b", "score_customers"),
        inputs=[_customers()],
        run_facets={"nominalTime": facet(nominalStartTime=at(2))},
    )
    ingest(client, [load, score])

    datasets = client.get("/api/v2beta/search/datasets", params={"q": "CUSTOM"}).json()
    [hit] = datasets["hits"]
    assert (hit["namespace"], hit["name"]) == CUSTOMERS
    assert (hit["run_id"], hit["eventType"]) == (load["run"]["runId"], "COMPLETE")
    assert [f["name"] for f in hit["facets"]["schema"]["fields"]] == ["id", "email"]
    assert datasets["highlights"] == [{"name": ["public.<em>custom</em>ers"]}]

    jobs = client.get("/api/v2beta/search/jobs", params={"q": "score"}).json()
    [job] = jobs["hits"]
    assert (job["name"], job["namespace"], job["type"]) == ("score_customers", "b", "BATCH")
    assert (job["run_id"], job["eventType"]) == (score["run"]["runId"], "FAIL")
    assert job["runFacets"]["nominalTime"]["nominalStartTime"] == at(2)
    assert jobs["highlights"] == [{"name": ["<em>score</em>_customers"]}]

    by_namespace = client.get("/api/v2beta/search/datasets", params={"q": "crm:5432"}).json()
    assert by_namespace["highlights"] == [{"namespace": ["postgres://<em>crm:5432</em>"]}]
    wildcard = client.get("/api/v2beta/search/jobs", params={"q": "%"}).json()
    assert wildcard == {"hits": [], "highlights": []}
    assert client.get("/api/v2beta/search/jobs").status_code == 400


def test_job_and_dataset_answers_carry_marquez_fields(client: TestClient, shared_dir: Path) -> None:
    source = ("postgres://crm:5432", "public.customers")
    features = dataset(
        "s3://features",
        "customer_profile",
        columnLineage=facet(
            fields={
                "email_domain": {
                    "inputFields": [
                        {
                            **dict(zip(("namespace", "name"), source, strict=True)),
                            "field": "email",
                            "transformations": [
                                {
                                    "type": "DIRECT",
                                    "subtype": "TRANSFORMATION",
                                    "description": "domain",
                                }
                            ],
                        }
                    ]
                },
                "id": {
                    "inputFields": [{"namespace": source[0], "name": source[1], "field": "id"}],
                    "transformationDescription": "identical",
                    "transformationType": "IDENTITY",
                },
            }
        ),
    )
    dag_run = run_event("START", 0, job=("airflow", "dag"))
    task_runs = [
        run_event(
            "COMPLETE",
            minute,
            job=("airflow", "dag.build_features"),
            outputs=[features],
            run_facets={
                "parent": facet(
                    run={"runId": dag_run["run"]["runId"]},
                    job={"namespace": "airflow", "name": "dag"},
                )
            },
            job_facets={
                "tags": facet(
                    tags=[{"key": "team", "value": "ml"}, {"key": "critical", "value": "true"}]
                )
            },
        )
        for minute in range(1, 13)
    ]
    ingest(client, [dag_run, *task_runs])

    job = client.get("/api/v1/namespaces/airflow/jobs/dag.build_features").json()
    validate(shared_dir, "Job", job)
    assert len(job["latestRuns"]) == 10
    assert [r["id"] for r in job["latestRuns"]] == [e["run"]["runId"] for e in task_runs[::-1][:10]]
    assert job["latestRuns"][0] == job["latestRun"]
    assert job["latestRun"]["createdAt"].replace("+00:00", "Z") == at(12), "event time, not ingest"
    # A lineage node carries the job's latest run alone, as Marquez's lineage nodes do.
    graph = client.get("/api/v1/lineage", params={"nodeId": "job:airflow:dag.build_features"})
    node = {n["id"]: n for n in graph.json()["graph"]}["job:airflow:dag.build_features"]
    assert node["data"]["latestRun"] == job["latestRun"]
    assert node["data"]["latestRuns"] == [job["latestRun"]]
    dag = client.get("/api/v1/jobs").json()["jobs"][0]
    assert dag["name"] == "dag"
    assert job["parentJobName"] == "dag"
    assert job["parentJobUuid"] is not None
    assert job["labels"] == ["team:ml", "critical"]
    namespace = client.get("/api/v1/namespaces/airflow").json()
    assert namespace["createdAt"].replace("+00:00", "Z") == at(0), "its first event, not ingest"
    listed = client.get("/api/v1/namespaces").json()["namespaces"]
    assert {n["name"]: n["createdAt"] for n in listed}["airflow"] == namespace["createdAt"]

    answer = client.get("/api/v1/namespaces/s3%3A%2F%2Ffeatures/datasets/customer_profile").json()
    validate(shared_dir, "Dataset", answer)
    assert answer["columnLineage"] == [
        {
            "name": "email_domain",
            "inputFields": [
                {
                    "namespace": source[0],
                    "dataset": source[1],
                    "field": "email",
                    "transformationDescription": "domain",
                    "transformationType": "DIRECT",
                }
            ],
            "transformationDescription": None,
            "transformationType": None,
        },
        {
            "name": "id",
            "inputFields": [
                {
                    "namespace": source[0],
                    "dataset": source[1],
                    "field": "id",
                    "transformationDescription": "identical",
                    "transformationType": "IDENTITY",
                }
            ],
            "transformationDescription": "identical",
            "transformationType": "IDENTITY",
        },
    ]
