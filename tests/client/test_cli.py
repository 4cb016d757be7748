"""The read commands (click's CliRunner) against a live collector: ``demo``, then each question."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mllineage.client.cli import main
from mllineage.client.demo import BEFORE_RETRAINING, NODES, demo_events

AS_OF = BEFORE_RETRAINING.isoformat()


def run(*args: str, url: str | None = None, **env: str) -> Result:
    argv = [*args, "--url", url] if url else list(args)
    return CliRunner().invoke(main, argv, env=env or None, catch_exceptions=False)


@pytest.fixture
def demo_server(server_url: str) -> str:
    result = run("demo", url=server_url)
    assert result.exit_code == 0, result.output
    assert f"loaded {len(demo_events())} OpenLineage events" in result.output
    return server_url


def table(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def as_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.output)
    return body


def test_demo_is_idempotent(demo_server: str) -> None:
    again = run("demo", url=demo_server)
    assert again.exit_code == 0, again.output
    events = as_json(run("lineage", NODES["model"], "--json", url=demo_server))
    assert events["rows"]


def test_sources(demo_server: str) -> None:
    lines = table(run("sources", NODES["feature_group"], url=demo_server))
    assert lines[0].split() == ["DEPTH", "KIND", "SOURCE", "PATH"]
    assert any(
        "public.customers > customer_profile_features > customer_profile" in line for line in lines
    )
    assert len(lines) == 3  # customers and transactions


def test_feature_groups_and_models(demo_server: str) -> None:
    up = table(run("feature-groups", NODES["model"], "--direction", "upstream", url=demo_server))
    assert {line.split()[2] for line in up[1:]} == {"engagement", "support_signals"}
    before = table(run("models", NODES["feature_group"], "--as-of", AS_OF, url=demo_server))
    assert "churn-classifier-prod (v1)" in before[1]
    assert table(run("models", NODES["feature_group"], url=demo_server)) == ["no models downstream"]


def test_model_lineage_and_lineage(demo_server: str) -> None:
    chain = as_json(
        run("model-lineage", NODES["model"], "--version", "1", "--json", url=demo_server)
    )
    assert chain["rows"][0]["node_id"] == NODES["model_v1"]
    lines = table(
        run(
            "lineage",
            NODES["hive_table"],
            "--direction",
            "downstream",
            "--kinds",
            "model",
            url=demo_server,
        )
    )
    assert len(lines) == 2
    assert "models/churn-classifier" in lines[1]


def test_impact(demo_server: str) -> None:
    lines = table(run("impact", NODES["source"], "--kinds", "model,endpoint", url=demo_server))
    assert [line.split()[0] for line in lines[1:]] == ["model", "endpoint"]
    assert "team:ml-platform" in lines[1]
    # Pages: the same rows (column widths follow each page), and a pointer to the next one.
    everything = [line.split() for line in table(run("impact", NODES["source"], url=demo_server))]
    first = table(run("impact", NODES["source"], "--limit", "2", url=demo_server))
    assert [line.split() for line in first[:3]] == everything[:3]
    assert first[3] == f"(rows 1-2 of {len(everything) - 1}; --offset 2 for the next page)"
    rest = table(run("impact", NODES["source"], "--offset", "2", url=demo_server))
    assert [line.split() for line in rest[1:]] == everything[3:]


def test_tagged(demo_server: str) -> None:
    assert table(run("tagged", "pii", url=demo_server)) == [
        "no model or endpoint has 'pii' data upstream"
    ]
    before = table(run("tagged", "pii", "--as-of", AS_OF, url=demo_server))
    assert [line.split()[0] for line in before[1:]] == ["model", "endpoint"]
    # Only email is derived (customer_profile.email_domain) on the way to the model; phone is not.
    assert "email" in before[1].split()
    assert "phone" not in before[1]
    assert "EVIDENCE" in before[0].split()
    assert "job" in before[1].split()  # the model declares no column lineage
    versions = as_json(run("tagged", "--scope", "versions", "--json", url=demo_server))
    assert NODES["model_v1"] in {r["node_id"] for r in versions["rows"]}


def test_audit(demo_server: str) -> None:
    lines = table(run("audit", NODES["model_v1"], url=demo_server))
    text = "\n".join(lines)
    assert "a1b2c3d" in text  # the code version run 1 ran
    assert '"val_auc": 0.84' in text
    assert "datasets/churn_train#" in text  # the exact training-set version it read


def test_feature_lineage(demo_server: str) -> None:
    lines = table(run("feature-lineage", NODES["feature"], "--as-of", AS_OF, url=demo_server))
    roles = {line.split()[0] for line in lines[1:]}
    assert roles == {"feature", "source", "downstream", "consumer"}


def test_export_over_http_and_from_the_database(
    demo_server: str, database_url: str, tmp_path: Path
) -> None:
    http_file = tmp_path / "http.ndjson"
    result = run("export", "-o", str(http_file), url=demo_server)
    assert result.exit_code == 0, result.output
    http_events = [json.loads(line) for line in http_file.read_text().splitlines()]
    assert len(http_events) == len(demo_events())
    direct = run("export", "--database-url", database_url)
    assert direct.exit_code == 0
    direct_events = [json.loads(line) for line in direct.stdout.splitlines()]
    assert direct_events == http_events


def test_url_and_key_from_the_environment(demo_server: str) -> None:
    result = run("sources", NODES["feature_group"], "--json", MLLINEAGE_URL=demo_server)
    assert len(as_json(result)["rows"]) == 2


def test_errors_exit_non_zero_with_the_server_message(demo_server: str) -> None:
    result = CliRunner().invoke(main, ["impact", "dataset:nowhere:nothing", "--url", demo_server])
    assert result.exit_code == 1
    assert "404" in result.output
    assert "no dataset" in result.output


def test_openlineage_url_is_the_fallback_and_mllineage_url_wins(demo_server: str) -> None:
    result = run("sources", NODES["feature_group"], "--json", OPENLINEAGE_URL=demo_server)
    assert len(as_json(result)["rows"]) == 2
    both = run(
        "sources",
        NODES["feature_group"],
        "--json",
        MLLINEAGE_URL=demo_server,
        OPENLINEAGE_URL="http://127.0.0.1:9",
    )
    assert len(as_json(both)["rows"]) == 2


def test_errors_carry_the_located_detail_and_the_url_tried(demo_server: str) -> None:
    bad = CliRunner().invoke(
        main, ["models", NODES["feature_group"], "--as-of", "yesterday", "--url", demo_server]
    )
    assert bad.exit_code == 1
    assert "query/asOf: Value error, not an ISO 8601 date-time" in bad.output
    gone = CliRunner().invoke(
        main, ["sources", NODES["feature_group"], "--url", "http://127.0.0.1:9"]
    )
    assert gone.exit_code == 1
    assert "cannot reach the collector at http://127.0.0.1:9" in gone.output
