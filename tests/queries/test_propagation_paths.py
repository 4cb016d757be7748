"""The propagation behind ``governance/tagged`` gives one answer whichever way it reads the graph:
integer keys with per-level edge arrays (a database without symlinks), whole-side adjacency reads
(large frontiers), the generic node-by-node expansion, and evidence paths found by looking the
steps back up or by scanning the level's steps. Checked on a small generated ML graph
(the benchmark workload at a tiny scale: PII sources, a hub, feature layers, models, endpoints)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from bench.workload import Scale, Workload
from mllineage.collector.queries.graph import current
from tests.queries.test_reference_graph import ask, check_graph_holds_paths

TINY = Scale("tiny", 12, 16, 6, 4, 4, 4, runs=(2, 3))


@pytest.fixture
def generated(client: TestClient) -> TestClient:
    events = list(Workload(TINY, seed=7).events())
    response = client.post("/api/v1/lineage/batch", json=events)
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["failed"] == 0, response.text
    return client


def _answers(client: TestClient) -> list[dict[str, Any]]:
    return [
        ask(client, "governance/tagged", tag="pii"),
        ask(client, "governance/tagged", tag="pii", kinds="model,endpoint,feature_group,job"),
        ask(client, "governance/tagged", tag="pii", limit=3, offset=2),
        ask(client, "governance/tagged", tag="pii", scope="versions"),
    ]


def test_every_way_of_reading_the_graph_gives_one_answer(
    generated: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _answers(generated)
    assert expected[0]["total_count"] > 5
    assert {row["kind"] for row in expected[1]["rows"]} >= {"model", "feature_group", "job"}
    for body in expected:
        check_graph_holds_paths(body)
    monkeypatch.setattr(current, "WHOLE_SIDE_FRONTIER", 0)
    assert _answers(generated) == expected
    monkeypatch.setattr(current.CurrentGraph, "symmetric", False)  # paths: scan, not look up
    assert _answers(generated) == expected
    # built as if symlinks existed: node keys, steps read through the node-by-node expansion
    monkeypatch.setattr(current, "symlinks_exist", lambda conn: True)
    assert _answers(generated) == expected


def test_a_capped_propagation_keeps_whole_paths(generated: TestClient) -> None:
    whole = ask(generated, "governance/tagged", tag="pii")
    capped = ask(generated, "governance/tagged", tag="pii", maxNodes=1)
    assert capped["truncated"] is True
    assert capped["total_count"] < whole["total_count"]
    check_graph_holds_paths(capped)
