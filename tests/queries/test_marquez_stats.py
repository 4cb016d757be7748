"""Marquez's ``/api/v1/stats/…``: interval shapes, counts from our data, Marquez's validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.collector.events import dataset, run_event
from tests.queries.conftest import ingest


def _event(event_type: str, when: datetime, job: str, output: tuple[str, str]) -> dict[str, Any]:
    event = run_event(event_type, 0, job=("stats", job), outputs=[dataset(*output)])
    event["eventTime"] = when.isoformat()
    return event


def _holding(intervals: list[dict[str, Any]], moment: datetime) -> dict[str, Any]:
    [found] = [
        i
        for i in intervals
        if datetime.fromisoformat(i["startInterval"])
        <= moment
        < datetime.fromisoformat(i["endInterval"])
    ]
    return found


def test_stats_count_events_jobs_datasets_and_sources(client: TestClient) -> None:
    now = datetime.now(UTC)
    two_hours_ago, three_days_ago = now - timedelta(hours=2), now - timedelta(days=3)
    ingest(
        client,
        [
            _event("START", two_hours_ago, "a", ("s3://one", "x")),
            _event("COMPLETE", two_hours_ago + timedelta(seconds=1), "a", ("s3://one", "x")),
            _event("FAIL", now - timedelta(minutes=1), "b", ("s3://one", "y")),
            _event("COMPLETE", three_days_ago, "c", ("s3://two", "z")),
        ],
    )

    day = client.get("/api/v1/stats/lineage-events", params={"period": "DAY"}).json()
    assert len(day) == 24
    assert set(day[0]) == {"startInterval", "endInterval", "fail", "start", "complete", "abort"}
    assert (
        datetime.fromisoformat(day[-1]["startInterval"])
        <= now
        < datetime.fromisoformat(day[-1]["endInterval"])
    )
    busy = _holding(day, two_hours_ago)
    assert (busy["start"], busy["complete"], busy["fail"]) == (1, 1, 0)
    assert sum(i["fail"] for i in day) == 1
    assert sum(i["complete"] for i in day) == 1

    week = client.get(
        "/api/v1/stats/lineage-events", params={"period": "WEEK", "timezone": "America/New_York"}
    ).json()
    assert len(week) == 7
    assert sum(i["complete"] for i in week) == 2
    new_york = datetime.fromisoformat(week[0]["startInterval"]).astimezone(
        ZoneInfo("America/New_York")
    )
    assert (new_york.hour, new_york.minute) == (0, 0), "WEEK's days are the time zone's days"
    assert _holding(week, three_days_ago)["complete"] == 1

    expected = {"jobs": 3, "datasets": 3, "sources": 2}
    for kind, count in expected.items():
        answer = client.get(f"/api/v1/stats/{kind}", params={"period": "DAY"}).json()
        assert len(answer) == 24
        assert set(answer[0]) == {"startInterval", "endInterval", "count"}
        assert answer[-1]["count"] == count, kind
        weekly = client.get(
            f"/api/v1/stats/{kind}", params={"period": "WEEK", "timezone": "Asia/Kolkata"}
        ).json()
        assert [i["count"] for i in weekly][-1] == count

    for params in (
        {"period": "WEEK"},
        {"period": "MONTH"},
        {},
        {"period": "WEEK", "timezone": "Mars/Olympus"},
    ):
        answer = client.get("/api/v1/stats/lineage-events", params=params)
        assert answer.status_code == 400, params
        assert answer.json()["error"]
