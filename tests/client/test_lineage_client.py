"""``LineageClient`` against a live collector loaded with the demo workflow: each question in
one call, DataFrames or plain rows, evidence attached, errors raised with the server's message."""

from __future__ import annotations

import pandas as pd
import pytest

from mllineage.client import LineageClient, LineageClientError, dataset_id, field_id
from mllineage.client.demo import (
    BEFORE_RETRAINING,
    CUSTOMERS,
    ENDPOINT,
    ENGAGEMENT,
    MODEL,
    NODES,
    PROFILE,
    SUPPORT,
    TRANSACTIONS,
)
from mllineage.client.lineage_client import Rows


@pytest.fixture
def lineage(demo_url: str) -> LineageClient:
    return LineageClient(demo_url)


def test_rows_come_as_a_dataframe_with_evidence(lineage: LineageClient) -> None:
    frame = lineage.get_data_sources(NODES["feature_group"])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "node_id",
        "namespace",
        "name",
        "kind",
        "version",
        "depth",
        "path",
        "until",
        "inferred",
    ]
    assert set(frame["node_id"]) == {dataset_id(*CUSTOMERS), dataset_id(*TRANSACTIONS)}
    assert frame.attrs["truncated"] is False
    assert {n["id"] for n in frame.attrs["graph"]["nodes"]} >= set(frame["node_id"])


def test_plain_rows_without_pandas(lineage: LineageClient) -> None:
    rows = lineage.get_data_sources(NODES["feature_group"], as_frame=False)
    assert isinstance(rows, Rows)
    assert {r["node_id"] for r in rows} == {dataset_id(*CUSTOMERS), dataset_id(*TRANSACTIONS)}
    assert rows.graph["edges"]
    assert rows.truncated is False
    assert LineageClient(lineage._http.base_url.__str__(), as_frame=False).get_impact(
        NODES["source"]
    )


def test_paged_answers_are_gathered_page_by_page(lineage: LineageClient) -> None:
    whole = lineage.query("/api/v1/ml/impact", nodeId=NODES["source"])
    assert whole["total_count"] == len(whole["rows"]) > 3
    gathered = lineage.query_all("/api/v1/ml/impact", page_size=2, nodeId=NODES["source"])
    assert gathered["rows"] == whole["rows"]
    assert gathered["total_count"] == whole["total_count"]
    assert {n["id"] for n in gathered["graph"]["nodes"]} == {
        n["id"] for n in whole["graph"]["nodes"]
    }
    assert len(gathered["graph"]["edges"]) == len(whole["graph"]["edges"])
    rows = lineage.get_impact(NODES["source"], page_size=3, as_frame=False)
    assert list(rows) == whole["rows"]
    versions = lineage.get_models_with_tag("pii", scope="versions", page_size=1, as_frame=False)
    assert (
        list(versions)
        == lineage.query("/api/v1/ml/governance/tagged", tag="pii", scope="versions")["rows"]
    )


def test_feature_groups_both_ways(lineage: LineageClient) -> None:
    model = lineage.get_feature_groups_from_model(NODES["model"], as_frame=False)
    assert {r["feature_group"] for r in model} == {"engagement", "support_signals"}
    v1 = lineage.get_feature_groups_from_model(NODES["model_v1"], as_frame=False)
    assert {r["name"] for r in v1} == {PROFILE[1], ENGAGEMENT[1]}  # pinned to version 1's run
    source = lineage.get_feature_groups_from_source(dataset_id(*TRANSACTIONS), as_frame=False)
    assert {r["name"] for r in source} == {PROFILE[1], ENGAGEMENT[1]}
    assert {r["direction"] for r in source} == {"downstream"}


def test_models_model_lineage_and_impact(lineage: LineageClient) -> None:
    [model] = lineage.get_models_using(dataset_id(*SUPPORT), as_frame=False)
    assert (model["model_name"], model["current_version"]) == ("churn-classifier", "2")
    assert [(e["name"], e["model_version"]) for e in model["endpoints"]] == [
        ("churn-classifier-prod", "2")
    ]
    chain = lineage.get_model_lineage(NODES["model"], "1")
    assert chain.iloc[0]["node_id"] == NODES["model_v1"]
    assert dataset_id(*CUSTOMERS) in set(chain["node_id"])
    impact = lineage.get_impact(NODES["feature_group"], as_of=BEFORE_RETRAINING)
    assert {"model", "endpoint"} <= set(impact["kind"])
    assert dataset_id(*ENDPOINT) in set(impact["node_id"])


def test_governance_and_audit(lineage: LineageClient) -> None:
    assert lineage.get_models_with_tag("pii", as_frame=False) == []
    before = lineage.get_models_with_tag("pii", as_of=BEFORE_RETRAINING, as_frame=False)
    assert {r["node_id"] for r in before} == {dataset_id(*MODEL), dataset_id(*ENDPOINT)}
    versions = lineage.get_models_with_tag("pii", scope="versions", as_frame=False)
    assert dataset_id(*MODEL, "1") in {r["node_id"] for r in versions}
    assert dataset_id(*MODEL, "2") not in {r["node_id"] for r in versions}
    [record] = lineage.get_audit(NODES["model"], "1", as_frame=False)
    assert record["code_location"]["version"] == "a1b2c3d"
    assert record["metrics"]["val_auc"] == 0.84


def test_feature_lineage(lineage: LineageClient) -> None:
    rows = lineage.get_feature_lineage(
        field_id(*PROFILE, "email_domain"), as_of=BEFORE_RETRAINING, as_frame=False
    )
    roles = {(r["role"], r["node_id"]) for r in rows}
    assert ("source", field_id(*CUSTOMERS, "email")) in roles
    assert ("consumer", dataset_id(*MODEL)) in roles


def test_lineage_and_events(lineage: LineageClient) -> None:
    down = lineage.get_lineage(NODES["hive_table"], direction="downstream", kinds=["model"])
    assert list(down["node_id"]) == [dataset_id(*MODEL)]
    events = list(lineage.iter_events(page_size=5))
    assert len(events) == 24
    assert events == sorted(events, key=lambda e: e["eventTime"])


def test_errors_are_raised_with_the_server_message(lineage: LineageClient) -> None:
    with pytest.raises(LineageClientError) as missing:
        lineage.get_impact("dataset:nowhere:nothing")
    assert missing.value.status == 404
    assert "no dataset" in missing.value.message
    with pytest.raises(LineageClientError) as bad:
        lineage.get_lineage("nonsense")
    assert bad.value.status == 400


def test_unreachable_collector_is_an_error() -> None:
    with pytest.raises(LineageClientError) as down:
        LineageClient("http://127.0.0.1:9", timeout=2).get_impact(NODES["model"])
    assert down.value.status == 0


def test_api_key_is_sent(engine: object, database_url: str) -> None:
    from mllineage.collector.app import create_app
    from mllineage.collector.settings import Settings
    from tests.servers import running_server

    settings = Settings(database_url=database_url, api_keys={"s3cret": ["read"]})
    with running_server(create_app(settings, engine=engine)) as url:  # type: ignore[arg-type]
        with pytest.raises(LineageClientError) as denied:
            LineageClient(url).get_models_with_tag()
        assert denied.value.status == 401
        assert LineageClient(url, api_key="s3cret").get_models_with_tag(as_frame=False) == []
