"""The fast shape check (``ingest.shape``) against pydantic, the models it stands in for.

The check may only accept what the models accept; anything else goes through pydantic, so the
collector's answers (accept or refuse, and every located error) are those of a validator that
builds the models for every event. Both are compared here on the whole conformance corpus and on
crafted bad events, and so are the ``ParsedEvent`` accessors the ingest path reads instead of
the models.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mllineage.collector.errors import InvalidEvent
from mllineage.collector.ingest import validate as validate_module
from mllineage.collector.ingest.limits import MAX_NESTING
from mllineage.collector.ingest.shape import conforms
from mllineage.collector.ingest.validate import EventValidator, ParsedEvent
from mllineage.collector.schemas.openlineage import EVENT_MODELS, event_kind
from tests.collector.corpus import load_corpus

BUCKETS = ("events", "nonconforming", "partial", "invalid")

RUN_EVENT: dict[str, Any] = {
    "eventType": "COMPLETE",
    "eventTime": "2024-05-01T10:00:00Z",
    "producer": "https://example.com/producer",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {"runId": "0190c2d4-6a8e-7d3c-9a51-3d0b7f1e2a44", "facets": {}},
    "job": {"namespace": "ns", "name": "job", "facets": {}},
    "inputs": [{"namespace": "db", "name": "in", "facets": {}, "inputFacets": {}}],
    "outputs": [{"namespace": "db", "name": "out", "facets": {}, "outputFacets": {}}],
}
DATASET_EVENT: dict[str, Any] = {
    "eventTime": "2024-05-01T10:00:00Z",
    "producer": "https://example.com/producer",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
    "dataset": {"namespace": "db", "name": "t", "facets": {}},
}
JOB_EVENT: dict[str, Any] = {
    "eventTime": "2024-05-01T10:00:00Z",
    "producer": "https://example.com/producer",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
    "job": {"namespace": "ns", "name": "job"},
    "outputs": [{"namespace": "db", "name": "out"}],
}

_DELETE = object()


def _values(*items: object) -> tuple[object, ...]:
    return items


#: (base event, path, new value or _DELETE): one change each, most of them invalid.
MUTATIONS: list[tuple[dict[str, Any], tuple[str | int, ...], object]] = [
    *(
        (RUN_EVENT, ("run", "runId"), value)
        for value in _values("", 123, None, [], {"a": 1}, True, _DELETE, "not-a-uuid")
    ),
    *((RUN_EVENT, ("run",), value) for value in _values(None, [], "run", {}, {"runId": "x"})),
    *((RUN_EVENT, ("job",), value) for value in _values(None, [], _DELETE, {"namespace": "ns"})),
    *(
        (RUN_EVENT, ("job", key), value)
        for key in ("namespace", "name")
        for value in _values("", 7, None, _DELETE, ["x"])
    ),
    *(
        (RUN_EVENT, ("eventType",), value)
        for value in _values("BOGUS", "start", 5, None, _DELETE, [], {}, "OTHER")
    ),
    *(
        (RUN_EVENT, (key,), value)
        for key in ("eventTime", "producer")
        for value in _values("", 5, None, _DELETE, [], "no-zone or date")
    ),
    *((RUN_EVENT, ("schemaURL",), value) for value in _values(None, _DELETE, 5, [], "not a uri")),
    *(
        (RUN_EVENT, (*owner, "facets"), value)
        for owner in (("run",), ("job",), ("inputs", 0), ("outputs", 0))
        for value in _values(None, [], "x", {"f": None}, {"f": []}, {"f": "x"}, {"f": {}}, _DELETE)
    ),
    *(
        (RUN_EVENT, (side, 0, extra), value)
        for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets"))
        for value in _values(None, [], {"f": 1}, {"f": {"_producer": "p", "_schemaURL": "s"}})
    ),
    *(
        (RUN_EVENT, (side,), value)
        for side in ("inputs", "outputs")
        for value in _values(
            None, {}, "x", [None], ["x"], [[]], [{}], [{"namespace": "n"}], _DELETE
        )
    ),
    *(
        (RUN_EVENT, (side, 0, key), value)
        for side in ("inputs", "outputs")
        for key in ("namespace", "name")
        for value in _values("", 1, None, _DELETE)
    ),
    *(
        (RUN_EVENT, (key,), 1)
        for key in ("_private", "model_config", "model_fields", "__class__", "extra")
    ),
    (RUN_EVENT, ("run", "facets", "parent"), {"run": {"runId": 5}, "job": {}}),
    (RUN_EVENT, ("job", "facets", "ownership"), {"owners": [{"name": 1}]}),
    (RUN_EVENT, ("dataset",), {"namespace": "db", "name": "t"}),
    *((DATASET_EVENT, ("dataset",), value) for value in _values(None, [], "x", {}, _DELETE)),
    *(
        (DATASET_EVENT, ("dataset", key), value)
        for key in ("namespace", "name", "facets")
        for value in _values("", 1, None, _DELETE, [])
    ),
    (DATASET_EVENT, ("eventType",), "BOGUS"),  # not a field of a DatasetEvent: kept as extra
    (DATASET_EVENT, ("inputs",), "not a list"),
    *((JOB_EVENT, ("job", "facets"), value) for value in _values(None, [], {"f": 1})),
    *((JOB_EVENT, ("outputs",), value) for value in _values(None, [1], [{"name": "x"}])),
    (JOB_EVENT, ("dataset",), {"namespace": "db"}),  # job + dataset: a JobEvent, extra key
    (JOB_EVENT, ("eventType",), "BOGUS"),
]


def _mutated(base: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    event = copy.deepcopy(base)
    owner: Any = event
    for step in path[:-1]:
        owner = owner[step]
    if value is _DELETE:
        owner.pop(path[-1], None)
    else:
        owner[path[-1]] = value
    return event


def _crafted() -> list[tuple[str, dict[str, Any]]]:
    cases = [("run", RUN_EVENT), ("dataset", DATASET_EVENT), ("job", JOB_EVENT)]
    for base, path, value in MUTATIONS:
        name = f"{event_kind(base)}:{'/'.join(map(str, path))}={value!r}"
        cases.append((name, _mutated(base, path, value)))
    return cases


def _everything(shared_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    events = [
        (f"{bucket}/{name}", payload)
        for bucket in BUCKETS
        for name, payload in load_corpus(shared_dir, bucket)
        if isinstance(payload, dict)
    ]
    assert len(events) > 350
    return events + _crafted()


def _pydantic_accepts(payload: dict[str, Any]) -> bool:
    try:
        EVENT_MODELS[event_kind(payload)].model_validate(payload)
    except ValidationError:
        return False
    return True


def test_the_shape_check_agrees_with_pydantic(shared_dir: Path) -> None:
    """Accepts exactly what the models accept (JSON-decoded input), so it never lets a bad event
    through and the common valid event never pays for the models."""
    accepted = refused = 0
    for name, payload in _everything(shared_dir):
        expected = _pydantic_accepts(payload)
        assert conforms(payload, event_kind(payload)) == expected, name
        accepted += expected
        refused += not expected
    assert accepted > 200
    assert refused > 200


def _outcome(validator: EventValidator, payload: dict[str, Any]) -> object:
    try:
        parsed = validator.validate(payload)
    except InvalidEvent as exc:
        return ("refused", exc.message, [(d.loc, d.msg) for d in exc.details])
    return (
        "accepted",
        parsed.kind,
        parsed.canonical,
        parsed.digest,
        parsed.event_time,
        [(w.loc, w.msg) for w in parsed.warnings],
    )


def test_answers_are_those_of_a_validator_that_always_builds_the_models(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same accept/refuse, same messages and located errors (pydantic's), same warnings and bytes
    as when every event goes through pydantic (the shape check switched off)."""
    cases = _everything(shared_dir)
    fast = [_outcome(EventValidator(), payload) for _, payload in cases]
    monkeypatch.setattr(validate_module, "conforms", lambda payload, kind: False)
    slow = [_outcome(EventValidator(), payload) for _, payload in cases]
    for (name, _), ours, reference in zip(cases, fast, slow, strict=True):
        assert ours == reference, name
    refusals = [outcome for outcome in fast if outcome[0] == "refused"]  # type: ignore[index]
    assert len(refusals) > 200


def test_refusals_carry_pydantic_locations() -> None:
    payload = _mutated(RUN_EVENT, ("inputs", 0, "name"), "")
    with pytest.raises(InvalidEvent) as caught:
        EventValidator().validate(payload)
    assert caught.value.message == "not a valid OpenLineage RunEvent"
    assert [d.loc for d in caught.value.details] == ["/inputs/0/name"]
    assert "at least 1 character" in caught.value.details[0].msg


def test_accessors_read_what_the_model_holds(shared_dir: Path) -> None:
    """``ParsedEvent``'s dict accessors equal the model's fields; the model is built lazily and
    equals pydantic's."""
    validator = EventValidator()
    checked = 0
    for name, payload in _everything(shared_dir):
        try:
            parsed = validator.validate(payload)
        except InvalidEvent:
            continue
        model = EVENT_MODELS[parsed.kind].model_validate(payload)
        assert parsed.producer == model.producer, name
        event_type = getattr(model, "eventType", None) if parsed.kind == "run" else None
        assert parsed.event_type == event_type, name
        run = getattr(model, "run", None)
        assert parsed.run_id == (run.runId if run is not None else None), name
        job = getattr(model, "job", None) if parsed.kind != "dataset" else None
        assert parsed.job == ((job.namespace, job.name) if job is not None else None), name
        assert parsed.event == model, name
        checked += 1
    assert checked > 200


def test_the_model_is_built_only_when_asked_for() -> None:
    parsed = EventValidator().validate(copy.deepcopy(RUN_EVENT))
    assert parsed.model is None
    assert parsed.namespaces() == {"ns", "db"}
    event = parsed.event
    assert parsed.model is event
    stored = ParsedEvent(
        kind="dataset",
        payload=DATASET_EVENT,
        canonical=b"",
        digest=b"",
        event_time=parsed.event_time,
    )
    assert stored.job is None
    assert stored.run_id is None
    assert stored.event_type is None
    assert stored.namespaces() == {"db"}


def _nested(levels: int) -> dict[str, Any]:
    """A RunEvent whose run facet ``deep`` nests to ``levels`` levels in all."""
    inner: Any = {}
    for _ in range(levels - 5):  # event > run > facets > deep are the first four
        inner = {"x": inner}
    event = copy.deepcopy(RUN_EVENT)
    event["run"]["facets"]["deep"] = {"_producer": "p", "_schemaURL": "s", "x": inner}
    return event


def test_the_nesting_walk_is_skipped_only_when_it_cannot_find_anything() -> None:
    validator = EventValidator()
    validator.validate(_nested(MAX_NESTING))
    with pytest.raises(InvalidEvent) as caught:
        validator.validate(_nested(MAX_NESTING + 1))
    assert caught.value.details[0].msg == f"nested deeper than {MAX_NESTING} levels"
    # many containers side by side, none deep: more openers than the limit, still accepted
    wide = copy.deepcopy(RUN_EVENT)
    wide["inputs"] = [{"namespace": "db", "name": f"t{i}"} for i in range(2 * MAX_NESTING)]
    assert len(validator.validate(wide).namespaces()) == 2
