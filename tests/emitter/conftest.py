"""Fixtures of the emitter tests: an in-memory transport behind a real client, the spec validator.

Events are captured by a real ``openlineage.client`` transport (a small ``Transport``
subclass), after the client has done its own processing (tags, filters), serialised the way
every transport serialises them (``Serde``). Every event an emitter test captures is validated
against the official schemas at teardown, when ``../shared`` is present.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport

from mllineage.emitter import Emitter
from tests.emitter.spec import SpecValidator, shared_dir


class MemoryTransport(Transport):
    """Keeps every event as the JSON document a network transport would have sent."""

    kind = "mllineage_test_memory"
    config_class = Config

    def __init__(self, config: Config | None = None) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: Any) -> None:
        # Round-trip through strict JSON: NaN or a non-serialisable value would fail here.
        self.events.append(json.loads(json.dumps(Serde.to_dict(event), allow_nan=False)))


class FailingTransport(Transport):
    """A transport whose backend is down."""

    kind = "mllineage_test_failing"

    def __init__(self) -> None:
        self.attempts = 0

    def emit(self, event: Any) -> None:
        self.attempts += 1
        raise ConnectionError("backend unreachable")


@pytest.fixture(scope="session")
def spec() -> SpecValidator:
    path = shared_dir()
    if path is None:
        pytest.skip("../shared/openlineage-spec is not present (set MLLINEAGE_SHARED_DIR)")
    return _session_validator(path)


@pytest.fixture
def transport() -> Iterator[MemoryTransport]:
    memory = MemoryTransport()
    yield memory
    path = shared_dir()
    if path is not None and memory.events:
        validator = _session_validator(path)
        for event in memory.events:
            validator.assert_valid(event)


_VALIDATORS: dict[str, SpecValidator] = {}


def _session_validator(path: Any) -> SpecValidator:
    key = str(path)
    if key not in _VALIDATORS:
        _VALIDATORS[key] = SpecValidator(path / "openlineage-spec")
    return _VALIDATORS[key]


@pytest.fixture
def emitter(transport: MemoryTransport) -> Emitter:
    """A non-strict emitter in namespace ``ml-tests``, without git lookups."""
    return Emitter(OpenLineageClient(transport=transport), namespace="ml-tests", source_code=False)
