"""The benchmark harness must not rot: the workload is valid and deterministic, and every
benchmark runs end to end at the small scale and produces its figures (never timing assertions).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from bench import corpus, inferred_reads, run, store_cost
from bench.databases import Backend, postgres_available
from bench.workload import SCALES, Workload, generate_events
from bench.wrk import parse_wrk, wrk_binary
from mllineage.collector.ingest.validate import EventValidator

REPO = Path(__file__).resolve().parents[2]
CORE_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
RUN_EVENT = "RunEvent"  # the core schema's RunEvent definition, for precise error messages


def _digest(events: Any, limit: int) -> str:
    digest = hashlib.sha256()
    for event in itertools.islice(events, limit):
        digest.update(orjson.dumps(event))
    return digest.hexdigest()


def test_same_seed_gives_byte_identical_events() -> None:
    assert _digest(generate_events("small", 42), 10**6) == _digest(
        generate_events("small", 42), 10**6
    )
    assert _digest(generate_events("small", 42), 500) != _digest(generate_events("small", 7), 500)


def test_small_scale_has_the_whole_ml_chain() -> None:
    workload = Workload(SCALES["small"], 42)
    events = list(workload.events())
    meta = workload.meta(events=len(events))
    assert 1_500 <= len(events) <= 3_000
    assert {e["eventType"] for e in events} == {"START", "RUNNING", "COMPLETE", "FAIL"}
    facets = {key for e in events for o in e["outputs"] for key in o.get("facets", {})}
    assert {"mllineage_model", "mllineage_featureGroup", "mllineage_endpoint"} <= facets
    assert {"datasetType", "version", "columnLineage", "schema"} <= facets
    tags = [
        t
        for e in events
        for i in e["inputs"]
        for t in i.get("facets", {}).get("tags", {}).get("tags", [])
    ]
    assert {"key": "pii", "value": "true"}.items() <= tags[0].items()
    assert tags[0]["field"]
    assert meta["hub"]["readers"] >= SCALES["small"].hub_readers
    assert all(m["versions"] for m in meta["models"])


def test_large_scale_is_big_enough() -> None:
    """>= 100k datasets, >= 1M events (each run sends at least START + COMPLETE/FAIL), a hub
    read by >= 1,000 jobs; the structure alone is checked here, not the 3.7 GB of events."""
    workload = Workload(SCALES["large"], 42)
    assert len(workload.datasets) >= 100_000
    assert 2 * sum(job.runs for job in workload.jobs) >= 1_000_000
    assert sum(1 for job in workload.jobs if workload.hub in job.inputs) >= 1_000


@pytest.fixture(scope="module")
def spec_validators(shared_dir: Path) -> dict[str, Draft202012Validator]:
    """Validators for the core spec and every facet schema, by ``$id``, resolved offline."""
    spec = shared_dir / "openlineage-spec"
    files = [spec / "OpenLineage.json", *sorted((spec / "facets").glob("*.json"))]
    files += sorted((REPO / "schemas").glob("*.json"))
    documents = [json.loads(path.read_text()) for path in files]
    registry: Registry = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in documents
    )
    validators = {
        doc["$id"]: Draft202012Validator(doc, registry=registry, format_checker=FormatChecker())
        for doc in documents
    }
    run_event = {"$ref": f"{CORE_ID}#/$defs/RunEvent"}
    validators[RUN_EVENT] = Draft202012Validator(
        run_event, registry=registry, format_checker=FormatChecker()
    )
    return validators


def _facets(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [*event["run"].get("facets", {}).items(), *event["job"].get("facets", {}).items()]
    for dataset in event["inputs"] + event["outputs"]:
        for group in ("facets", "inputFacets", "outputFacets"):
            found += dataset.get(group, {}).items()
    return found


def _spec_errors(event: dict[str, Any], validators: dict[str, Draft202012Validator]) -> list[str]:
    errors = [e.message for e in validators[CORE_ID].iter_errors(event)]
    errors += [e.message for e in validators[RUN_EVENT].iter_errors(event)]
    for key, facet in _facets(event):
        # the facet's _schemaURL names its schema file; validate {key: facet} against that file
        schema_id = facet["_schemaURL"].split("#", 1)[0]
        errors += [f"{key}: {e.message}" for e in validators[schema_id].iter_errors({key: facet})]
    return errors


def test_events_are_valid_openlineage(spec_validators: dict[str, Draft202012Validator]) -> None:
    sample = list(itertools.islice(generate_events("small", 42), 0, None, 7))
    assert sample
    for event in sample:
        assert _spec_errors(event, spec_validators) == [], event["job"]["name"]
    validator = EventValidator()
    for event in sample:
        assert validator.validate(event).warnings == [], event["job"]["name"]


def test_the_spec_check_catches_a_broken_event(
    spec_validators: dict[str, Draft202012Validator],
) -> None:
    event = next(generate_events("small", 42))
    broken = {**event, "eventTime": "2025-01-06 01:00:00", "run": {"runId": "not-a-uuid"}}
    errors = " ".join(_spec_errors(broken, spec_validators))
    assert "is not a 'date-time'" in errors
    assert "is not a 'uuid'" in errors


def test_wrk_output_is_read() -> None:
    output = """Running 2s test @ http://127.0.0.1:5000
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.00ms  20.34ms   90.00%
    Req/Sec     2.50k   100.00     2.70k    80.00%
  Latency Distribution
     50%    3.04ms
     75%    3.73ms
     90%    4.67ms
     99%    1.20s
  10000 requests in 2.00s, 1.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   5000.00
Transfer/sec:      0.50MB
BENCH thread=0 requests=5000 events=5000 wrapped=0
BENCH thread=1 requests=5000 events=5000 wrapped=1
"""
    result = parse_wrk(output)
    assert result.requests_per_second == 5000.0
    assert result.latency_ms["50%"] == pytest.approx(3.04)
    assert result.latency_ms["99%"] == pytest.approx(1200.0)
    assert result.latency_ms["max"] == pytest.approx(20.34)
    assert (result.non_2xx, result.events_sent, result.wrapped) == (3, 10_000, 1)


def _require_postgres() -> None:
    reason = postgres_available()
    if reason:
        if os.environ.get("MLLINEAGE_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (MLLINEAGE_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)


def _figures(results: Path) -> list[dict[str, Any]]:
    [path] = results.glob("*-small.json")
    document = orjson.loads(path.read_bytes())
    assert document["machine"]["nproc"]
    figures: list[dict[str, Any]] = document["figures"]
    return figures


def _produced(figures: list[dict[str, Any]], bench: str) -> list[dict[str, Any]]:
    mine = [f for f in figures if f["bench"] == bench]
    assert mine, f"no {bench} figure"
    for figure in mine:
        assert figure["value"] is not None or figure["skipped"], figure
    return [f for f in mine if f["value"] is not None]


def test_every_benchmark_runs_on_postgres(tmp_path: Path) -> None:
    _require_postgres()
    wrk = wrk_binary() is not None
    only = "ingest,batch,import,query,rss" if wrk else "import,query"
    argv = ["--scale", "small", "--only", only, "--duration", "1", "--batch-sizes", "100"]
    assert run.main([*argv, "--query-samples", "5", "--results", str(tmp_path)]) == 0
    figures = _figures(tmp_path)
    for bench in ("import", "dbsize"):
        assert _produced(figures, bench), bench
    assert _produced(figures, "query") or all(
        "not served" in f["skipped"] for f in figures if f["bench"] == "query"
    )
    if not wrk:
        pytest.skip("wrk is not installed: the HTTP benchmarks were not exercised")
    for bench in ("ingest", "batch", "rss"):
        [throughput, *_] = _produced(figures, bench)
        assert throughput["baseline"], throughput  # the ceiling was measured in the same run


def test_import_and_queries_run_on_sqlite(tmp_path: Path) -> None:
    argv = ["--scale", "small", "--backend", "sqlite", "--only", "import,query"]
    assert run.main([*argv, "--query-samples", "5", "--results", str(tmp_path)]) == 0
    figures = _figures(tmp_path)
    assert _produced(figures, "import")
    assert all(f["target"] == "" for f in figures)  # SQLite figures are held to no target


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_corpus_benchmark_stores_every_event_once(
    backend: Backend, shared_dir: Path, tmp_path: Path
) -> None:
    if backend == "postgres":
        _require_postgres()
    events = corpus.corpus_events(shared_dir)
    result = corpus.run_corpus(backend, events, tmp_path)
    assert len(events) == result.events > 100
    assert (result.http_stored, result.replay_stored, result.import_stored) == (
        len(events),
        0,
        len(events),
    )
    assert str(len(events)) in result.row()


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_store_cost_reports_a_transaction_breakdown(backend: Backend, tmp_path: Path) -> None:
    if backend == "postgres":
        _require_postgres()
    events = tmp_path / "events.ndjson"
    events.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in generate_events("small", 42)))
    report = store_cost.measure(backend, events, prefix=200, count=32, batch=16, workdir=tmp_path)
    assert "16 events per transaction, 2 transactions after 200 events" in report
    assert "INSERT INTO lineage_events" in report


def test_inferred_reads_compares_declared_and_inferred_walks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--backend", "sqlite", "--dag-runs", "3", "--chains", "2", "--samples", "1"]
    assert inferred_reads.main([*argv, "--workdir", str(tmp_path)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| sqlite")]
    assert len(lines) == 4
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        hook_declared, hook_all, twin_all = (cells[i].rpartition("(")[2] for i in (2, 3, 5))
        # edges=all walks the whole hook chain, as far as the declared twin; declared stops short
        assert hook_all == twin_all != hook_declared, line
        assert int(cells[7].replace(",", "")) > 0, line  # inferred edges marked in the answer
