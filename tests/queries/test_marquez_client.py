"""Marquez's own Python client (``marquez-python``) against a live collector: every read method it
has for an endpoint we serve returns the right data. (It quotes path parts with ``safe=''``, so
``s3://lake`` travels as ``s3%3A%2F%2Flake``.) Its tag writes round-trip; its other writes
(``create_*``, ``mark_job_run_as_*``) get Marquez-API errors (405: mllineage is fed by events).
Not served, so not tested: ``list_events`` (Marquez's deprecated ``/events``) and
``list_sources`` (501)."""

from __future__ import annotations

import pytest
from marquez_client import MarquezClient
from marquez_client.errors import APIError

from tests.queries.reference_graph import (
    FEAST,
    FG_C,
    GLUE,
    JOBS,
    LAKE,
    MODELS,
    PG,
    RUN,
    S1,
    S3,
    TS,
    dataset_id,
    field_id,
    job_id,
)


@pytest.fixture
def marquez(live_ref_url: str) -> MarquezClient:
    return MarquezClient(url=live_ref_url)


def test_namespaces(marquez: MarquezClient) -> None:
    listed = marquez.list_namespaces()
    names = [n["name"] for n in listed["namespaces"]]
    assert {PG, LAKE, JOBS} <= set(names)
    assert listed["totalCount"] == len(names)
    assert marquez.get_namespace(PG)["name"] == PG


def test_datasets(marquez: MarquezClient) -> None:
    listed = marquez.list_datasets(LAKE, limit=2, offset=1)
    assert listed["totalCount"] == 8  # by name: predictions, raw/clicks, r1..r5, training
    assert [d["name"] for d in listed["datasets"]] == ["raw/clicks/2024", "reports/r1"]
    clicks = marquez.get_dataset(LAKE, S3[1])
    assert clicks["id"] == {"namespace": LAKE, "name": "raw/clicks/2024"}
    assert clicks["currentVersion"] == RUN["ingest"]
    assert clicks["tags"] == ["gdpr:consent-required"]
    # A symlink identifier finds the dataset that declares it.
    assert marquez.get_dataset(*GLUE)["name"] == S3[1]
    customers = marquez.get_dataset(*S1)
    assert {f["name"]: f["tags"] for f in customers["fields"]} == {
        "id": [],
        "email": ["pii"],
        "age": [],
    }


def test_dataset_versions(marquez: MarquezClient) -> None:
    versions = marquez.list_dataset_versions(MODELS, "models/churn")
    assert [v["version"] for v in versions["versions"]] == ["2", "1"]
    v1 = marquez.get_dataset_version(MODELS, "models/churn", "1")
    assert v1["createdByRun"]["id"] == RUN["train_1"]
    assert v1["createdByRun"]["inputVersions"] == [
        {"namespace": TS[0], "name": TS[1], "version": RUN["trainset"]}
    ]
    assert v1["facets"]["mllineage_model"]["version"] == "1"


def test_jobs_and_runs(marquez: MarquezClient) -> None:
    jobs = marquez.list_jobs(JOBS)
    assert jobs["totalCount"] == 13  # 8 pipeline jobs and 5 reports
    train = marquez.get_job(JOBS, "train")
    assert train["inputs"] == [{"namespace": FEAST, "name": "activity_features"}]
    assert train["outputs"] == [{"namespace": MODELS, "name": "models/churn"}]
    assert train["latestRun"]["id"] == RUN["train_2"]
    assert train["location"] == "https://github.com/acme/churn"
    runs = marquez.list_job_runs(JOBS, "train")
    assert [r["id"] for r in runs["runs"]] == [RUN["train_2"], RUN["train_1"]]
    assert {r["state"] for r in runs["runs"]} == {"COMPLETED"}
    run = marquez.get_job_run(RUN["train_1"])
    assert run["durationMs"] == 120_000
    assert run["facets"]["mllineage_training"]["hyperparameters"] == {"lr": 0.1}


def test_column_lineage(marquez: MarquezClient) -> None:
    field = marquez.get_column_lineage_by_dataset_field(FEAST, FG_C[1], "email_domain", depth=5)
    ids = {node["id"] for node in field["graph"]}
    assert ids == {field_id(FG_C, "email_domain"), field_id(S1, "email")}
    by_dataset = marquez.get_column_lineage_by_dataset(FEAST, FG_C[1], depth=1)
    assert field_id(FG_C, "total_spend") in {n["id"] for n in by_dataset["graph"]}
    by_job = marquez.get_column_lineage_by_job(JOBS, "fp_customers", depth=1)
    assert {n["id"] for n in by_job["graph"]} >= {
        field_id(FG_C, "email_domain"),
        field_id(S1, "email"),
    }
    downstream = marquez.get_column_lineage_by_dataset_field(
        FEAST, FG_C[1], "email_domain", depth=5, with_downstream=True
    )
    assert field_id(TS, "email_domain") in {n["id"] for n in downstream["graph"]}


def test_lineage_through_the_client_session(live_ref_url: str) -> None:
    # marquez-python has no lineage method; its users call the endpoint with requests.
    import requests

    response = requests.get(
        f"{live_ref_url}/api/v1/lineage",
        params={"nodeId": dataset_id(FG_C), "depth": "2"},
        timeout=10,
    )
    ids = {node["id"] for node in response.json()["graph"]}
    assert ids == {
        dataset_id(FG_C),
        job_id("fp_customers"),
        dataset_id(S1),
        "dataset:postgres://db.example.com:5432:public.orders",
        job_id("trainset"),
        dataset_id(TS),
    }


def test_tags_round_trip_and_write_api_is_refused(marquez: MarquezClient) -> None:
    tagged = marquez.tag_dataset(*S1, "gdpr")
    assert tagged["tags"] == ["gdpr"]
    field = marquez.tag_dataset_field(*S1, "age", "sensitive")
    assert {f["name"]: f["tags"] for f in field["fields"]}["age"] == ["sensitive"]
    names = [t["name"] for t in marquez.list_tags()["tags"]]
    assert {"gdpr", "pii", "sensitive", "gdpr:consent-required"} <= set(names)
    assert marquez.get_dataset(*S1)["tags"] == ["gdpr"], "stored, not just answered"
    with pytest.raises(APIError):
        marquez.create_namespace("new-namespace", "me")
    with pytest.raises(APIError):
        marquez.create_tag("gdpr", "General Data Protection Regulation")
