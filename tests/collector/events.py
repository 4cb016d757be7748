"""Small builders of real OpenLineage events for tests (plain dicts, as a producer sends them)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

PRODUCER = "https://github.com/mllineage/mllineage/tree/0.1.0/tests"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    """An ISO timestamp ``minutes`` after T0."""
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": "https://example.com/facet.json", **fields}


def dataset(namespace: str, name: str, **facets: Any) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "facets": facets}


def run_event(
    event_type: str | None,
    minutes: float,
    *,
    run_id: str | None = None,
    job: tuple[str, str] = ("ns", "job"),
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    run_facets: dict[str, Any] | None = None,
    job_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventTime": at(minutes),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_id or str(uuid.uuid4()), "facets": run_facets or {}},
        "job": {"namespace": job[0], "name": job[1], "facets": job_facets or {}},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }
    if event_type is not None:
        event["eventType"] = event_type
    return event
