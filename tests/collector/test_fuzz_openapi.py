"""Schemathesis against the collector's own OpenAPI document, on SQLite and PostgreSQL.

Every operation gets generated requests, valid and invalid by the document (positive and negative
generation), and every check runs on each answer: no 5xx, every status, header and body as
documented, invalid requests rejected. Bounded (a fixed number of derandomised examples per
operation and mode) so it costs seconds in ``make test``.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from schemathesis import APIOperation, Case, CheckFunction, GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from sqlalchemy import Engine

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from tests.collector.events import dataset, run_event

EXAMPLES_PER_OPERATION = 4
#: Batches of generated events are the costliest requests (~0.5 s each).
EXAMPLES_PER_BATCH = 2

#: Checks that do not apply to an operation, and why (every other check runs everywhere):
#: - Whether an event is accepted depends on more than the document can say (standard facet
#:   schemas, size limits, U+0000): a schema-valid event may get a documented 422. The
#:   Hypothesis properties in test_ingest_properties.py check that valid events are accepted.
#: - The batch answers 200 with per-item failures (OpenLineage.yml), so a batch holding invalid
#:   events is not rejected as a whole, by design.
NOT_APPLICABLE: dict[str, list[CheckFunction]] = {
    "POST /api/v1/lineage": [positive_data_acceptance],
    "POST /api/v1/lineage/batch": [positive_data_acceptance, negative_data_rejection],
}


Operation = APIOperation[Any, Any, Any, Any]


def modes(operation: Operation) -> list[GenerationMode]:
    """Negative requests need something to break other than the path: any path text is valid
    (U+0000 aside, which the generator does not put in paths)."""
    breakable = operation.body or any(p.location != "path" for p in operation.iter_parameters())
    return (
        [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        if breakable
        else [GenerationMode.POSITIVE]
    )


def fuzz(operation: Operation, mode: GenerationMode, excluded: list[CheckFunction]) -> None:
    """Send a bounded number of generated requests to ``operation``; raise on a failure."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_BATCH if "batch" in operation.label else EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: Case[Operation]) -> None:
        case.call_and_validate(excluded_checks=excluded)

    answers_as_documented()


def test_every_operation_answers_as_documented(engine: Engine, settings: Settings) -> None:
    app = create_app(settings, engine=engine)
    with TestClient(app) as client:  # lineage to walk, so reads do more than 404
        seed = [
            run_event("COMPLETE", 1, job=("ns", "etl"), inputs=[dataset("ns", "raw")],
                      outputs=[dataset("ns", "clean")]),
            run_event("COMPLETE", 2, job=("ns", "train"), inputs=[dataset("ns", "clean")],
                      outputs=[dataset("s3://models", "m")]),
        ]  # fmt: skip
        assert client.post("/api/v1/lineage/batch", json=seed).status_code == 200
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        assert len(operations) == len(app.openapi()["paths"]) + 1  # /lineage has GET and POST
        failures: dict[str, str] = {}
        for operation in operations:
            for mode in modes(operation):
                try:
                    fuzz(operation, mode, NOT_APPLICABLE.get(operation.label, []))
                except (Exception, BaseExceptionGroup) as exc:
                    failures[f"{operation.label} ({mode.value})"] = str(exc)[:2000]
    if failures:
        pytest.fail("\n\n".join(f"{k}:\n{v}" for k, v in failures.items()), pytrace=False)
