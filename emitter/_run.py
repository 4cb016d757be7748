"""A job run that emits its OpenLineage lifecycle: START, then COMPLETE, FAIL or ABORT.

Used as a context manager, a :class:`LineageRun` emits START on enter and, on exit, COMPLETE
when the block succeeds, FAIL (with the standard ``errorMessage`` facet: message, Python stack
trace) when it raises an ``Exception``, or ABORT on ``KeyboardInterrupt``/``SystemExit``; the
exception always propagates. A run finished explicitly inside the block (``run.fail("...")``)
is left as it is. Inputs, outputs, parameters and metrics can be added while the run is open;
the terminal event carries everything known by then.

Runs nest: a run started while another run is active in the same context (thread, task) gets
the standard ``parent`` facet pointing at it, with ``root`` set to the top of the hierarchy,
unless an explicit ``parent`` is given.
"""

from __future__ import annotations

import enum
import traceback
import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Self, TypedDict

import attr
from openlineage.client.event_v2 import Dataset, Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    InputDatasetFacet,
    JobFacet,
    OutputDatasetFacet,
    RunFacet,
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
    ownership_job,
    parent_run,
    source_code_location_job,
    sql_job,
)
from openlineage.client.uuid import generate_new_uuid

from mllineage.emitter._datasets import as_input, as_output, job_node_id, run_node_id
from mllineage.emitter._producer import PRODUCER
from mllineage.emitter._source_code import source_code_location
from mllineage.emitter.training import FACET_KEY as TRAINING_KEY
from mllineage.emitter.training import MLLineageTrainingRunFacet

if TYPE_CHECKING:
    from mllineage.emitter._emitter import Emitter

__all__ = [
    "INTEGRATION",
    "JobType",
    "LineageRun",
    "ParentRef",
    "RunOptions",
    "RunStatus",
    "current_run",
]

INTEGRATION = "MLLINEAGE"
"""``integration`` of the standard ``jobType`` facet on every job the emitter describes."""


class JobType(enum.StrEnum):
    """Common values of ``jobType`` in the ``jobType`` facet; any other string is accepted too."""

    FEATURE_PIPELINE = "FEATURE_PIPELINE"
    FEATURE_QUERY = "FEATURE_QUERY"
    TRAINING = "TRAINING"
    EVALUATION = "EVALUATION"
    DEPLOYMENT = "DEPLOYMENT"
    INFERENCE = "INFERENCE"
    PIPELINE = "PIPELINE"


class RunStatus(enum.Enum):
    """Where a :class:`LineageRun` is in its lifecycle."""

    NEW = "NEW"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAIL = "FAIL"
    ABORT = "ABORT"


def _check_uuid(what: str, value: str) -> None:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"{what} must be a UUID, got {value!r}") from None


def _uuid(_: object, attribute: attr.Attribute[str], value: str) -> None:
    _check_uuid(attribute.name, value)


@attr.frozen
class ParentRef:
    """The run that launched another run: job namespace and name, run id, optional root.

    ``root`` is the top of the hierarchy (for example the DAG run above an Airflow task); it is
    written to the ``parent`` facet only when set.
    """

    namespace: str
    name: str
    run_id: str = attr.field(validator=_uuid)
    root: ParentRef | None = attr.field(default=None)

    def without_root(self) -> ParentRef:
        """This run alone, as a root reference."""
        return ParentRef(self.namespace, self.name, self.run_id)

    def to_facet(self) -> parent_run.ParentRunFacet:
        """The standard ``parent`` run facet."""
        root = None
        if self.root is not None:
            root = parent_run.Root(
                run=parent_run.RootRun(runId=self.root.run_id, facets=None),
                job=parent_run.RootJob(
                    namespace=self.root.namespace, name=self.root.name, facets=None
                ),
            )
        return parent_run.ParentRunFacet(
            run=parent_run.Run(runId=self.run_id, facets=None),
            job=parent_run.Job(namespace=self.namespace, name=self.name, facets=None),
            root=root,
            producer=PRODUCER,
        )


_ACTIVE: ContextVar[tuple[LineageRun, ...]] = ContextVar("mllineage_active_runs", default=())


def current_run() -> LineageRun | None:
    """The innermost run started (and not yet finished) in the current context, if any."""
    active = _ACTIVE.get()
    return active[-1] if active else None


class RunOptions(TypedDict, total=False):
    """Keyword options of :class:`LineageRun` (and :meth:`Emitter.run`)."""

    namespace: str | None
    run_id: str | None
    job_type: str | None
    parent: ParentRef | None
    inherit_parent: bool
    inputs: Iterable[Dataset]
    outputs: Iterable[Dataset]
    nominal_start_time: datetime | str | None
    nominal_end_time: datetime | str | None
    training: MLLineageTrainingRunFacet | None
    source_code: bool | source_code_location_job.SourceCodeLocationJobFacet | None
    description: str | None
    owners: Iterable[str]
    sql: str | None
    job_facets: Mapping[str, JobFacet] | None
    run_facets: Mapping[str, RunFacet] | None


def _timestamp(value: datetime | str | None) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("nominal times need a timezone-aware datetime")
        return value.isoformat()
    return value


class LineageRun:
    """One run of a job, emitting its events through an :class:`Emitter`.

    Create it with :meth:`Emitter.run`. ``job_type`` fills the standard ``jobType`` facet
    (``processingType=BATCH``, ``integration=MLLINEAGE``); ``description``, ``owners`` and
    ``sql`` the ``documentation``, ``ownership`` and ``sql`` job facets; ``source_code``
    (default: the emitter's setting) the ``sourceCodeLocation`` facet from git. ``parent`` is an
    explicit :class:`ParentRef` (e.g. from :func:`airflow_parent` or :func:`spark_parent`); with
    ``inherit_parent`` (the default) a run without one nests under :func:`current_run`.

    Emission never raises unless the emitter is strict; the ``start``/``complete``/``fail``
    methods return whether the event was handed to the transport. Calling them out of order
    (completing a run twice, completing before starting) is a programming error
    (``RuntimeError``).
    """

    def __init__(
        self,
        emitter: Emitter,
        job_name: str,
        *,
        namespace: str | None = None,
        run_id: str | None = None,
        job_type: str | None = None,
        parent: ParentRef | None = None,
        inherit_parent: bool = True,
        inputs: Iterable[Dataset] = (),
        outputs: Iterable[Dataset] = (),
        nominal_start_time: datetime | str | None = None,
        nominal_end_time: datetime | str | None = None,
        training: MLLineageTrainingRunFacet | None = None,
        source_code: bool | source_code_location_job.SourceCodeLocationJobFacet | None = None,
        description: str | None = None,
        owners: Iterable[str] = (),
        sql: str | None = None,
        job_facets: Mapping[str, JobFacet] | None = None,
        run_facets: Mapping[str, RunFacet] | None = None,
    ) -> None:
        if not job_name:
            raise ValueError("a run needs a job name")
        self.emitter = emitter
        self.job_name = job_name
        self.namespace = namespace or emitter.namespace
        self.run_id = run_id or str(generate_new_uuid())
        _check_uuid("run_id", self.run_id)
        self.job_type = job_type
        self.parent = parent
        self.inherit_parent = inherit_parent
        self.status = RunStatus.NEW
        self._nominal = (_timestamp(nominal_start_time), _timestamp(nominal_end_time))
        if self._nominal[0] is None and self._nominal[1] is not None:
            raise ValueError("nominal_end_time needs a nominal_start_time")
        self._training = training
        self._source_code = emitter.source_code if source_code is None else source_code
        self._description = description
        self._owners = list(owners)
        self._sql = sql
        self._job_facets = dict(job_facets or {})
        self._run_facets = dict(run_facets or {})
        self._inputs: dict[tuple[str, str], tuple[Dataset, dict[str, InputDatasetFacet]]] = {}
        self._outputs: dict[tuple[str, str], tuple[Dataset, dict[str, OutputDatasetFacet]]] = {}
        self.add_inputs(*inputs)
        self.add_outputs(*outputs)

    # -- identity ----------------------------------------------------------------------------

    @property
    def node_id(self) -> str:
        """``run:<uuid>``."""
        return run_node_id(self.run_id)

    @property
    def job_node_id(self) -> str:
        """``job:<namespace>:<name>``."""
        return job_node_id(self.namespace, self.job_name)

    def as_parent(self) -> ParentRef:
        """This run as the parent of another: its root is this run's root, or this run."""
        root = (self.parent.root or self.parent.without_root()) if self.parent else None
        me = ParentRef(self.namespace, self.job_name, self.run_id)
        return ParentRef(me.namespace, me.name, me.run_id, root=root or me)

    # -- content -----------------------------------------------------------------------------

    def add_input(
        self, ds: Dataset, input_facets: Mapping[str, InputDatasetFacet] | None = None
    ) -> None:
        """Record ``ds`` as read by the run; a dataset with the same identity is replaced."""
        self._inputs[(ds.namespace, ds.name)] = (ds, dict(input_facets or {}))

    def add_output(
        self, ds: Dataset, output_facets: Mapping[str, OutputDatasetFacet] | None = None
    ) -> None:
        """Record ``ds`` as written by the run; a dataset with the same identity is replaced."""
        self._outputs[(ds.namespace, ds.name)] = (ds, dict(output_facets or {}))

    def add_inputs(self, *datasets: Dataset) -> None:
        """Record several inputs."""
        for ds in datasets:
            self.add_input(ds)

    def add_outputs(self, *datasets: Dataset) -> None:
        """Record several outputs."""
        for ds in datasets:
            self.add_output(ds)

    @property
    def inputs(self) -> list[Dataset]:
        """The recorded inputs, in the order they were first added."""
        return [ds for ds, _ in self._inputs.values()]

    @property
    def outputs(self) -> list[Dataset]:
        """The recorded outputs, in the order they were first added."""
        return [ds for ds, _ in self._outputs.values()]

    @property
    def training(self) -> MLLineageTrainingRunFacet | None:
        """The ``mllineage_training`` facet as it stands."""
        return self._training

    def log_params(self, params: Mapping[str, object] | None = None, **more: object) -> None:
        """Merge hyperparameters into the ``mllineage_training`` facet."""
        current = self._training or MLLineageTrainingRunFacet()
        merged = {**(current.hyperparameters or {}), **(params or {}), **more}
        self._training = attr.evolve(current, hyperparameters=merged)

    def log_metrics(self, metrics: Mapping[str, object] | None = None, **more: object) -> None:
        """Merge metrics into the ``mllineage_training`` facet (non-finite values are dropped)."""
        current = self._training or MLLineageTrainingRunFacet()
        merged = {**(current.metrics or {}), **(metrics or {}), **more}
        self._training = attr.evolve(current, metrics=merged)

    def set_training(
        self,
        *,
        framework: str | None = None,
        tracking_uri: str | None = None,
        experiment_id: str | None = None,
        external_run_id: str | None = None,
    ) -> None:
        """Set the framework and experiment-tracker link of the ``mllineage_training`` facet."""
        current = self._training or MLLineageTrainingRunFacet()
        self._training = attr.evolve(
            current,
            framework=framework or current.framework,
            trackingUri=tracking_uri or current.trackingUri,
            experimentId=experiment_id or current.experimentId,
            externalRunId=external_run_id or current.externalRunId,
        )

    def add_run_facet(self, key: str, facet: RunFacet) -> None:
        """Attach a run facet to every following event (replacing one with the same key)."""
        self._run_facets[key] = facet

    def add_job_facet(self, key: str, facet: JobFacet) -> None:
        """Attach a job facet to every following event (replacing one with the same key)."""
        self._job_facets[key] = facet

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> bool:
        """Emit START and make this the current run of the context."""
        self._require(RunStatus.NEW, "start")
        if self.parent is None and self.inherit_parent:
            active = current_run()
            if active is not None:
                self.parent = active.as_parent()
        self.status = RunStatus.RUNNING
        _ACTIVE.set((*_ACTIVE.get(), self))
        return self._emit(RunState.START)

    def complete(self) -> bool:
        """Emit COMPLETE with everything recorded."""
        return self._finish(RunStatus.COMPLETE, RunState.COMPLETE, None)

    def fail(self, error: BaseException | str | None = None) -> bool:
        """Emit FAIL, with the ``errorMessage`` facet when ``error`` is given."""
        return self._finish(RunStatus.FAIL, RunState.FAIL, error)

    def abort(self, error: BaseException | str | None = None) -> bool:
        """Emit ABORT (the run was stopped, e.g. interrupted), with ``errorMessage`` if given."""
        return self._finish(RunStatus.ABORT, RunState.ABORT, error)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if self.status is not RunStatus.RUNNING:
            return False  # finished explicitly inside the block (e.g. run.fail("...")).
        if exc is None:
            self.complete()
            return False
        finish = self.fail if isinstance(exc, Exception) else self.abort
        try:
            finish(exc)
        # A strict emitter's EmissionError (a RuntimeError): the job's own exception wins and
        # carries the emission failure as a note.
        except RuntimeError as emission_error:
            exc.add_note(
                f"mllineage: the {self.status.value} event was not emitted: {emission_error}"
            )
        return False

    def _require(self, status: RunStatus, action: str) -> None:
        if self.status is not status:
            raise RuntimeError(
                f"cannot {action} run {self.run_id} of {self.job_name!r}: it is {self.status.value}"
            )

    def _finish(
        self, status: RunStatus, state: RunState, error: BaseException | str | None
    ) -> bool:
        self._require(RunStatus.RUNNING, state.value.lower())
        self.status = status
        _ACTIVE.set(tuple(r for r in _ACTIVE.get() if r is not self))
        extra: dict[str, RunFacet] = {}
        if error is not None:
            extra["errorMessage"] = _error_facet(error)
        return self._emit(state, extra)

    # -- events ------------------------------------------------------------------------------

    def event(
        self, state: RunState, extra_run_facets: Mapping[str, RunFacet] | None = None
    ) -> RunEvent:
        """The RunEvent of ``state`` with everything recorded so far (nothing is emitted)."""
        return RunEvent(
            eventType=state,
            eventTime=datetime.now(UTC).isoformat(),
            run=Run(runId=self.run_id, facets=self._build_run_facets(extra_run_facets or {})),
            job=Job(namespace=self.namespace, name=self.job_name, facets=self._build_job_facets()),
            inputs=[as_input(ds, facets) for ds, facets in self._inputs.values()],
            outputs=[as_output(ds, facets) for ds, facets in self._outputs.values()],
            producer=PRODUCER,
        )

    def _emit(self, state: RunState, extra: Mapping[str, RunFacet] | None = None) -> bool:
        return self.emitter.emit(self.event(state, extra))

    def _build_run_facets(self, extra: Mapping[str, RunFacet]) -> dict[str, RunFacet]:
        facets: dict[str, RunFacet] = {}
        if self.parent is not None:
            facets["parent"] = self.parent.to_facet()
        start, end = self._nominal
        if start is not None:
            facets["nominalTime"] = nominal_time_run.NominalTimeRunFacet(
                nominalStartTime=start, nominalEndTime=end, producer=PRODUCER
            )
        if self._training is not None:
            facets[TRAINING_KEY] = self._training
        facets.update(self._run_facets)
        facets.update(extra)
        return facets

    def _build_job_facets(self) -> dict[str, JobFacet]:
        facets: dict[str, JobFacet] = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH",
                integration=INTEGRATION,
                jobType=str(self.job_type) if self.job_type else None,
                producer=PRODUCER,
            )
        }
        location = self._source_code
        if location is True:
            location = source_code_location() or False
        if isinstance(location, source_code_location_job.SourceCodeLocationJobFacet):
            facets["sourceCodeLocation"] = location
        if self._description:
            facets["documentation"] = documentation_job.DocumentationJobFacet(
                description=self._description, producer=PRODUCER
            )
        if self._owners:
            facets["ownership"] = ownership_job.OwnershipJobFacet(
                owners=[ownership_job.Owner(name=o) for o in self._owners], producer=PRODUCER
            )
        if self._sql:
            facets["sql"] = sql_job.SQLJobFacet(query=self._sql, producer=PRODUCER)
        facets.update(self._job_facets)
        return facets

    def __repr__(self) -> str:
        return (
            f"LineageRun(job={self.namespace!r}/{self.job_name!r}, run_id={self.run_id!r}, "
            f"status={self.status.value})"
        )


def _error_facet(error: BaseException | str) -> error_message_run.ErrorMessageRunFacet:
    if isinstance(error, BaseException):
        message = f"{type(error).__name__}: {error}"
        trace = "".join(traceback.format_exception(error))
    else:
        message, trace = error, None
    return error_message_run.ErrorMessageRunFacet(
        message=message, programmingLanguage="python", stackTrace=trace, producer=PRODUCER
    )
