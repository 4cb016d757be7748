"""Pydantic models of the OpenLineage 2-0-2 core event shapes, lenient where real producers are.

The three event kinds are told apart by shape (``run`` present -> RunEvent, ``dataset`` present ->
DatasetEvent, else ``job`` -> JobEvent), never by ``schemaURL``. Facets stay plain dicts here;
``facets.py`` validates the standard ones by key and position. Fields whose *format* real producers
break (``producer`` not a URI, ``runId`` not a UUID, zone-less ``eventTime``) are plain strings:
``ingest.validate`` records those as warnings instead of rejecting the event.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]
Facets = dict[str, dict[str, Any]]


class _Lenient(BaseModel):
    """Unknown keys are kept: OpenLineage objects are open (``additionalProperties: true``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Run(_Lenient):
    runId: str = Field(min_length=1)
    facets: Facets = Field(default_factory=dict)


class Job(_Lenient):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    facets: Facets = Field(default_factory=dict)


class Dataset(_Lenient):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    facets: Facets = Field(default_factory=dict)


class InputDataset(Dataset):
    inputFacets: Facets = Field(default_factory=dict)


class OutputDataset(Dataset):
    outputFacets: Facets = Field(default_factory=dict)


class _BaseEvent(_Lenient):
    # Documented as the spec's date-time; a zone-less time is accepted too (read as UTC, warned).
    eventTime: str = Field(min_length=1, json_schema_extra={"format": "date-time"})
    producer: str = Field(min_length=1)
    schemaURL: str | None = None


class RunEvent(_BaseEvent):
    eventType: EventType | None = None
    run: Run
    job: Job
    inputs: list[InputDataset] = Field(default_factory=list)
    outputs: list[OutputDataset] = Field(default_factory=list)


class DatasetEvent(_BaseEvent):
    dataset: Dataset


class JobEvent(_BaseEvent):
    job: Job
    inputs: list[InputDataset] = Field(default_factory=list)
    outputs: list[OutputDataset] = Field(default_factory=list)


AnyEvent = RunEvent | DatasetEvent | JobEvent
EventKind = Literal["run", "dataset", "job"]


def event_kind(payload: dict[str, Any]) -> EventKind:
    """Classify a payload by shape: ``run`` -> run, ``dataset`` -> dataset, else job."""
    if "run" in payload:
        return "run"
    if "dataset" in payload and "job" not in payload:
        return "dataset"
    return "job"


EVENT_MODELS: dict[EventKind, type[AnyEvent]] = {
    "run": RunEvent,
    "dataset": DatasetEvent,
    "job": JobEvent,
}
