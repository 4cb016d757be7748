"""The in-database projection (PostgreSQL) leaves exactly the graph the Python fold leaves.

Differential test: the same events (the shared conformance corpus, the demo, a slice of the
benchmark workload; shuffled, so runs arrive out of order and across batches, with resent
duplicates) go in the same batches into two fresh PostgreSQL databases: one through the Python
fold (``project_python``), one through ``mllineage_project``, both after the same raw insert. Every graph
table must hold the same rows. A rule added to the fold and not to ``pg_program`` fails here.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine

from bench.workload import generate_events
from mllineage.client.demo import demo_events
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.errors import CollectorError
from mllineage.collector.ingest.pg_projection import project_in_database
from mllineage.collector.ingest.store import RawBatch, StoreContext, derive_after_projection
from mllineage.collector.ingest.store.python_fold import project_python
from mllineage.collector.ingest.store.raw_log import insert_raw
from mllineage.collector.ingest.validate import EventValidator, ParsedEvent
from tests.collector.events import at, dataset, facet, run_event
from tests.collector.graph_tables import graph_rows, graph_tables
from tests.conftest import (
    PG_ADMIN_URL,
    _postgres_or_skip,
    _sqlalchemy_url,
    empty_database,
    shared_path,
)

WORKLOAD_SLICE = 2_000  # the small workload has 1,924 events: all of them
BATCH = 600  # > 500: the program takes statistics of its staged tables


def _corpus_payloads() -> list[dict[str, Any]]:
    shared = shared_path()
    if shared is None:
        return []
    root = shared / "conformance"
    buckets = ("events", "nonconforming", "partial")
    return [json.loads(p.read_text()) for b in buckets for p in sorted((root / b).rglob("*.json"))]


def _events() -> list[ParsedEvent]:
    """Every valid event of the three sources, shuffled, with a tenth of them sent twice."""
    validator = EventValidator()
    payloads = [
        *_corpus_payloads(),
        *demo_events(),
        *islice(generate_events("small", seed=7), WORKLOAD_SLICE),
    ]
    events = []
    for payload in payloads:
        try:
            events.append(validator.validate(payload))
        except CollectorError:
            continue  # the corpus holds events a collector must refuse
    shuffler = random.Random(10)
    events += shuffler.sample(events, len(events) // 10)
    shuffler.shuffle(events)
    return events


def _edge_cases() -> list[dict[str, Any]]:
    """Events that exercise the order-sensitive rules: ties on event time, a run named by two
    jobs, retractions, a dataset listed twice in one event, io facets arriving late, parents."""
    run_a = str(uuid.uuid5(uuid.NAMESPACE_URL, "edge-a")).upper()  # normalised to lower case
    run_b = str(uuid.uuid5(uuid.NAMESPACE_URL, "edge-b"))
    run_c = str(uuid.uuid5(uuid.NAMESPACE_URL, "edge-c"))
    lineage = facet(
        fields={
            "out": {
                "inputFields": [
                    {"namespace": "src", "name": "raw", "field": "a"},
                    {"namespace": "src", "name": "raw", "field": "a", "transformations": []},
                ]
            }
        }
    )
    tags = facet(
        tags=[
            {"key": "pii", "value": "true", "field": "email", "source": "x"},
            {"key": "pii", "value": "true", "field": "email", "source": "y"},
            {"key": "tier", "value": "gold"},
        ]
    )
    symlinks = facet(
        identifiers=[
            {"namespace": "hive", "name": "db.t", "type": "TABLE"},
            {"namespace": "hive", "name": "db.t", "type": "VIEW"},
        ]
    )
    stats = {"outputStatistics": facet(rowCount=10)}
    fewer = {"outputStatistics": facet(rowCount=5)}
    gone = facet(_deleted=True)
    parent = facet(run={"runId": run_b.upper()}, job={"namespace": "ns", "name": "parent"})
    model = facet(name="m", version="7")
    return [
        run_event("START", 1, run_id=run_a, job=("ns", "a1"), inputs=[dataset("src", "raw")]),
        run_event("OTHER", 0, run_id=run_a, job=("ns", "a2"), run_facets={"parent": parent}),
        run_event(
            "COMPLETE",
            5,
            run_id=run_a,
            job=("ns", "a1"),
            outputs=[
                {
                    **dataset("dst", "t", columnLineage=lineage, tags=tags, own=facet(n=1)),
                    "outputFacets": stats,
                },
                {
                    **dataset("dst", "t", symlinks=symlinks, own=facet(n=2)),
                    "outputFacets": fewer,
                },
            ],
        ),
        run_event("FAIL", 5, run_id=run_a, job=("ns", "a1"), outputs=[dataset("dst", "t")]),
        run_event(
            "RUNNING",
            9,
            run_id=run_a,
            job=("ns", "a1"),
            outputs=[
                dataset("dst", "t", mllineage_model=model, version=facet(datasetVersion="v1"))
            ],
        ),
        run_event("START", 2, run_id=run_b, job=("ns", "a2"), outputs=[dataset("dst", "u")]),
        run_event(
            "RUNNING",
            2.5,
            run_id=run_b,
            job=("ns", "a2"),
            outputs=[{**dataset("dst", "u", tags=tags), "outputFacets": fewer}],
        ),
        run_event(
            "COMPLETE",
            3,
            run_id=run_b,
            job=("ns", "a2"),
            outputs=[{**dataset("dst", "u", tags=gone), "outputFacets": stats}],
            job_facets={"jobType": facet(processingType="BATCH", integration="x", jobType="X")},
        ),
        run_event(None, 4, run_id=run_c, job=("ns", "a1"), run_facets={"parent": gone}),
        run_event(
            "COMPLETE",
            8,
            run_id=run_c,
            job=("ns", "a1"),
            outputs=[dataset("dst", "t", datasetType=facet(datasetType="model"))],
        ),
        {
            "eventTime": at(6),
            "producer": "https://example.com/p",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
            "job": {"namespace": "ns", "name": "static", "facets": {}},
            "inputs": [dataset("dst", "t")],
            "outputs": [dataset("dst", "v", version=facet(datasetVersion="v2"))],
        },
        {
            "eventTime": at(7),
            "producer": "https://example.com/p",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
            "dataset": dataset(
                "dst", "v", version=facet(datasetVersion="v2"), columnLineage=gone, symlinks=gone
            ),
        },
    ]


@pytest.fixture(scope="module")
def two_databases() -> Iterator[tuple[Engine, Engine]]:
    """Two fresh, migrated PostgreSQL databases (Python fold, SQL program); dropped after."""
    _postgres_or_skip()
    names = [f"mllineage_diff_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    base = PG_ADMIN_URL.rpartition("/")[0]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    engines = [make_engine(_sqlalchemy_url(f"{base}/{name}"), pool_size=1) for name in names]
    try:
        for engine in engines:
            upgrade(engine)
        yield engines[0], engines[1]
    finally:
        for engine in engines:
            engine.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _store(engine: Engine, batch: list[ParsedEvent], now: datetime, *, sql: bool) -> None:
    """Raw log first, then the batch's new events (``RawBatch``: digest order) projected by the
    Python fold or by the SQL program, whatever the batch size."""
    with engine.begin() as conn:
        ctx = StoreContext.open(conn)
        fresh = insert_raw(ctx, batch, now)
        raw = RawBatch.of({p.digest: p for p in batch if p.digest in fresh}, now)
        if sql:
            project_in_database(conn, raw.digests, now=now)
        else:
            project_python(ctx, raw)
        derive_after_projection(conn, raw.digests)  # as ``project_batch`` does after either


def _project_both_ways(engines: tuple[Engine, Engine], events: list[ParsedEvent], size: int) -> int:
    """Feed ``events`` in batches of ``size`` to both databases; assert equal graphs; row count."""
    by_fold, by_sql = engines
    for engine in engines:
        empty_database(engine)
    start = datetime(2026, 12, 6, tzinfo=UTC)
    for number, offset in enumerate(range(0, len(events), size)):
        batch = events[offset : offset + size]
        now = start + timedelta(seconds=number)
        _store(by_fold, batch, now, sql=False)
        _store(by_sql, batch, now, sql=True)

    compared = 0
    with by_fold.connect() as fold_conn, by_sql.connect() as sql_conn:
        for table in graph_tables():
            expected = graph_rows(fold_conn, table)
            assert graph_rows(sql_conn, table) == expected, table.name
            compared += len(expected)
    return compared


def test_sql_program_projects_the_graph_the_python_fold_does(
    two_databases: tuple[Engine, Engine],
) -> None:
    assert _project_both_ways(two_databases, _events(), BATCH) > 10_000


@pytest.mark.parametrize(("seed", "size"), [(0, 1), (1, 3), (2, 6), (3, 50), (4, 50), (5, 50)])
def test_order_sensitive_rules_agree_in_any_arrival_order(
    two_databases: tuple[Engine, Engine], seed: int, size: int
) -> None:
    validator = EventValidator()
    events = [validator.validate(payload) for payload in _edge_cases()]
    shuffler = random.Random(seed)
    events += shuffler.sample(events, 3)
    shuffler.shuffle(events)
    assert _project_both_ways(two_databases, events, size) > 20
