"""``mllineage import`` / ``db upgrade`` / ``db retention`` against both databases."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, text

from mllineage.client.cli import main
from tests.collector.corpus import load_corpus
from tests.collector.events import run_event


def test_import_stores_the_corpus_reports_bad_lines_and_is_idempotent(
    engine: Engine, database_url: str, shared_dir: Path, tmp_path: Path
) -> None:
    corpus = load_corpus(shared_dir, "events") + load_corpus(shared_dir, "nonconforming")
    lines = [json.dumps(payload) for _, payload in corpus]
    lines.insert(3, "{broken json")
    lines.insert(7, json.dumps({**run_event("START", 0), "run": {}}))
    lines.insert(9, "")
    ndjson = tmp_path / "events.ndjson"
    ndjson.write_text("\n".join(lines) + "\n")

    runner = CliRunner()
    command = ["import", str(ndjson), "--database-url", database_url, "--skip-invalid"]
    first = runner.invoke(main, [*command, "--batch-size", "50"])
    assert first.exit_code == 1, first.output  # some lines were rejected
    assert "171 stored" in first.output
    assert "events.ndjson:4: rejected: not JSON" in first.output
    assert "events.ndjson:8: rejected: not a valid OpenLineage RunEvent (/run/runId" in first.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM lineage_events")).scalar_one() == 171

    again = runner.invoke(main, command)
    assert "0 stored, 0 duplicates" not in again.output
    assert "171 duplicates" in again.output


def test_db_upgrade_and_retention_commands(engine: Engine, database_url: str) -> None:
    runner = CliRunner()
    upgraded = runner.invoke(main, ["db", "upgrade", "--database-url", database_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert "up to date" in upgraded.output
    kept = runner.invoke(
        main, ["db", "retention", "--keep-days", "30", "--database-url", database_url]
    )
    assert kept.exit_code == 0, kept.output
    assert "removed 0 raw events older than 30 days" in kept.output
    assert runner.invoke(main, ["db", "retention", "--keep-days", "-1"]).exit_code == 2
