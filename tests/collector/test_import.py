"""``mllineage import``: COPY into the raw log with the projector beside it, on both databases.

The graph an import leaves must be the one the HTTP path leaves for the same events; importing
again (or events repeated in the file) changes nothing; an invalid line stops the import at that
line with nothing half-stored; the load and projection rates are printed.
"""

from __future__ import annotations

import json
import re
from itertools import islice
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from bench.workload import generate_events
from mllineage.client.cli import main
from mllineage.client.demo import demo_events
from mllineage.collector.ingest.bulk import import_ndjson
from tests.collector.test_ingest_api import accepted_corpus, graph_snapshot
from tests.conftest import empty_database


def reference_events(shared_dir: Path) -> list[dict[str, Any]]:
    """The conformance corpus, the demo and a slice of the benchmark workload."""
    return [
        *(payload for _, payload in accepted_corpus(shared_dir)),
        *demo_events(),
        *islice(generate_events("small", seed=7), 1_200),
    ]


def write_ndjson(path: Path, events: list[Any]) -> Path:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events))
    return path


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_import_builds_the_graph_the_http_path_builds(
    client: TestClient, engine: Engine, shared_dir: Path, tmp_path: Path
) -> None:
    events = reference_events(shared_dir)
    for start in range(0, len(events), 250):
        response = client.post("/api/v1/lineage/batch", json=events[start : start + 250])
        assert response.json()["summary"]["failed"] == 0
    over_http = graph_snapshot(engine)
    stored = count(engine, "lineage_events")

    # The app behind ``client`` runs its own projector on this database; it is idle now (every
    # POST above waited for its projection) and stays paused, so the importer projects it all.
    projector = client.app.state.projector  # type: ignore[attr-defined]
    projector.pause()
    empty_database(engine)
    # Small batches so several loads and projections (some of >= 500 events: the SQL program
    # on PostgreSQL) interleave.
    report = import_ndjson(
        write_ndjson(tmp_path / "events.ndjson", events),
        engine,
        batch_size=300,
        projection_batch=700,
    )
    assert report.stopped is None
    assert report.stored == stored == count(engine, "lineage_events")
    assert report.stored + report.duplicates == len(events)
    assert report.projected == stored
    assert count(engine, "projection_backlog") == 0
    assert graph_snapshot(engine) == over_http
    projector.resume()


def test_duplicates_and_a_second_import_change_nothing(
    engine: Engine, shared_dir: Path, tmp_path: Path
) -> None:
    events = [payload for _, payload in accepted_corpus(shared_dir)]
    ndjson = write_ndjson(tmp_path / "twice.ndjson", events + events[::-1])  # each one twice
    first = import_ndjson(ndjson, engine, batch_size=40)
    assert (first.stored, first.duplicates) == (171, len(events) * 2 - 171)
    graph = graph_snapshot(engine)

    again = import_ndjson(ndjson, engine, batch_size=40)
    assert (again.stored, again.duplicates, again.projected) == (0, len(events) * 2, 0)
    assert count(engine, "lineage_events") == 171
    assert count(engine, "projection_backlog") == 0
    assert graph_snapshot(engine) == graph


def test_a_bad_line_stops_the_import_there_with_nothing_half_stored(
    engine: Engine, database_url: str, shared_dir: Path, tmp_path: Path
) -> None:
    events = [payload for _, payload in accepted_corpus(shared_dir)][:30]
    lines: list[Any] = [*events[:13], '{"eventType": "START", broken', *events[13:]]
    ndjson = write_ndjson(tmp_path / "events.ndjson", lines)

    runner = CliRunner()
    command = ["import", str(ndjson), "--database-url", database_url, "--batch-size", "5"]
    stopped = runner.invoke(main, command)
    assert stopped.exit_code == 1, stopped.output
    assert "events.ndjson:14: error: not JSON" in stopped.output
    assert "the 13 events before it are imported" in stopped.output
    # The 13 events before the line (the last two of a half-filled batch included) are stored
    # and projected, none after it: the graph of a clean import of exactly those.
    assert count(engine, "lineage_events") == len(
        {json.dumps(e, sort_keys=True) for e in lines[:13]}
    )
    assert count(engine, "projection_backlog") == 0
    partial = graph_snapshot(engine)
    empty_database(engine)
    import_ndjson(write_ndjson(tmp_path / "prefix.ndjson", events[:13]), engine)
    assert graph_snapshot(engine) == partial

    # Fixing the line and importing again completes the file.
    write_ndjson(ndjson, events)
    fixed = runner.invoke(main, command)
    assert fixed.exit_code == 0, fixed.output
    assert "17 stored, 13 duplicates, 0 rejected" in fixed.output


def test_the_load_and_projection_rates_are_printed(
    engine: Engine, database_url: str, shared_dir: Path, tmp_path: Path
) -> None:
    events = [payload for _, payload in accepted_corpus(shared_dir)]
    ndjson = write_ndjson(tmp_path / "corpus.ndjson", events)
    result = CliRunner().invoke(main, ["import", str(ndjson), "--database-url", database_url])
    assert result.exit_code == 0, result.output
    rates = re.search(
        r"corpus\.ndjson: load [\d.]+s \(([\d,]+) events/s\), projection of (\d+) events "
        r"[\d.]+s \(([\d,]+) events/s\)",
        result.output,
    )
    assert rates is not None, result.output
    assert int(rates.group(2)) == 171
    assert int(rates.group(1).replace(",", "")) > 0
    assert int(rates.group(3).replace(",", "")) > 0
    # Not a terminal: the progress is a plain line, not a live display.
    assert "corpus.ndjson: loaded 171 events (100% of the file), projected" in result.output
