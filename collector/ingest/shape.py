"""A fast structural check of an event: accepts the common valid shape without building models.

Contract: ``conforms(payload, kind)`` returns True only when ``EVENT_MODELS[kind]`` (the pydantic
models of ``schemas.openlineage``) would accept ``payload``; False means "not sure", and the
caller then runs pydantic, whose located errors are the ones reported. A refusal here therefore
never changes an answer, and only an acceptance has to be exact: every check below is at least
as strict as the model it stands for (exact ``str`` / ``dict`` / ``list`` types, as JSON decoding
produces them; non-empty strings where the model says ``min_length=1``; facet maps of objects;
``eventType`` one of the spec's values; no ``null`` where the model has a default but no
``None``). Building the models costs ~100 µs per event on the ingest path; this walk a few.
``tests/collector/test_shape.py`` holds the two to agreement on the conformance corpus and on
crafted bad events.
"""

from __future__ import annotations

from typing import Any, get_args

from mllineage.collector.schemas.openlineage import EventKind, EventType

_EVENT_TYPES = frozenset(get_args(EventType))
_ABSENT = object()


def conforms(payload: dict[str, Any], kind: EventKind) -> bool:
    """True if the event model of ``kind`` surely accepts ``payload`` (see the module doc)."""
    if not _envelope(payload):
        return False
    if kind == "dataset":
        return _dataset(payload.get("dataset"))
    if kind == "run" and not _run(payload):
        return False
    job = payload.get("job")
    return (
        type(job) is dict
        and _text(job.get("namespace"))
        and _text(job.get("name"))
        and _facets(job, "facets")
        and _datasets(payload, "inputs", "inputFacets")
        and _datasets(payload, "outputs", "outputFacets")
    )


def _envelope(payload: dict[str, Any]) -> bool:
    schema_url = payload.get("schemaURL")
    return (
        _text(payload.get("eventTime"))
        and _text(payload.get("producer"))
        and (schema_url is None or type(schema_url) is str)
    )


def _run(payload: dict[str, Any]) -> bool:
    """``eventType`` and ``run`` of a RunEvent."""
    event_type = payload.get("eventType")
    if event_type is not None and not (type(event_type) is str and event_type in _EVENT_TYPES):
        return False
    run = payload.get("run")
    return type(run) is dict and _text(run.get("runId")) and _facets(run, "facets")


def _text(value: object) -> bool:
    return type(value) is str and value != ""


def _facets(owner: dict[str, Any], key: str) -> bool:
    """``owner[key]`` absent, or an object whose every value is an object."""
    facets = owner.get(key, _ABSENT)
    if facets is _ABSENT:
        return True
    if type(facets) is not dict:
        return False
    return all(type(facet) is dict for facet in facets.values())


def _dataset(item: object) -> bool:
    return (
        type(item) is dict
        and _text(item.get("namespace"))
        and _text(item.get("name"))
        and _facets(item, "facets")
    )


def _datasets(payload: dict[str, Any], side: str, extra: str) -> bool:
    items = payload.get(side, _ABSENT)
    if items is _ABSENT:
        return True
    if type(items) is not list:
        return False
    return all(_dataset(item) and _facets(item, extra) for item in items)
