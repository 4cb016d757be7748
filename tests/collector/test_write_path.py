"""The write contract: a 201 means the raw event is durable, the projection catches up
asynchronously, and every read still sees every write acknowledged before it began."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from mllineage.collector.app import create_app
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.ingest.bulk import import_ndjson
from mllineage.collector.settings import Settings
from tests import throwaway_postgres
from tests.collector.events import dataset, run_event
from tests.collector.test_ingest_api import graph_snapshot
from tests.conftest import empty_database
from tests.servers import free_port, running_server


def workload(runs: int, seed: int = 7) -> list[dict[str, Any]]:
    """Runs of a few jobs over shared datasets: hot rows (jobs, datasets, current runs)."""
    rng = random.Random(seed)
    tables = [dataset("s3://lake", f"t{i}", schema={"fields": [{"name": "x"}]}) for i in range(6)]
    events = []
    for number in range(runs):
        run_id = f"0190a000-0000-7000-8000-{number:012d}"
        job = ("ml", f"job_{number % 5}")
        inputs, outputs = rng.sample(tables, 2), [rng.choice(tables)]
        minute = rng.uniform(0, 10_000)
        events.append(run_event("START", minute, run_id=run_id, job=job, inputs=inputs))
        events.append(
            run_event(
                "COMPLETE", minute + 1, run_id=run_id, job=job, inputs=inputs, outputs=outputs
            )
        )
    return events


def test_every_read_sees_the_write_acknowledged_before_it(
    engine: Engine, database_url: str
) -> None:
    """1,000 x (POST an event, at once GET its run; every 25th also its job's lineage), from
    8 concurrent clients, so the reads race a projector that is busy with others' events."""
    app = create_app(Settings(database_url=database_url), engine=engine)
    events = workload(500)

    def post_then_read(url: str, share: list[tuple[int, dict[str, Any]]]) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            for number, event in share:
                run_id, job = event["run"]["runId"], event["job"]["name"]
                assert http.post("/api/v1/lineage", json=event).status_code == 201
                run = http.get(f"/api/v1/jobs/runs/{run_id}")
                assert run.status_code == 200, run.text
                assert "x-mllineage-projection-lag" not in run.headers
                state = "COMPLETED" if event["eventType"] == "COMPLETE" else "RUNNING"
                assert run.json()["state"] == state
                if number % 25 == 0:
                    lineage = http.get("/api/v1/lineage", params={"nodeId": f"job:ml:{job}"})
                    assert f"job:ml:{job}" in {node["id"] for node in lineage.json()["graph"]}

    # A run's START and COMPLETE go to the same client, in order: its state is then known.
    shares: list[list[tuple[int, dict[str, Any]]]] = [[] for _ in range(8)]
    for number, event in enumerate(events):
        shares[(number // 2) % 8].append((number, event))
    with running_server(app) as url, ThreadPoolExecutor(8) as pool:
        for done in [pool.submit(post_then_read, url, share) for share in shares]:
            done.result()


def test_a_paused_projection_makes_reads_wait_then_say_how_stale(
    engine: Engine, database_url: str
) -> None:
    settings = Settings(database_url=database_url, read_wait_seconds=0.3)
    app = create_app(settings, engine=engine)
    event = run_event("COMPLETE", 1, job=("ml", "paused"))
    path = f"/api/v1/jobs/runs/{event['run']['runId']}"
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        app.state.projector.pause()
        assert http.post("/api/v1/lineage", json=event).status_code == 201
        started = time.monotonic()
        stale = http.get(path)
        assert time.monotonic() - started >= 0.3  # it waited for the projection...
        assert stale.status_code == 404  # ...then answered from the graph as it stands
        assert float(stale.headers["x-mllineage-projection-lag"]) >= 0
        eventual = http.get(path, params={"consistency": "eventual"})
        assert eventual.status_code == 404
        assert "x-mllineage-projection-lag" not in eventual.headers
        ready = http.get("/ready").json()["projection"]
        assert ready["pending"] == 1
        assert ready["oldest_age_seconds"] >= 0
        app.state.projector.resume()
        deadline = time.monotonic() + 30  # a loaded machine may take longer than the 0.3 s
        while http.get("/ready").json()["projection"]["pending"] and time.monotonic() < deadline:
            time.sleep(0.05)
        fresh = http.get(path)
        assert fresh.status_code == 200
        assert "x-mllineage-projection-lag" not in fresh.headers
        assert http.get("/ready").json()["projection"] == {"pending": 0, "oldest_age_seconds": None}


class Collectors:
    """``mllineage serve`` processes on one database, started by ``start``."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        log = (self.logs / f"serve-{port}.log").open("wb")
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "mllineage"), "serve", "--port", str(port)],
            env={**os.environ, "MLLINEAGE_DATABASE_URL": database_url},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        # Generous: on a loaded 2-core machine a start (imports, migration check) took over 30 s.
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    return process, url
            except httpx.TransportError:
                pass
            assert process.poll() is None, "serve exited"
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def collectors(tmp_path: Path) -> Iterator[Collectors]:
    running = Collectors(tmp_path)
    yield running
    running.kill_all()


def post_all(url: str, events: list[dict[str, Any]], acknowledged: list[str]) -> None:
    """POST ``events`` one by one; the run ids of the acknowledged ones go to ``acknowledged``."""
    with httpx.Client(base_url=url, timeout=30) as http:
        for event in events:
            try:
                response = http.post("/api/v1/lineage", json=event)
            except httpx.TransportError:
                return
            if response.status_code == 201:
                acknowledged.append(f"{event['run']['runId']}/{event['eventType']}")


def raw_log(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT payload FROM lineage_events")).scalars().all()
    return [row if isinstance(row, dict) else json.loads(row) for row in rows]


def clean_import(engine: Engine, events: list[dict[str, Any]], tmp_path: Path) -> Any:
    """The graph a one-process import of ``events`` into an empty database builds."""
    empty_database(engine)
    ndjson = tmp_path / "clean.ndjson"
    ndjson.write_text("".join(json.dumps(event) + "\n" for event in events))
    report = import_ndjson(ndjson, engine)
    assert report.stored == len(events)
    assert report.projected == len(events)
    return graph_snapshot(engine)


def test_kill_9_mid_load_loses_no_acknowledged_event(
    engine: Engine, database_url: str, collectors: Collectors, tmp_path: Path
) -> None:
    events = workload(100)
    process, url = collectors.start(database_url)
    acknowledged: list[str] = []
    with ThreadPoolExecutor(4) as pool:
        loads = [pool.submit(post_all, url, events[i::4], acknowledged) for i in range(4)]
        while len(acknowledged) < len(events) // 3:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)  # mid-load, projector and writer mid-flight
        process.wait()
        for load in loads:
            load.result()
    assert len(acknowledged) < len(events)

    _, url = collectors.start(database_url)  # the restarted collector projects what was left
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/api/v1/namespaces").status_code == 200  # waits for the backlog
    collectors.kill_all()  # the clean import below must be the only projector
    stored = raw_log(engine)
    assert {f"{e['run']['runId']}/{e['eventType']}" for e in stored} >= set(acknowledged)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM projection_backlog")).scalar_one() == 0
    after_crash = graph_snapshot(engine)
    assert after_crash == clean_import(engine, stored, tmp_path)


def test_two_processes_ingesting_overlapping_events_in_different_orders(
    engine: Engine, database_url: str, collectors: Collectors, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("several collector processes share PostgreSQL, not SQLite")
    events = workload(60, seed=11)
    forward, backward = events[:90], list(reversed(events[30:]))  # 60 events overlap
    random.Random(3).shuffle(backward)
    (_, first), (_, second) = collectors.start(database_url), collectors.start(database_url)
    acknowledged: list[str] = []
    with ThreadPoolExecutor(4) as pool:
        halves = [(first, forward[0::2]), (first, forward[1::2])]
        halves += [(second, backward[0::2]), (second, backward[1::2])]
        for load in [pool.submit(post_all, url, part, acknowledged) for url, part in halves]:
            load.result()
    assert len(acknowledged) == len(forward) + len(backward)
    with httpx.Client(base_url=second, timeout=30) as http:
        assert http.get("/api/v1/namespaces").status_code == 200  # waits for both projectors
    collectors.kill_all()  # the clean import below must be the only projector
    assert len(raw_log(engine)) == len(events)
    assert graph_snapshot(engine) == clean_import(engine, events, tmp_path)


@pytest.mark.skipif(not throwaway_postgres.available(), reason="no PostgreSQL server binaries")
def test_reads_from_a_streaming_replica_equal_the_primary(tmp_path: Path) -> None:
    with throwaway_postgres.streaming_pair() as (primary, replica):
        engine = make_engine(primary.url)
        upgrade(engine)
        settings = Settings(
            database_url=primary.url, read_database_url=replica.url, read_wait_seconds=10
        )
        app = create_app(settings, engine=engine)
        queries = [
            "/api/v1/namespaces/ml/jobs",
            "/api/v1/lineage?nodeId=job:ml:job_1&depth=4",
            "/api/v1/ml/lineage?nodeId=dataset:s3://lake:t1",
        ]
        with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            for event in workload(20):
                assert http.post("/api/v1/lineage", json=event).status_code == 201
            from_replica = [http.get(query) for query in queries]
        primary_app = create_app(Settings(database_url=primary.url), engine=engine)
        with running_server(primary_app) as url, httpx.Client(base_url=url, timeout=30) as http:
            from_primary = [http.get(query) for query in queries]
        for replica_answer, primary_answer in zip(from_replica, from_primary, strict=True):
            assert replica_answer.status_code == 200
            assert "x-mllineage-projection-lag" not in replica_answer.headers
            assert replica_answer.json() == primary_answer.json()
        assert len(from_replica[0].json()["jobs"]) == 5
        engine.dispose()
