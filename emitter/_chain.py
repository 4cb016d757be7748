"""One call for the whole ML chain: sources -> feature groups -> training set -> model -> endpoint.

The equivalent of the SageMaker ML-lineage helper's ``create_ml_lineage``, as plain
OpenLineage: each step of the chain is a job run whose outputs are the next run's inputs, so a
collector holds one connected graph::

    data sources --[feature pipeline]--> feature groups
    feature groups --[feature query]--> training dataset   (+ columnLineage column <- feature)
    training dataset --[training]--> model
    model --[deployment]--> endpoint                       (when an endpoint is given)

Each run emits START then COMPLETE, in chain order. Runs share ``parent`` when one is given,
or nest under the current run (e.g. a pipeline run opened around the call).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NotRequired, Required, TypedDict

import attr
from openlineage.client.event_v2 import Dataset
from openlineage.client.facet_v2 import (
    JobFacet,
    RunFacet,
    column_lineage_dataset,
    schema_dataset,
    source_code_location_job,
)

from mllineage.emitter._datasets import (
    FieldSource,
    column_lineage_facet,
    dataset_node_id,
    job_node_id,
    run_node_id,
)
from mllineage.emitter._run import JobType, ParentRef
from mllineage.emitter.feature_group import FACET_KEY as FEATURE_GROUP_KEY
from mllineage.emitter.feature_group import MLLineageFeatureGroupDatasetFacet
from mllineage.emitter.training import MLLineageTrainingRunFacet

if TYPE_CHECKING:
    from mllineage.emitter._emitter import Emitter

__all__ = ["ChainArguments", "JobSpec", "LineageSummary", "StageSummary", "create_ml_lineage"]


@attr.frozen
class JobSpec:
    """A job of the chain: its name and the job facets worth recording.

    ``namespace`` defaults to the emitter's; ``sql`` (the feature query, typically) becomes the
    standard ``sql`` facet; ``source_code`` as in :class:`LineageRun`.
    """

    name: str
    namespace: str | None = None
    description: str | None = None
    sql: str | None = None
    owners: tuple[str, ...] = attr.field(default=(), converter=tuple)
    source_code: bool | source_code_location_job.SourceCodeLocationJobFacet | None = None
    job_facets: Mapping[str, JobFacet] = attr.field(factory=dict)
    run_facets: Mapping[str, RunFacet] = attr.field(factory=dict)

    @classmethod
    def of(cls, value: JobSpec | str) -> JobSpec:
        """``value`` itself, or a spec with just that name."""
        return value if isinstance(value, JobSpec) else cls(name=value)


@attr.frozen
class StageSummary:
    """One emitted run of the chain.

    ``stage`` is ``feature_pipeline``, ``feature_query``, ``training`` or ``deployment``;
    ``job``, ``inputs`` and ``outputs`` are collector node ids; ``emitted`` is true when both
    the START and the COMPLETE event were accepted by the transport.
    """

    stage: str
    run_id: str
    job: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    emitted: bool

    @property
    def run_node_id(self) -> str:
        """``run:<uuid>``."""
        return run_node_id(self.run_id)


@attr.frozen
class LineageSummary:
    """What :func:`create_ml_lineage` emitted, in chain order."""

    stages: tuple[StageSummary, ...]

    def stage(self, name: str) -> StageSummary:
        """The stage called ``name``; ``KeyError`` if the chain has none."""
        for stage in self.stages:
            if stage.stage == name:
                return stage
        raise KeyError(name)

    @property
    def run_ids(self) -> dict[str, str]:
        """Stage name to run id."""
        return {s.stage: s.run_id for s in self.stages}

    @property
    def nodes(self) -> tuple[str, ...]:
        """Every dataset and job node id of the chain, each once, from sources to endpoint."""
        seen: dict[str, None] = {}
        for stage in self.stages:
            for node in (*stage.inputs, stage.job, *stage.outputs):
                seen.setdefault(node, None)
        return tuple(seen)

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """Lineage edges as ``(from node, to node)``: dataset -> job and job -> dataset."""
        return tuple(
            edge
            for s in self.stages
            for edge in (*((i, s.job) for i in s.inputs), *((s.job, o) for o in s.outputs))
        )

    @property
    def emitted(self) -> bool:
        """Whether every event of every stage was accepted by the transport."""
        return all(s.emitted for s in self.stages)

    def to_rows(self) -> list[dict[str, str | bool]]:
        """One row per edge (``stage, run_id, source, target, emitted``), ready for a DataFrame."""
        return [
            {"stage": s.stage, "run_id": s.run_id, "source": a, "target": b, "emitted": s.emitted}
            for s in self.stages
            for a, b in (*((i, s.job) for i in s.inputs), *((s.job, o) for o in s.outputs))
        ]


_Stage = tuple[
    str, JobSpec, str, Sequence[Dataset], Sequence[Dataset], MLLineageTrainingRunFacet | None
]
"""stage name, job, job type, inputs, outputs, training facet"""


class ChainArguments(TypedDict):
    """Keyword arguments of :func:`create_ml_lineage` after the emitter."""

    data_sources: Required[Sequence[Dataset]]
    feature_pipeline: Required[JobSpec | str]
    feature_groups: Required[Sequence[Dataset]]
    feature_query: Required[JobSpec | str]
    training_dataset: Required[Dataset]
    training_job: Required[JobSpec | str]
    model: Required[Dataset]
    training: NotRequired[MLLineageTrainingRunFacet | None]
    endpoint: NotRequired[Dataset | None]
    deployment_job: NotRequired[JobSpec | str | None]
    parent: NotRequired[ParentRef | None]
    derive_column_lineage: NotRequired[bool]


def create_ml_lineage(
    emitter: Emitter,
    *,
    data_sources: Sequence[Dataset],
    feature_pipeline: JobSpec | str,
    feature_groups: Sequence[Dataset],
    feature_query: JobSpec | str,
    training_dataset: Dataset,
    training_job: JobSpec | str,
    model: Dataset,
    training: MLLineageTrainingRunFacet | None = None,
    endpoint: Dataset | None = None,
    deployment_job: JobSpec | str | None = None,
    parent: ParentRef | None = None,
    derive_column_lineage: bool = True,
) -> LineageSummary:
    """Emit the linked runs of a whole ML chain and return what was emitted.

    Runs, in order (each START then COMPLETE):

    1. ``feature_pipeline`` (job type ``FEATURE_PIPELINE``): ``data_sources`` -> ``feature_groups``;
       the groups' own ``columnLineage`` facets (feature <- source column) go with them.
    2. ``feature_query`` (``FEATURE_QUERY``): ``feature_groups`` -> ``training_dataset``. Unless
       the training dataset already has a ``columnLineage`` facet, and ``derive_column_lineage``
       is true, each of its columns (from its ``schema`` facet) is linked to the feature of the
       same name in every feature group that has one.
    3. ``training_job`` (``TRAINING``): ``training_dataset`` -> ``model``, with the ``training``
       facet (hyperparameters, metrics, tracker link).
    4. with an ``endpoint``: ``deployment_job`` (``DEPLOYMENT``; default name
       ``deploy_<endpoint name>``): ``model`` -> ``endpoint``.

    Emission failures follow the emitter (warning, or :class:`EmissionError` when strict); the
    summary says whether every event went out.
    """
    if not data_sources or not feature_groups:
        raise ValueError("the chain needs at least one data source and one feature group")
    if deployment_job is not None and endpoint is None:
        raise ValueError("a deployment job needs the endpoint it deploys to")

    query_output = training_dataset
    facets = training_dataset.facets or {}
    if derive_column_lineage and "columnLineage" not in facets:
        lineage = _feature_lineage(training_dataset, feature_groups)
        if lineage:
            query_output = Dataset(
                namespace=training_dataset.namespace,
                name=training_dataset.name,
                facets={**facets, "columnLineage": column_lineage_facet(lineage)},
            )

    plan: list[_Stage] = [
        ("feature_pipeline", JobSpec.of(feature_pipeline), JobType.FEATURE_PIPELINE,
         data_sources, feature_groups, None),
        ("feature_query", JobSpec.of(feature_query), JobType.FEATURE_QUERY,
         feature_groups, [query_output], None),
        ("training", JobSpec.of(training_job), JobType.TRAINING,
         [training_dataset], [model], training),
    ]  # fmt: skip
    if endpoint is not None:
        spec = JobSpec.of(deployment_job or f"deploy_{endpoint.name.replace('/', '_')}")
        plan.append(("deployment", spec, JobType.DEPLOYMENT, [model], [endpoint], None))

    stages = []
    for stage, spec, job_type, inputs, outputs, training_facet in plan:
        run = emitter.run(
            spec.name,
            namespace=spec.namespace,
            job_type=job_type,
            parent=parent,
            inputs=inputs,
            outputs=outputs,
            training=training_facet,
            source_code=spec.source_code,
            description=spec.description,
            owners=spec.owners,
            sql=spec.sql,
            job_facets=spec.job_facets,
            run_facets=spec.run_facets,
        )
        started = run.start()
        completed = run.complete()
        stages.append(
            StageSummary(
                stage=stage,
                run_id=run.run_id,
                job=job_node_id(run.namespace, run.job_name),
                inputs=tuple(dataset_node_id(d) for d in inputs),
                outputs=tuple(dataset_node_id(d) for d in outputs),
                emitted=started and completed,
            )
        )
    return LineageSummary(tuple(stages))


def _feature_lineage(
    training_dataset: Dataset, feature_groups: Sequence[Dataset]
) -> dict[str, list[FieldSource]]:
    """Training-set column -> the same-named feature of every feature group that has it."""
    columns = _field_names(training_dataset)
    group_features = [(fg, set(_feature_names(fg))) for fg in feature_groups]
    lineage: dict[str, list[FieldSource]] = {}
    for column in columns:
        sources: list[FieldSource] = [
            column_lineage_dataset.InputField(
                namespace=fg.namespace,
                name=fg.name,
                field=column,
                transformations=[
                    column_lineage_dataset.Transformation(type="DIRECT", subtype="IDENTITY")
                ],
            )
            for fg, names in group_features
            if column in names
        ]
        if sources:
            lineage[column] = sources
    return lineage


def _field_names(ds: Dataset) -> list[str]:
    schema = (ds.facets or {}).get("schema")
    if isinstance(schema, schema_dataset.SchemaDatasetFacet):
        return [f.name for f in schema.fields or []]
    return []


def _feature_names(ds: Dataset) -> list[str]:
    group = (ds.facets or {}).get(FEATURE_GROUP_KEY)
    if isinstance(group, MLLineageFeatureGroupDatasetFacet) and group.features:
        return [f.name for f in group.features]
    return _field_names(ds)
