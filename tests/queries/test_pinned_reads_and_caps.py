"""Version-pinned walks over reads that name no version, in a database without symlinks (the
reads resolve to the latest version by the run's start); governance under a node cap."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.collector.events import dataset, run_event
from tests.queries.conftest import ingest
from tests.queries.test_reference_graph import ask, by_node, check_graph_holds_paths

NS = "pinned"
RAW = f"dataset:{NS}:raw"
MODEL = f"dataset:{NS}:model"
ETL_1, ETL_2 = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
TRAIN_1, TRAIN_2 = "00000000-0000-4000-8000-000000000011", "00000000-0000-4000-8000-000000000012"


@pytest.fixture
def pinned(client: TestClient) -> TestClient:
    """etl writes raw twice (at 1 and 5); train reads raw without a version at 3 (-> etl 1's
    version) and at 7 (-> etl 2's), writing model versions 1 and 2."""
    events = []
    for run_id, start in ((ETL_1, 0), (ETL_2, 4)):
        for kind, minutes in (("START", start), ("COMPLETE", start + 1)):
            events.append(
                run_event(
                    kind, minutes, run_id=run_id, job=(NS, "etl"), outputs=[dataset(NS, "raw")]
                )
            )
    for run_id, start, model_version in ((TRAIN_1, 2, "1"), (TRAIN_2, 6, "2")):
        model = dataset(NS, "model", version={"datasetVersion": model_version})
        for kind, minutes in (("START", start), ("COMPLETE", start + 1)):
            events.append(
                run_event(
                    kind,
                    minutes,
                    run_id=run_id,
                    job=(NS, "train"),
                    inputs=[dataset(NS, "raw")],
                    outputs=[model],
                )
            )
    ingest(client, events)
    return client


def test_model_lineage_resolves_unversioned_reads_at_the_run_start(pinned: TestClient) -> None:
    for model_version, train, etl in (("1", TRAIN_1, ETL_1), ("2", TRAIN_2, ETL_2)):
        body = ask(pinned, "model-lineage", nodeId=MODEL, version=model_version, depth=10)
        assert by_node(body["rows"]) == {
            f"{MODEL}#{model_version}": 0,
            f"run:{train}": 1,
            f"{RAW}#{etl}": 2,
            f"run:{etl}": 3,
        }
        check_graph_holds_paths(body)


def test_downstream_of_a_version_reaches_only_the_runs_that_read_it(pinned: TestClient) -> None:
    body = ask(pinned, "lineage", nodeId=f"{RAW}#{ETL_1}", direction="downstream")
    assert by_node(body["rows"]) == {f"run:{TRAIN_1}": 1, f"{MODEL}#1": 2}
    body = ask(pinned, "lineage", nodeId=f"{RAW}#{ETL_2}", direction="downstream")
    assert by_node(body["rows"]) == {f"run:{TRAIN_2}": 1, f"{MODEL}#2": 2}


def test_tagged_under_a_tight_cap_is_truncated_and_keeps_whole_paths(ref: TestClient) -> None:
    full = ask(ref, "governance/tagged", tag="pii:false", kinds="dataset,model,endpoint,job")
    assert full["truncated"] is False
    capped = ask(
        ref, "governance/tagged", tag="pii:false", kinds="dataset,model,endpoint,job", maxNodes=1
    )
    assert capped["truncated"] is True
    assert 0 < len(capped["rows"]) < len(full["rows"])
    complete = {(r["node_id"], r["tagged_node_id"]): r for r in full["rows"]}
    for row in capped["rows"]:  # what a capped answer holds is what the full answer says
        assert complete[(row["node_id"], row["tagged_node_id"])] == row
    check_graph_holds_paths(capped)
