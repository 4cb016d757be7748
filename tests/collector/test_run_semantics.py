"""Run state, facet merging and graph projection under duplicates and out-of-order delivery."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from mllineage.collector.db.facet_bodies import body, fetch_bodies
from mllineage.collector.db.models import Run, RunFacet
from tests.collector.events import at, dataset, facet, run_event
from tests.conftest import empty_database


def post(client: TestClient, *events: dict[str, Any]) -> None:
    for event in events:
        response = client.post("/api/v1/lineage", json=event)
        assert response.status_code == 201, response.text


def run_row(engine: Engine, run_id: str) -> dict[str, Any]:
    with Session(engine) as session:
        row = session.execute(select(Run).where(Run.uuid == run_id)).scalar_one()
    return {
        "state": row.state,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "parent": row.parent_run_uuid,
    }


def ts(minutes: float) -> datetime:
    return datetime.fromisoformat(at(minutes).replace("Z", "+00:00"))


RUN = "3f5e83fa-3480-44ff-99c5-ff943904e5e8"


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations(["START", "RUNNING", "COMPLETE", "OTHER"])),
    ids="-".join,
)
def test_final_state_follows_event_time_in_any_arrival_order(
    client: TestClient, engine: Engine, order: tuple[str, ...]
) -> None:
    minutes = {"START": 0, "RUNNING": 5, "COMPLETE": 10, "OTHER": 15}
    post(client, *(run_event(kind, minutes[kind], run_id=RUN) for kind in order))
    assert run_row(engine, RUN) == {
        "state": "COMPLETE",
        "started_at": ts(0),
        "ended_at": ts(10),
        "parent": None,
    }


def test_late_start_never_reopens_and_other_never_changes_state(
    client: TestClient, engine: Engine
) -> None:
    post(client, run_event("COMPLETE", 10, run_id=RUN))
    assert run_row(engine, RUN)["state"] == "COMPLETE"
    post(client, run_event("START", 0, run_id=RUN))
    post(client, run_event("OTHER", 30, run_id=RUN))
    post(client, run_event("RUNNING", 40, run_id=RUN))  # even a later non-terminal event
    assert run_row(engine, RUN) == {
        "state": "COMPLETE",
        "started_at": ts(0),
        "ended_at": ts(10),
        "parent": None,
    }


def test_same_event_three_times_is_one_event(client: TestClient, engine: Engine) -> None:
    event = run_event("COMPLETE", 10, run_id=RUN, outputs=[dataset("db", "out")])
    post(client, event, event, event)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM lineage_events")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM dataset_versions")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM run_io")).scalar_one() == 1
    assert run_row(engine, RUN)["state"] == "COMPLETE"


def test_fail_then_abort_at_later_time_ends_aborted(client: TestClient, engine: Engine) -> None:
    post(client, run_event("ABORT", 20, run_id=RUN), run_event("FAIL", 10, run_id=RUN))
    row = run_row(engine, RUN)
    assert (row["state"], row["ended_at"]) == ("ABORT", ts(20))


def run_facets(engine: Engine, run_id: str) -> dict[str, Any]:
    """The run's current facets (retracted ones excluded)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(RunFacet.key, RunFacet.facet_digest).where(RunFacet.run_uuid == run_id)
        ).all()
        bodies = fetch_bodies(conn, (digest for _, digest in rows))
    return {key: body(bodies, digest) for key, digest in rows if digest is not None}


def test_run_facets_merge_replace_by_key_and_retract(client: TestClient, engine: Engine) -> None:
    post(
        client,
        run_event("START", 0, run_id=RUN, run_facets={"a": facet(v=1), "b": facet(v=1)}),
        run_event("COMPLETE", 10, run_id=RUN, run_facets={"a": facet(v=2)}),
        # older event arriving last: its "a" must not win, its "c" is new information
        run_event("RUNNING", 5, run_id=RUN, run_facets={"a": facet(v=99), "c": facet(v=1)}),
        run_event("OTHER", 20, run_id=RUN, run_facets={"b": {**facet(), "_deleted": True}}),
    )
    merged = run_facets(engine, RUN)
    assert {k: v["v"] for k, v in merged.items()} == {"a": 2, "c": 1}


def test_dataset_facets_merge_and_kind_follows_current_facets(
    client: TestClient, engine: Engine
) -> None:
    model = dataset("models", "churn", mllineage_model=facet(name="churn", version="1"))
    post(client, run_event("COMPLETE", 10, outputs=[model]))
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT kind FROM datasets WHERE name = 'churn'")).scalar_one()
        assert kind == "model"
    retract = {
        "eventTime": at(20),
        "producer": "https://example.com/p",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {
            "namespace": "models",
            "name": "churn",
            "facets": {"mllineage_model": {**facet(), "_deleted": True}},
        },
    }
    post(client, retract)
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT kind FROM datasets WHERE name = 'churn'")).scalar_one()
    assert kind == "dataset"


def test_kinds_come_from_facets(client: TestClient, engine: Engine) -> None:
    outputs = [
        dataset("fs", "customers", mllineage_featureGroup=facet(name="customers")),
        dataset("feast", "driver_stats", feast_featureView=facet(name="driver_stats")),
        dataset("reg", "m", datasetType=facet(datasetType="MODEL")),
        dataset("sm", "ep", mllineage_endpoint=facet(name="ep")),
        dataset("s3://b", "raw.csv"),
    ]
    post(client, run_event("COMPLETE", 1, outputs=outputs))
    with engine.connect() as conn:
        kinds: dict[str, str] = dict(conn.execute(text("SELECT name, kind FROM datasets")).all())
    assert kinds == {
        "customers": "feature_group",
        "driver_stats": "feature_group",
        "m": "model",
        "ep": "endpoint",
        "raw.csv": "dataset",
    }


def versions(engine: Engine, name: str) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT v.version, v.run_uuid FROM dataset_versions v"
                " JOIN datasets d ON d.id = v.dataset_id WHERE d.name = :n ORDER BY v.created_at"
            ),
            {"n": name},
        ).all()
    return [(row[0], row[1]) for row in rows]


def test_each_completed_run_makes_a_version_and_explicit_versions_are_kept(
    client: TestClient, engine: Engine
) -> None:
    first, second, trainer = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    post(
        client,
        run_event("START", 0, run_id=first, outputs=[dataset("db", "features")]),
        run_event("COMPLETE", 1, run_id=first, outputs=[dataset("db", "features")]),
        run_event("COMPLETE", 2, run_id=second, outputs=[dataset("db", "features")]),
        run_event(
            "COMPLETE",
            3,
            run_id=trainer,
            job=("ml", "train"),
            inputs=[dataset("db", "features", version=facet(datasetVersion=second))],
            outputs=[dataset("models", "churn", mllineage_model=facet(name="churn", version="7"))],
        ),
    )
    assert versions(engine, "features") == [(first, first), (second, second)]
    assert versions(engine, "churn") == [("7", trainer)]
    with engine.connect() as conn:
        read = conn.execute(
            text(
                "SELECT v.version FROM run_io io JOIN dataset_versions v ON v.id = io.version_id"
                " WHERE io.run_uuid = :r AND io.direction = 'in'"
            ),
            {"r": trainer},
        ).scalar_one()
    assert read == second


def test_a_version_seen_as_input_first_gets_its_producer_later(
    client: TestClient, engine: Engine
) -> None:
    reader, producer = str(uuid.uuid4()), str(uuid.uuid4())
    pinned = dataset("db", "snapshot", version=facet(datasetVersion="v42"))
    post(client, run_event("COMPLETE", 5, run_id=reader, job=("ns", "reader"), inputs=[pinned]))
    assert versions(engine, "snapshot") == [("v42", None)]
    post(client, run_event("COMPLETE", 1, run_id=producer, job=("ns", "writer"), outputs=[pinned]))
    assert versions(engine, "snapshot") == [("v42", producer)]


def edges(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT j.name, e.direction, d.name FROM job_edges e JOIN jobs j ON j.id = e.job_id"
                " JOIN datasets d ON d.id = e.dataset_id ORDER BY 1, 2, 3"
            )
        ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def test_current_edges_come_from_the_latest_completed_run(
    client: TestClient, engine: Engine
) -> None:
    old, new, running = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    job = ("ml", "train")
    post(
        client,
        run_event("COMPLETE", 10, run_id=new, job=job, inputs=[dataset("fs", "fg_b")]),
        run_event("COMPLETE", 5, run_id=old, job=job, inputs=[dataset("fs", "fg_a")]),
        # a newer run that has not completed does not replace the completed one
        run_event("START", 20, run_id=running, job=job, inputs=[dataset("fs", "fg_c")]),
    )
    assert edges(engine) == [("train", "in", "fg_b")]
    post(client, run_event("COMPLETE", 30, run_id=running, job=job, inputs=[dataset("fs", "fg_c")]))
    assert edges(engine) == [("train", "in", "fg_c")]
    with engine.connect() as conn:
        history = conn.execute(text("SELECT count(*) FROM run_io")).scalar_one()
    assert history == 3, "run-level edges are kept historically"


def test_a_job_without_completed_runs_shows_its_latest_run(
    client: TestClient, engine: Engine
) -> None:
    post(
        client, run_event("START", 0, job=("ns", "streaming"), inputs=[dataset("kafka", "clicks")])
    )
    assert edges(engine) == [("streaming", "in", "clicks")]


def test_static_lineage_from_job_events_until_a_run_reports(
    client: TestClient, engine: Engine
) -> None:
    job_event = {
        "eventTime": at(0),
        "producer": "https://example.com/p",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {"namespace": "ns", "name": "etl"},
        "inputs": [dataset("db", "declared_in")],
        "outputs": [dataset("db", "declared_out")],
    }
    post(client, job_event)
    assert edges(engine) == [("etl", "in", "declared_in"), ("etl", "out", "declared_out")]
    post(client, run_event("COMPLETE", 5, job=("ns", "etl"), inputs=[dataset("db", "actual_in")]))
    assert edges(engine) == [("etl", "in", "actual_in")]


def test_parent_symlinks_tags_and_column_lineage_are_projected(
    client: TestClient, engine: Engine
) -> None:
    parent = str(uuid.uuid4())
    output = dataset(
        "s3://lake",
        "features/customers",
        symlinks=facet(
            identifiers=[{"namespace": "hive://metastore", "name": "fs.customers", "type": "TABLE"}]
        ),
        tags=facet(
            tags=[
                {"key": "pii", "value": "true", "field": "email", "source": "manual"},
                {"key": "domain", "value": "crm"},
            ]
        ),
        columnLineage=facet(
            fields={
                "email_hash": {
                    "inputFields": [
                        {
                            "namespace": "postgres://db:5432",
                            "name": "crm.customers",
                            "field": "email",
                            "transformations": [
                                {"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": True}
                            ],
                        }
                    ]
                }
            }
        ),
    )
    post(
        client,
        run_event(
            "COMPLETE",
            1,
            run_id=RUN,
            outputs=[output],
            run_facets={
                "parent": facet(
                    run={"runId": parent.upper()}, job={"namespace": "airflow", "name": "dag.task"}
                )
            },
        ),
    )
    assert run_row(engine, RUN)["parent"] == parent
    with engine.connect() as conn:
        assert conn.execute(text("SELECT namespace, name, type FROM dataset_symlinks")).one() == (
            "hive://metastore",
            "fs.customers",
            "TABLE",
        )
        tags = sorted(
            tuple(r) for r in conn.execute(text("SELECT field, key, value FROM dataset_tags"))
        )
        assert tags == [("", "domain", "crm"), ("email", "pii", "true")]
        lineage = conn.execute(
            text(
                "SELECT c.field, i.name, c.input_field FROM column_lineage c"
                " JOIN datasets i ON i.id = c.input_dataset_id"
            )
        ).one()
        assert tuple(lineage) == ("email_hash", "crm.customers", "email")


def test_invalid_event_leaves_stored_data_untouched(client: TestClient, engine: Engine) -> None:
    post(client, run_event("COMPLETE", 1, run_id=RUN, outputs=[dataset("db", "t")]))
    bad = run_event("FAIL", 2, run_id=RUN, run_facets={"parent": facet(run={}, job={})})
    response = client.post("/api/v1/lineage", json=bad)
    assert response.status_code == 422
    assert {d["loc"] for d in response.json()["details"]} >= {"/run/facets/parent/run/runId"}
    assert run_row(engine, RUN)["state"] == "COMPLETE"


def test_reingesting_after_emptying_is_deterministic(client: TestClient, engine: Engine) -> None:
    events = [
        run_event("START", 0, run_id=RUN, run_facets={"x": facet(v=1)}),
        run_event("COMPLETE", 0, run_id=RUN, run_facets={"x": facet(v=2)}),  # same time: tie
    ]
    post(client, *events)
    first = run_facets(engine, RUN)
    empty_database(engine)
    post(client, *reversed(events))
    assert run_facets(engine, RUN) == first
