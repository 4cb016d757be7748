"""Fold a batch of validated events into the rows they imply, before touching the database.

Everything here is order-independent (a max or min over event time), so a batch folds to the same
rows whatever order its events arrived in, and folding then upserting gives the same graph as
upserting event by event. Contracts of the fold:

- run state: the candidate with the greatest ``(terminal, event_time)`` wins; START and RUNNING are
  non-terminal, COMPLETE/FAIL/ABORT terminal, OTHER (or no eventType) is not a candidate. So a late
  START never reopens a finished run and OTHER never changes state;
- facets: per (entity, key), the facet of the latest event wins; ``_deleted: true`` is a tombstone
  that wins the same way (stored as NULL). "Latest" is always ``(event_time, event_hash)``: the
  content hash breaks ties between events stamped with the same time, so arrival order never
  matters;
- a run belongs to the job of its earliest event;
- dataset versions: an output gets a version when the event names one (``version`` facet, else
  ``mllineage_model.version``) or when the run completes (the version is then the run id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mllineage.collector.ingest.validate import ParsedEvent
from mllineage.collector.schemas.openlineage import (
    DatasetEvent,
    InputDataset,
    JobEvent,
    OutputDataset,
    RunEvent,
)
from mllineage.schemas.node_ids import normalise_run_id

TERMINAL_STATES = frozenset({"COMPLETE", "FAIL", "ABORT"})
STATE_TYPES = TERMINAL_STATES | {"START", "RUNNING"}

DatasetKey = tuple[str, str]  # (namespace, name)
JobKey = tuple[str, str]


Stamp = tuple[datetime, bytes]  # (event_time, event_hash): the total order "latest" uses


@dataclass(slots=True)
class FacetValue:
    """A facet as of ``stamp``; ``facet`` None means it was retracted."""

    stamp: Stamp
    facet: dict[str, Any] | None


@dataclass(slots=True)
class DatasetTouch:
    created_at: datetime
    written_at: datetime | None = None


@dataclass(slots=True)
class JobTouch:
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class RunFold:
    job: JobKey
    first_event_time: datetime
    last_event_time: datetime
    state: str | None = None
    state_time: datetime | None = None
    state_terminal: bool = False
    state_hash: bytes | None = None
    started_at: datetime | None = None

    def add(self, job: JobKey, event_type: str | None, stamp: Stamp) -> None:
        at, digest = stamp
        if at < self.first_event_time:
            self.first_event_time, self.job = at, job
        self.last_event_time = max(self.last_event_time, at)
        if event_type == "START" and (self.started_at is None or at < self.started_at):
            self.started_at = at
        if event_type in STATE_TYPES:
            candidate = (event_type in TERMINAL_STATES, at, digest)
            if self.state_time is None or candidate > self.state_rank:
                self.state = event_type
                self.state_terminal, self.state_time, self.state_hash = candidate

    @property
    def state_rank(self) -> tuple[bool, datetime, bytes]:
        assert self.state_time is not None
        assert self.state_hash is not None
        return (self.state_terminal, self.state_time, self.state_hash)

    @property
    def ended_at(self) -> datetime | None:
        return self.state_time if self.state_terminal else None


@dataclass(slots=True)
class VersionFold:
    """Producer-reported versions outrank reader-seen ones; then the latest event wins."""

    created_at: datetime
    run_uuid: str | None
    facets: dict[str, Any]
    stamp: Stamp

    @property
    def rank(self) -> tuple[bool, Stamp]:
        return (self.run_uuid is not None, self.stamp)


@dataclass(slots=True)
class RunIOFold:
    """Facets of the latest event; the version of the latest event that named one."""

    stamp: Stamp
    version: str | None
    facets: dict[str, Any] | None

    def merge(self, stamp: Stamp, version: str | None, facets: dict[str, Any] | None) -> None:
        newer = stamp > self.stamp
        if version is not None and (self.version is None or newer):
            self.version = version
        if newer:
            self.stamp = stamp
            self.facets = facets or self.facets


@dataclass
class BatchFold:
    """The rows a batch of new (non-duplicate) events implies, keyed for upserts."""

    namespaces: set[str] = field(default_factory=set)
    datasets: dict[DatasetKey, DatasetTouch] = field(default_factory=dict)
    dataset_facets: dict[tuple[str, str, str], FacetValue] = field(default_factory=dict)
    versions: dict[tuple[str, str, str], VersionFold] = field(default_factory=dict)
    jobs: dict[JobKey, JobTouch] = field(default_factory=dict)
    job_facets: dict[tuple[str, str, str], FacetValue] = field(default_factory=dict)
    static_io: set[tuple[str, str, str, str, str]] = field(default_factory=set)
    runs: dict[str, RunFold] = field(default_factory=dict)
    run_facets: dict[tuple[str, str], FacetValue] = field(default_factory=dict)
    run_io: dict[tuple[str, str, str, str], RunIOFold] = field(default_factory=dict)

    def add(self, parsed: ParsedEvent) -> None:
        event, stamp = parsed.event, (parsed.event_time, parsed.digest)
        if isinstance(event, RunEvent):
            self._add_run_event(event, stamp)
        elif isinstance(event, DatasetEvent):
            key = self._touch_dataset(event.dataset.namespace, event.dataset.name, stamp[0], True)
            self._add_dataset_facets(key, event.dataset.facets, stamp)
            version = explicit_version(event.dataset.facets)
            if version is not None:
                self._add_version(key, version, stamp, None, event.dataset.facets)
        elif isinstance(event, JobEvent):
            job = self._touch_job(event.job.namespace, event.job.name, event.job.facets, stamp)
            for direction, datasets in (("in", event.inputs), ("out", event.outputs)):
                for dataset in datasets:
                    key = self._touch_dataset(dataset.namespace, dataset.name, stamp[0], False)
                    self._add_dataset_facets(key, dataset.facets, stamp)
                    self.static_io.add((*job, direction, *key))

    def _add_run_event(self, event: RunEvent, stamp: Stamp) -> None:
        job = self._touch_job(event.job.namespace, event.job.name, event.job.facets, stamp)
        run_uuid = normalise_run_id(event.run.runId)
        run = self.runs.get(run_uuid)
        if run is None:
            run = self.runs[run_uuid] = RunFold(job, stamp[0], stamp[0])
        run.add(job, event.eventType, stamp)
        for key, facet in event.run.facets.items():
            _keep_latest(self.run_facets, (run_uuid, key), stamp, facet)

        completes = event.eventType == "COMPLETE"
        for dataset in event.inputs:
            self._add_run_dataset(run_uuid, "in", dataset, stamp, produced=False)
        for out in event.outputs:
            self._add_run_dataset(run_uuid, "out", out, stamp, produced=completes)

    def _add_run_dataset(
        self,
        run_uuid: str,
        direction: str,
        dataset: InputDataset | OutputDataset,
        stamp: Stamp,
        *,
        produced: bool,
    ) -> None:
        written = direction == "out"
        key = self._touch_dataset(dataset.namespace, dataset.name, stamp[0], written)
        self._add_dataset_facets(key, dataset.facets, stamp)
        version = explicit_version(dataset.facets)
        if version is None and produced:
            version = run_uuid
        if version is not None:
            self._add_version(key, version, stamp, run_uuid if written else None, dataset.facets)
        io_facets = (
            dataset.inputFacets if isinstance(dataset, InputDataset) else dataset.outputFacets
        )
        io_key = (run_uuid, direction, *key)
        current = self.run_io.get(io_key)
        if current is None:
            self.run_io[io_key] = RunIOFold(stamp, version, io_facets or None)
        else:
            current.merge(stamp, version, io_facets or None)

    def _touch_dataset(self, namespace: str, name: str, at: datetime, written: bool) -> DatasetKey:
        key = (namespace, name)
        self.namespaces.add(namespace)
        touch = self.datasets.get(key)
        if touch is None:
            touch = self.datasets[key] = DatasetTouch(created_at=at)
        elif at < touch.created_at:
            touch.created_at = at
        if written and (touch.written_at is None or at > touch.written_at):
            touch.written_at = at
        return key

    def _add_dataset_facets(self, key: DatasetKey, facets: dict[str, Any], stamp: Stamp) -> None:
        for facet_key, facet in facets.items():
            _keep_latest(self.dataset_facets, (*key, facet_key), stamp, facet)
            if facet_key == "columnLineage" and isinstance(facet, dict):
                for source in column_lineage_inputs(facet):
                    self._touch_dataset(source[0], source[1], stamp[0], False)

    def _add_version(
        self,
        key: DatasetKey,
        version: str,
        stamp: Stamp,
        run_uuid: str | None,
        facets: dict[str, Any],
    ) -> None:
        vkey = (*key, version)
        candidate = VersionFold(stamp[0], run_uuid, facets, stamp)
        current = self.versions.get(vkey)
        if current is None:
            self.versions[vkey] = candidate
            return
        created_at = min(current.created_at, candidate.created_at)
        if candidate.rank > current.rank:
            self.versions[vkey] = current = candidate
        current.created_at = created_at

    def _touch_job(self, namespace: str, name: str, facets: dict[str, Any], stamp: Stamp) -> JobKey:
        key, at = (namespace, name), stamp[0]
        self.namespaces.add(namespace)
        touch = self.jobs.get(key)
        if touch is None:
            self.jobs[key] = JobTouch(created_at=at, updated_at=at)
        else:
            touch.created_at = min(touch.created_at, at)
            touch.updated_at = max(touch.updated_at, at)
        for facet_key, facet in facets.items():
            _keep_latest(self.job_facets, (*key, facet_key), stamp, facet)
        return key


def _keep_latest(
    facets: dict[Any, FacetValue], key: Any, stamp: Stamp, facet: dict[str, Any]
) -> None:
    current = facets.get(key)
    if current is None or stamp > current.stamp:
        facets[key] = FacetValue(stamp, None if facet.get("_deleted") is True else facet)


def explicit_version(facets: dict[str, Any]) -> str | None:
    """The version a dataset's facets name: standard ``version`` facet, else our model facet."""
    version = facets.get("version")
    if isinstance(version, dict) and version.get("datasetVersion") is not None:
        return str(version["datasetVersion"])
    model = facets.get("mllineage_model")
    if isinstance(model, dict) and model.get("version") is not None:
        return str(model["version"])
    return None


def column_lineage_inputs(facet: dict[str, Any]) -> list[tuple[str, str, str, str, Any]]:
    """(input namespace, input name, input field, output field, transformations) of a facet."""
    rows = []
    for output_field, spec in (facet.get("fields") or {}).items():
        for source in spec.get("inputFields") or []:
            rows.append(
                (
                    str(source["namespace"]),
                    str(source["name"]),
                    str(source["field"]),
                    str(output_field),
                    source.get("transformations"),
                )
            )
    return rows


KIND_FACETS = frozenset(
    {
        "mllineage_model",
        "mllineage_featureGroup",
        "mllineage_endpoint",
        "feast_featureView",
        "feast_featureService",
        "feast_entity",
        "datasetType",
    }
)


def dataset_kind(facets: dict[str, dict[str, Any]]) -> str:
    """Kind from current facets (DESIGN.md), first match wins: ``model`` (our model facet or
    ``datasetType`` MODEL), ``endpoint`` (our endpoint facet), ``feature_group`` (our facet,
    Feast's ``feast_featureView`` or ``feast_featureService``), ``entity`` (Feast's
    ``feast_entity``: a join key, never a raw data source), else ``dataset``."""
    dataset_type = facets.get("datasetType") or {}
    if "mllineage_model" in facets or str(dataset_type.get("datasetType", "")).upper() == "MODEL":
        return "model"
    if "mllineage_endpoint" in facets:
        return "endpoint"
    if {"mllineage_featureGroup", "feast_featureView", "feast_featureService"} & facets.keys():
        return "feature_group"
    if "feast_entity" in facets:
        return "entity"
    return "dataset"
