"""The end-to-end example runs in seconds and emits the whole, valid, connected chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.emitter.spec import REPO, SpecValidator

EXAMPLE = REPO / "examples" / "train_churn_model.py"


def test_example_emits_the_whole_chain(tmp_path: Path, spec: SpecValidator) -> None:
    events_file = tmp_path / "events.ndjson"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OPENLINEAGE")},
        "OPENLINEAGE__TRANSPORT__TYPE": "file",
        "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH": str(events_file),
        "OPENLINEAGE__TRANSPORT__APPEND": "true",
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--rows", "2000", "--strict"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "holdout_auc" in done.stdout

    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    for event in events:
        spec.assert_valid(event)
    assert [(e["eventType"], e["job"]["name"]) for e in events] == [
        ("START", "churn.pipeline"),
        ("START", "churn.features"),
        ("COMPLETE", "churn.features"),
        ("START", "churn.training_set"),
        ("COMPLETE", "churn.training_set"),
        ("START", "churn.train"),
        ("COMPLETE", "churn.train"),
        ("START", "churn.deploy"),
        ("COMPLETE", "churn.deploy"),
        ("COMPLETE", "churn.pipeline"),
    ]
    pipeline_run = events[0]["run"]["runId"]
    complete = {e["job"]["name"]: e for e in events if e["eventType"] == "COMPLETE"}
    for name in ("churn.features", "churn.training_set", "churn.train", "churn.deploy"):
        assert complete[name]["run"]["facets"]["parent"]["run"]["runId"] == pipeline_run

    def ids(datasets: list[dict[str, str]]) -> list[str]:
        return [f"{d['namespace']}:{d['name']}" for d in datasets]

    # Each step's outputs are the next step's inputs: one connected chain.
    assert ids(complete["churn.features"]["outputs"]) == ids(
        complete["churn.training_set"]["inputs"]
    )
    assert ids(complete["churn.training_set"]["outputs"]) == ids(complete["churn.train"]["inputs"])
    assert ids(complete["churn.train"]["outputs"]) == ids(complete["churn.deploy"]["inputs"])
    assert ids(complete["churn.deploy"]["outputs"]) == ["https://ml.acme.internal:churn-prod"]

    customers = complete["churn.features"]["outputs"][0]["facets"]
    assert {"key": "pii", "value": "true", "source": "USER", "field": "email"} in customers["tags"][
        "tags"
    ]
    training_set = complete["churn.training_set"]["outputs"][0]["facets"]
    assert training_set["mllineage_dataset"]["targets"] == ["churned"]
    assert training_set["dataQualityMetrics"]["rowCount"] == 2000
    training = complete["churn.train"]["run"]["facets"]["mllineage_training"]
    assert 0.5 < training["metrics"]["holdout_auc"] <= 1.0
    model = complete["churn.train"]["outputs"][0]["facets"]
    assert model["datasetType"]["datasetType"] == "MODEL"
    assert model["mllineage_model"]["version"] == "1"
