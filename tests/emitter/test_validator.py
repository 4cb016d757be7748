"""The offline validator used by every emitter test rejects what the spec rejects."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mllineage.emitter import Emitter, endpoint_dataset
from tests.emitter.conftest import MemoryTransport
from tests.emitter.spec import SpecValidator


@pytest.fixture
def failed_deployment(emitter: Emitter, transport: MemoryTransport) -> dict[str, Any]:
    with (
        pytest.raises(RuntimeError),
        emitter.run("deploy", outputs=[endpoint_dataset("sm://eu", "e")]),
    ):
        raise RuntimeError("no capacity")
    event = copy.deepcopy(transport.events[-1])
    transport.events.clear()  # the corrupted copies below are not the emitter's output
    return event


def test_the_emitted_event_is_valid(spec: SpecValidator, failed_deployment: dict[str, Any]) -> None:
    spec.assert_valid(failed_deployment)
    assert {"errorMessage", "jobType", "mllineage_endpoint"} <= spec.checked_keys(failed_deployment)


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        (("run", "runId"), "run-1", "core"),
        (("eventTime",), "yesterday", "core"),
        (("producer",), "not a uri", "core"),
        (("run", "facets", "errorMessage", "programmingLanguage"), None, "run.errorMessage"),
        (("job", "facets", "jobType", "integration"), None, "job.jobType"),
        (
            ("outputs", 0, "facets", "mllineage_endpoint", "trafficPercent"),
            150,
            "dataset.mllineage_endpoint",
        ),
        (
            ("outputs", 0, "facets", "mllineage_endpoint", "name"),
            None,
            "dataset.mllineage_endpoint",
        ),
    ],
)
def test_corrupted_events_are_rejected(
    spec: SpecValidator,
    failed_deployment: dict[str, Any],
    path: tuple[Any, ...],
    value: Any,
    error: str,
) -> None:
    event = failed_deployment
    target = event
    for step in path[:-1]:
        target = target[step]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    errors = spec.event_errors(event)
    assert any(e.startswith(error) for e in errors), errors
