"""``mllineage replay``: history re-sent in log order to a collector over HTTP and to a file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from mllineage.client.cli import main
from mllineage.collector.app import create_app
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.db.tables import events_t
from mllineage.collector.settings import Settings
from tests.collector.events import at, run_event
from tests.servers import running_server


def test_replay_filters_by_namespace_and_time_and_keeps_log_order(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    events = [run_event("COMPLETE", m, job=("one", f"job-{m}")) for m in range(3)]
    events += [run_event("COMPLETE", m, job=("two", f"job-{m}")) for m in (4, 3)]
    with TestClient(create_app(Settings(database_url=database_url), engine=engine)) as a:
        for event in events:
            assert a.post("/api/v1/lineage", json=event).status_code == 201

    b_engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    upgrade(b_engine)
    runner = CliRunner()
    with running_server(create_app(Settings(database_url=str(b_engine.url)), engine=b_engine)) as b:
        result = runner.invoke(
            main, ["replay", "--to", b, "--namespace", "one", "--database-url", database_url]
        )
        assert result.exit_code == 0, result.output
        assert "3 events sent" in result.output
    with b_engine.connect() as conn:
        received = [
            row[0] for row in conn.execute(select(events_t.c.payload).order_by(events_t.c.id))
        ]
    assert received == events[:3]
    b_engine.dispose()

    archive = tmp_path / "archive.ndjson"
    config = {"type": "file", "log_file_path": str(archive), "append": True}
    since = at(3).replace("Z", "+0000")
    result = runner.invoke(
        main,
        ["replay", "--to", json.dumps(config), "--since", since, "--database-url", database_url],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    assert lines == events[3:], "log order (arrival), not event time"

    bad = runner.invoke(main, ["replay", "--to", '{"url": "x"}', "--database-url", database_url])
    assert bad.exit_code == 2
    assert "needs a transport 'type'" in bad.output
