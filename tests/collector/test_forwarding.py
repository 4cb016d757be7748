"""Forwarding: collector A fans its raw log out to collector B (HTTP), a file, and a dead target.

One scenario, on A's SQLite and PostgreSQL: B is stopped for 10 s in the middle of the load and
restarted; B refuses one event (it validates strictly, A does not) and that event is parked; A is
stopped, more events are committed while its forwarder is down, and A restarted resumes from its
cursor. B ends with exactly A's events bar the parked one, the file with every one of A's events
in log order, and a target that never answers holds up nobody.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from mllineage.collector.app import create_app
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.db.tables import events_t, forward_cursors_t
from mllineage.collector.forward.log import commit_order
from mllineage.collector.forward.service import Forwarder
from mllineage.collector.forward.targets import target_from_config
from mllineage.collector.forward.worker import Pacing
from mllineage.collector.settings import Settings
from tests.collector.events import run_event
from tests.conftest import PG_ADMIN_URL
from tests.servers import free_port, running_server

NO_CLIENT_RETRIES = {"total": 0, "connect": 0, "read": 0}  # the forwarder does the retrying


def _payloads(engine: Engine) -> list[dict[str, Any]]:
    """The raw log in commit order."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(events_t.c.payload).order_by(events_t.c.commit_tx, events_t.c.id)
        )
        return [row[0] for row in rows]


def _key(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True)


def _events(start: int, count: int) -> list[dict[str, Any]]:
    return [
        run_event("COMPLETE", start + i, job=("forwarding", f"job-{start + i}"))
        for i in range(count)
    ]


def _wait_for(client: TestClient, done: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        forwarding: dict[str, Any] = client.get("/ready").json()["forwarding"]
        if done(forwarding):
            return forwarding
        assert time.monotonic() < deadline, f"forwarding did not catch up: {forwarding}"
        time.sleep(0.2)


def test_forwarding_survives_outage_refusal_and_restart(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    b_engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    upgrade(b_engine)
    b_settings = Settings(database_url=str(b_engine.url), strict_validation=True)
    b_port, dead_port = free_port(), free_port()
    archive = tmp_path / "archive.ndjson"
    a_settings = Settings(
        database_url=database_url,
        forward=[
            {
                "type": "http",
                "url": f"http://127.0.0.1:{b_port}",
                "name": "b",
                "retry": NO_CLIENT_RETRIES,
            },
            {"type": "file", "log_file_path": str(archive), "append": True, "name": "archive"},
            {
                "type": "http",
                "url": f"http://127.0.0.1:{dead_port}",
                "name": "dead",
                "retry": NO_CLIENT_RETRIES,
            },
        ],
        forward_park_after=2,
        forward_backoff_max_seconds=1,
    )
    poison = run_event("COMPLETE", 5, job=("forwarding", "no-schema-url"))
    del poison["schemaURL"]  # A stores it with a warning; strict B answers 422 every time
    first = _events(0, 30)
    first.insert(10, poison)

    with ExitStack() as b_running:
        b_running.enter_context(running_server(create_app(b_settings, engine=b_engine), b_port))
        with TestClient(create_app(a_settings, engine=engine)) as a:
            for index, event in enumerate(first):
                if index == 20:
                    b_running.close()  # B goes down mid-load for 10 s
                    down_since = time.monotonic()
                assert a.post("/api/v1/lineage", json=event).status_code == 201
            # While B is down the file target keeps up: one target's outage blocks no other.
            _wait_for(a, lambda f: f["archive"]["backlog"] == 0)
            time.sleep(max(0.0, 10 - (time.monotonic() - down_since)))
            b_running.enter_context(running_server(create_app(b_settings, engine=b_engine), b_port))
            forwarding = _wait_for(a, lambda f: f["b"]["backlog"] == 0)
            assert forwarding["b"]["parked"] == 1
            assert forwarding["dead"]["backlog"] == len(first)
            assert forwarding["dead"]["lagSeconds"] > 0
            assert "ConnectionError" in forwarding["dead"]["lastError"]

        # Committed while A's forwarder is down (another process, without forwarding).
        later = _events(100, 8)
        with TestClient(create_app(Settings(database_url=database_url), engine=engine)) as other:
            for event in later:
                assert other.post("/api/v1/lineage", json=event).status_code == 201

        with TestClient(create_app(a_settings, engine=engine)) as a:
            forwarding = _wait_for(
                a, lambda f: f["b"]["backlog"] == 0 and f["archive"]["backlog"] == 0
            )
            assert forwarding["b"]["forwarded"] == len(first) + len(later) - 1
            assert forwarding["dead"]["backlog"] == len(first) + len(later)

    a_log = _payloads(engine)
    if engine.dialect.name == "postgresql":  # each row carries its transaction: commit order
        with engine.connect() as conn:
            assert (
                conn.execute(select(events_t.c.commit_tx).where(events_t.c.commit_tx == 0)).all()
                == []
            )
    assert len(a_log) == len(first) + len(later)
    b_log = _payloads(b_engine)
    assert sorted(map(_key, b_log)) == sorted(_key(p) for p in a_log if p != poison)
    assert [p for p in b_log if p["job"]["name"].startswith("job-")] == [
        p for p in a_log if p != poison
    ], "B received A's events in A's log order"

    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    first_seen = list(dict.fromkeys(map(_key, lines)))  # at least once: a resend may repeat
    assert first_seen == [_key(p) for p in a_log]
    b_engine.dispose()


def test_a_new_target_starts_at_the_head_of_the_log_as_the_collector_starts(
    engine: Engine, tmp_path: Path
) -> None:
    """The cursor is fixed before ``start`` returns, so the first event accepted after it is
    forwarded even when the target's thread runs late (it once was not: a file target lost it)."""
    target = target_from_config({"type": "file", "log_file_path": str(tmp_path / "out.ndjson")})
    forwarder = Forwarder(engine, [target], Pacing(poll_interval=60))
    forwarder.start()
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                select(forward_cursors_t.c.target).where(forward_cursors_t.c.target == target.name)
            ).all()
        assert stored == [(target.name,)]
        assert forwarder.workers[0].cursor is not None
    finally:
        forwarder.stop()


def test_open_transactions_hold_forwarding_back_only_in_this_database(engine: Engine) -> None:
    """The settled bound: below a running writer of this database, never below another's."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: every committed row is settled")
    other = make_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with other.connect() as elsewhere, engine.connect() as here:
            elsewhere_xid = int(elsewhere.execute(text(_XID)).scalar_one())
            with engine.connect() as reader:
                bound = commit_order(reader).settled_bound(reader)
                assert bound is not None
                assert bound > elsewhere_xid
            here_xid = int(here.execute(text(_XID)).scalar_one())
            with engine.connect() as reader:
                bound = commit_order(reader).settled_bound(reader)
                assert bound is not None
                assert bound <= here_xid
    finally:
        other.dispose()


_XID = "SELECT (pg_current_xact_id()::text)::bigint"
