"""``asOf`` and version pinning: answers before and after the retraining differ exactly as the
history says. Timeline of the reference graph (minutes after 12:00): train run 1 reads TS and
completes at 10 (MODEL v1); deploy serves v1 at 13; train run 2 reads FG_A and completes at 22
(MODEL v2)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.queries.conftest import ingest
from tests.queries.reference_graph import (
    ENDPOINT,
    FG_A,
    FG_C,
    MODEL,
    RUN,
    S1,
    S2,
    S3,
    TS,
    dataset_id,
    field_id,
    job_id,
)
from tests.queries.test_reference_graph import ask, by_node

BEFORE_DEPLOY = "2024-05-01T12:11:00Z"  # v1 trained, not deployed yet
BEFORE_RETRAINING = "2024-05-01T12:15:00Z"  # v1 trained and deployed, v2 not trained
AFTER_RETRAINING = "2024-05-01T12:25:00Z"


def upstream_feature_groups(client: TestClient, **params: Any) -> dict[str, int]:
    body = ask(client, "feature-groups", direction="upstream", **params)
    return by_node(body["rows"])


def test_feature_groups_of_the_model_before_and_after_retraining(ref: TestClient) -> None:
    model = dataset_id(MODEL)
    # Before: MODEL <- train(run 1) <- TS <- trainset <- FG_C, FG_A (4 hops).
    assert upstream_feature_groups(ref, nodeId=model, asOf=BEFORE_RETRAINING) == {
        dataset_id(FG_C): 4,
        dataset_id(FG_A): 4,
    }
    # After: train(run 2) reads FG_A only (2 hops); FG_C is gone.
    assert upstream_feature_groups(ref, nodeId=model, asOf=AFTER_RETRAINING) == {
        dataset_id(FG_A): 2
    }
    assert upstream_feature_groups(ref, nodeId=model) == {dataset_id(FG_A): 2}  # = now


def test_version_pinned_answers_ignore_what_the_job_reads_today(ref: TestClient) -> None:
    # v1's producing run read TS at the version the trainset run wrote; that run read the
    # versions of FG_C and FG_A produced by fp_customers and fp_activity.
    v1 = upstream_feature_groups(ref, nodeId=dataset_id(MODEL, "1"), depth=4)
    assert v1 == {
        dataset_id(FG_C, RUN["fp_customers"]): 4,
        dataset_id(FG_A, RUN["fp_activity"]): 4,
    }
    # v2's run read FG_A at the version written by the feedback run (the latest at its start).
    v2 = upstream_feature_groups(ref, nodeId=dataset_id(MODEL, "2"), depth=4)
    assert v2 == {dataset_id(FG_A, RUN["feedback"]): 2}


def test_model_lineage_of_v1_is_the_exact_chain(ref: TestClient) -> None:
    body = ask(ref, "model-lineage", nodeId=dataset_id(MODEL), version="1")
    rows = {r["node_id"]: (r["direction"], r["depth"]) for r in body["rows"]}
    run = "run:{}".format
    assert rows == {
        dataset_id(MODEL, "1"): ("self", 0),
        run(RUN["train_1"]): ("upstream", 1),
        dataset_id(TS, RUN["trainset"]): ("upstream", 2),
        run(RUN["trainset"]): ("upstream", 3),
        dataset_id(FG_C, RUN["fp_customers"]): ("upstream", 4),
        dataset_id(FG_A, RUN["fp_activity"]): ("upstream", 4),
        run(RUN["fp_customers"]): ("upstream", 5),
        run(RUN["fp_activity"]): ("upstream", 5),
        dataset_id(S1, "v100"): ("upstream", 6),  # the version the reading run named
        dataset_id(S2): ("upstream", 6),  # never versioned
        # fp_activity read the Hive table; its versions live on the symlinked S3 path.
        dataset_id(S3, RUN["ingest"]): ("upstream", 6),
        run(RUN["ingest"]): ("upstream", 7),
        # Downstream: the deployment that read exactly v1, then the feedback loop into v2.
        run(RUN["deploy"]): ("downstream", 1),
        dataset_id(ENDPOINT, RUN["deploy"]): ("downstream", 2),
        run(RUN["log"]): ("downstream", 3),
        "dataset:s3://lake:predictions/churn#" + RUN["log"]: ("downstream", 4),
        run(RUN["feedback"]): ("downstream", 5),
        dataset_id(FG_A, RUN["feedback"]): ("downstream", 6),
        run(RUN["train_2"]): ("downstream", 7),
        dataset_id(MODEL, "2"): ("downstream", 8),
    }
    by_id = {r["node_id"]: r for r in body["rows"]}
    assert by_id[run(RUN["train_1"])]["job_node_id"] == job_id("train")
    assert by_id[dataset_id(TS, RUN["trainset"])]["run_id"] == RUN["trainset"]


def test_models_and_endpoints_as_of(ref: TestClient) -> None:
    fg_c = dataset_id(FG_C)
    assert ask(ref, "models", nodeId=fg_c)["rows"] == []  # nobody reads TS today
    [before] = ask(ref, "models", nodeId=fg_c, asOf=BEFORE_DEPLOY)["rows"]
    assert (before["current_version"], before["versions"]) == ("1", ["1"])
    assert before["run_id"] == RUN["train_1"]
    assert before["endpoints"] == []  # not deployed yet
    [deployed] = ask(ref, "models", nodeId=fg_c, asOf=BEFORE_RETRAINING)["rows"]
    assert [(e["node_id"], e["model_version"]) for e in deployed["endpoints"]] == [
        (dataset_id(ENDPOINT), "1")
    ]


def test_governance_as_of(ref: TestClient) -> None:
    assert ask(ref, "governance/tagged", tag="pii")["rows"] == []
    before = ask(ref, "governance/tagged", tag="pii", asOf=BEFORE_RETRAINING)["rows"]
    # S1 > fp_customers > FG_C > trainset > TS > train > MODEL (6) > deploy > ENDPOINT (8)
    assert [(r["node_id"], r["depth"], r["tagged_fields"]) for r in before] == [
        (dataset_id(MODEL), 6, ["email"]),
        (dataset_id(ENDPOINT), 8, ["email"]),
    ]
    assert before[0]["path"] == [
        dataset_id(S1),
        job_id("fp_customers"),
        dataset_id(FG_C),
        job_id("trainset"),
        dataset_id(TS),
        job_id("train"),
        dataset_id(MODEL),
    ]


def test_feature_lineage_as_of(ref: TestClient) -> None:
    body = ask(ref, "feature-lineage", nodeId=field_id(FG_C, "email_domain"), asOf=BEFORE_DEPLOY)
    [consumer] = [r for r in body["rows"] if r["role"] == "consumer"]
    assert consumer["node_id"] == dataset_id(MODEL)
    assert consumer["evidence"] == "column_lineage"
    assert consumer["path"] == [
        field_id(FG_C, "email_domain"),
        field_id(TS, "email_domain"),
        dataset_id(TS),
        job_id("train"),
        dataset_id(MODEL),
    ]


def test_as_of_before_anything_existed(ref: TestClient) -> None:
    body = ask(ref, "lineage", nodeId=dataset_id(MODEL), asOf="2024-05-01T11:00:00Z")
    assert body["rows"] == []


@pytest.mark.parametrize("arrival", ["in order", "reversed"])
def test_as_of_does_not_depend_on_arrival_order(client: TestClient, arrival: str) -> None:
    from tests.queries.reference_graph import events

    stream = events()
    ingest(client, stream if arrival == "in order" else stream[::-1])
    assert upstream_feature_groups(client, nodeId=dataset_id(MODEL), asOf=BEFORE_RETRAINING) == {
        dataset_id(FG_C): 4,
        dataset_id(FG_A): 4,
    }
    assert upstream_feature_groups(client, nodeId=dataset_id(MODEL)) == {dataset_id(FG_A): 2}
