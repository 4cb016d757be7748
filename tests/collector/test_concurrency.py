"""Many clients, two collector instances, one database: nothing lost, nothing doubled."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import Engine, text

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from tests.collector.events import dataset, run_event
from tests.servers import running_server

CLIENTS = 8
RUNS_PER_CLIENT = 12
JOBS = [("ml", "build_features"), ("ml", "train"), ("ml", "score")]
DATASETS = [("s3://lake", f"table_{i}") for i in range(4)]


def events_for_client(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events = []
    for _ in range(RUNS_PER_CLIENT):
        run_id = str(uuid.uuid4())
        job = rng.choice(JOBS)
        inputs = [dataset(*d) for d in rng.sample(DATASETS, 2)]
        outputs = [dataset(*rng.choice(DATASETS))]
        minute = rng.uniform(0, 1000)
        events.append(run_event("START", minute, run_id=run_id, job=job, inputs=inputs))
        events.append(
            run_event(
                "COMPLETE", minute + 1, run_id=run_id, job=job, inputs=inputs, outputs=outputs
            )
        )
    rng.shuffle(events)  # out of order within each client, too
    return events


def test_concurrent_clients_against_two_collectors(engine: Engine, database_url: str) -> None:
    settings = Settings(database_url=database_url, ingest_max_batch=16)
    with (
        running_server(create_app(settings, engine=engine)) as first,
        running_server(create_app(settings, engine=engine)) as second,
    ):

        def client(seed: int) -> list[int]:
            statuses = []
            with httpx.Client(timeout=60) as http:
                for index, event in enumerate(events_for_client(seed)):
                    url = (first, second)[(seed + index) % 2]
                    statuses.append(http.post(f"{url}/api/v1/lineage", json=event).status_code)
                    if index % 5 == 0:  # and a retry of the same event, like a client would
                        statuses.append(http.post(f"{url}/api/v1/lineage", json=event).status_code)
            return statuses

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(client, range(CLIENTS)))

    assert {status for statuses in results for status in statuses} == {201}
    total_runs = CLIENTS * RUNS_PER_CLIENT
    with engine.connect() as conn:

        def scalar(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar_one())

        assert scalar("SELECT count(*) FROM lineage_events") == 2 * total_runs
        assert scalar("SELECT count(*) FROM runs") == total_runs
        assert scalar("SELECT count(*) FROM runs WHERE state = 'COMPLETE'") == total_runs
        assert scalar("SELECT count(*) FROM jobs") == len(JOBS)
        assert scalar("SELECT count(*) FROM datasets") == len(DATASETS)
        assert scalar("SELECT count(*) FROM namespaces") == 2
        assert scalar("SELECT count(*) FROM dataset_versions") == total_runs
        # each job's current edges are exactly its latest completed run's edges
        mismatched = scalar(
            """
            SELECT count(*) FROM jobs j WHERE EXISTS (
                SELECT io.direction, io.dataset_id FROM run_io io WHERE io.run_uuid = j.current_run_uuid
                EXCEPT SELECT e.direction, e.dataset_id FROM job_edges e WHERE e.job_id = j.id
            ) OR EXISTS (
                SELECT e.direction, e.dataset_id FROM job_edges e WHERE e.job_id = j.id
                EXCEPT SELECT io.direction, io.dataset_id FROM run_io io WHERE io.run_uuid = j.current_run_uuid
            )
            """
        )
        assert mismatched == 0
        latest = scalar(
            """
            SELECT count(*) FROM jobs j WHERE j.current_run_uuid <> (
                SELECT r.uuid FROM runs r WHERE r.job_id = j.id
                ORDER BY r.ended_at DESC LIMIT 1
            )
            """
        )
        assert latest == 0
