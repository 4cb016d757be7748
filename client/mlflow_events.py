"""Turn MLflow tracking and registry entities into OpenLineage events with mllineage facets.

Pure functions of what MLflow returns (no I/O), so the same MLflow state always gives the same
events, byte for byte: run ids are UUIDv5 of the MLflow run id, event times are MLflow's own
timestamps. The collector stores an event once by content hash, so sending them again stores
nothing. The mapping:

- an MLflow run is a run of the job ``experiments/<experiment>/<source file or run name>`` (job
  type TRAINING, ``sourceCodeLocation`` from the ``mlflow.source.git.*`` tags): a START at
  ``start_time`` with the parameters, and, once it ended, COMPLETE (FINISHED), FAIL (FAILED) or
  ABORT (KILLED) at ``end_time``, with the latest metrics;
  both carry ``mllineage_training`` (parameters, metrics, tracking URI, experiment and run id);
- each ``mlflow.data`` dataset input is an input named after its source (``split_uri`` of the
  source's ``uri``/``url``/``path``; else ``datasets/<name>`` in the MLflow namespace) with the
  standard ``schema`` (from MLflow's ``mlflow_colspec``), ``dataQualityMetrics`` (row count of the
  profile), ``version`` (MLflow's digest: each distinct content is a version) and
  ``mllineage_dataset`` (digest with algorithm ``mlflow-digest``, source, source type and the
  ``mlflow.data.context`` tag as context when it is one of ours). MLflow's store keeps no
  targets or predictions (``from_pandas`` drops them when logging), so none are sent;
- each registered model version is an OTHER event of its source run at the version's
  ``last_updated_timestamp``: output ``models/<registered name>`` with ``mllineage_model``
  (version, parameters, metrics, artifact and registry URIs, stage or ``@alias`` list, the
  feature names of the run's ``feast.feature_refs``) and, when
  the version is tagged ``feast.feature_service`` (Feast's MLflow integration does it), inputs for
  that feature service and the feature views the run retrieved (run tag ``feast.feature_views``)
  in the Feast namespace of the run's ``feast.project``;
- an MLflow 3 logged model that no registered version points at is an output
  ``logged-models/<experiment>/<name>`` of its source run, versioned by its model id.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    JobFacet,
    RunFacet,
    data_quality_metrics_input_dataset,
    dataset_version_dataset,
    job_type_job,
    schema_dataset,
    source_code_location_job,
)

from mllineage.emitter import (
    INTEGRATION,
    PRODUCER,
    MLLineageDatasetDatasetFacet,
    MLLineageModelDatasetFacet,
    MLLineageTrainingRunFacet,
    split_uri,
)
from mllineage.emitter.ml_dataset import CONTEXTS

if TYPE_CHECKING:
    from mlflow.entities import LoggedModel
    from mlflow.entities import Run as MlflowRun
    from mlflow.entities.model_registry import ModelVersion

__all__ = [
    "DIGEST_ALGORITHM",
    "MlflowNaming",
    "logged_model_event",
    "model_version_event",
    "run_events",
    "run_uuid",
]

DIGEST_ALGORITHM = "mlflow-digest"
_TERMINAL = {"FINISHED": RunState.COMPLETE, "FAILED": RunState.FAIL, "KILLED": RunState.ABORT}
_RUN_IDS = uuid.UUID("1d7c3b4e-5f0a-5c8e-9a53-6d1f0e2b7a41")  # UUIDv5 namespace of our run ids


@dataclass(frozen=True)
class MlflowNaming:
    """Where MLflow things land in the graph: ``namespace`` of jobs, models and source-less
    datasets (e.g. ``mlflow://mlflow.internal:5000``), the tracking URI recorded in facets, and
    the Feast OpenLineage namespace setting (``openlineage.namespace`` of ``feature_store.yaml``)."""

    namespace: str
    tracking_uri: str
    feast_namespace: str = "feast"
    experiment_names: Mapping[str, str] = field(default_factory=dict)

    def feast_namespace_for(self, project: str) -> str:
        """Feast's own rule (``feast.openlineage.identity.resolve_namespace``)."""
        configured = self.feast_namespace.strip()
        if configured in ("", "feast"):
            return project
        if configured == project or configured.endswith(f"/{project}"):
            return configured
        return f"{configured}/{project}"


def run_uuid(naming: MlflowNaming, mlflow_run_id: str) -> str:
    """The OpenLineage run id of an MLflow run: stable across syncs and machines."""
    return str(uuid.uuid5(_RUN_IDS, f"{naming.namespace}:run:{mlflow_run_id}"))


def run_events(naming: MlflowNaming, run: MlflowRun) -> list[RunEvent]:
    """START, and a terminal event once the run ended (none for a still running one)."""
    info, tags = run.info, run.data.tags
    job = Job(namespace=naming.namespace, name=_job_name(naming, run), facets=_job_facets(tags))
    inputs = [_dataset_input(naming, d) for d in run.inputs.dataset_inputs] if run.inputs else []
    params = _parameters(run.data.params)
    ident = run_uuid(naming, info.run_id)
    events = [
        RunEvent(
            eventType=RunState.START,
            eventTime=_time(info.start_time),
            run=Run(runId=ident, facets=_training(naming, run, params, None)),
            job=job,
            inputs=inputs,
            producer=PRODUCER,
        )
    ]
    terminal = _TERMINAL.get(info.status)
    if terminal is not None and info.end_time is not None:
        metrics = dict(run.data.metrics)
        events.append(
            RunEvent(
                eventType=terminal,
                eventTime=_time(info.end_time),
                run=Run(runId=ident, facets=_training(naming, run, params, metrics)),
                job=job,
                inputs=inputs,
                producer=PRODUCER,
            )
        )
    return events


def model_version_event(
    naming: MlflowNaming,
    version: ModelVersion,
    run: MlflowRun,
    logged: LoggedModel | None,
) -> RunEvent:
    """The registered ``version`` as an output of the run that trained it (see module doc)."""
    params = _parameters(run.data.params)
    metrics = dict(run.data.metrics)
    if logged is not None:
        metrics.update({m.key: m.value for m in logged.metrics or []})
    stage = version.current_stage if version.current_stage not in (None, "", "None") else None
    if stage is None and version.aliases:
        stage = ", ".join(f"@{alias}" for alias in sorted(version.aliases))
    model = MLLineageModelDatasetFacet(
        name=version.name,
        version=str(version.version),
        hyperparameters=params or None,
        metrics=metrics or None,
        artifactUri=logged.artifact_location if logged is not None else version.source,
        registryUri=naming.tracking_uri,
        stage=stage,
        features=_feature_names(run.data.tags) or None,
        producer=PRODUCER,
    )
    output = OutputDataset(
        namespace=naming.namespace,
        name=f"models/{version.name}",
        facets={"mllineage_model": model, "version": _version(str(version.version))},
    )
    return RunEvent(
        eventType=RunState.OTHER,
        eventTime=_time(version.last_updated_timestamp or version.creation_timestamp),
        run=Run(runId=run_uuid(naming, run.info.run_id)),
        job=Job(namespace=naming.namespace, name=_job_name(naming, run)),
        inputs=_feast_inputs(naming, version.tags or {}, run.data.tags),
        outputs=[output],
        producer=PRODUCER,
    )


def logged_model_event(naming: MlflowNaming, logged: LoggedModel, run: MlflowRun) -> RunEvent:
    """An MLflow 3 logged model that is not registered, as an output of its source run."""
    experiment = naming.experiment_names.get(logged.experiment_id, logged.experiment_id)
    model = MLLineageModelDatasetFacet(
        name=logged.name,
        version=logged.model_id,
        hyperparameters=_parameters(logged.params or {}) or None,
        metrics={m.key: m.value for m in logged.metrics or []} or None,
        artifactUri=logged.artifact_location,
        registryUri=naming.tracking_uri,
        producer=PRODUCER,
    )
    output = OutputDataset(
        namespace=naming.namespace,
        name=f"logged-models/{experiment}/{logged.name}",
        facets={"mllineage_model": model, "version": _version(logged.model_id)},
    )
    return RunEvent(
        eventType=RunState.OTHER,
        eventTime=_time(logged.last_updated_timestamp or logged.creation_timestamp),
        run=Run(runId=run_uuid(naming, run.info.run_id)),
        job=Job(namespace=naming.namespace, name=_job_name(naming, run)),
        outputs=[output],
        producer=PRODUCER,
    )


# -- pieces ----------------------------------------------------------------------------------


def _job_name(naming: MlflowNaming, run: MlflowRun) -> str:
    experiment = naming.experiment_names.get(run.info.experiment_id, run.info.experiment_id)
    source = run.data.tags.get("mlflow.source.name")
    what = os.path.basename(source) if source else (run.info.run_name or run.info.run_id)
    return f"experiments/{experiment}/{what}"


def _job_facets(tags: Mapping[str, str]) -> dict[str, JobFacet]:
    facets: dict[str, JobFacet] = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=INTEGRATION, jobType="TRAINING", producer=PRODUCER
        )
    }
    commit = tags.get("mlflow.source.git.commit")
    if commit:
        facets["sourceCodeLocation"] = source_code_location_job.SourceCodeLocationJobFacet(
            type="git",
            url=tags.get("mlflow.source.git.repoURL") or "",
            repoUrl=tags.get("mlflow.source.git.repoURL"),
            path=tags.get("mlflow.source.name"),
            version=commit,
            branch=tags.get("mlflow.source.git.branch"),
            producer=PRODUCER,
        )
    return facets


def _training(
    naming: MlflowNaming,
    run: MlflowRun,
    params: dict[str, str | int | float | bool],
    metrics: dict[str, float] | None,
) -> dict[str, RunFacet]:
    facet = MLLineageTrainingRunFacet(
        hyperparameters=params or None,
        metrics=metrics or None,
        trackingUri=naming.tracking_uri,
        experimentId=run.info.experiment_id,
        externalRunId=run.info.run_id,
        producer=PRODUCER,
    )
    return {"mllineage_training": facet}


def _dataset_input(naming: MlflowNaming, dataset_input: Any) -> InputDataset:
    ds = dataset_input.dataset
    context = next((t.value for t in dataset_input.tags if t.key == "mlflow.data.context"), None)
    source = _json(ds.source)
    location = next((source[k] for k in ("uri", "url", "path") if source.get(k)), None)
    namespace, name = naming.namespace, f"datasets/{ds.name}"
    if isinstance(location, str):
        with contextlib.suppress(ValueError):
            namespace, name = split_uri(location)
    facets: dict[str, Any] = {
        "version": _version(ds.digest),
        "mllineage_dataset": MLLineageDatasetDatasetFacet(
            digest=ds.digest if _is_hex(ds.digest) else None,
            digestAlgorithm=DIGEST_ALGORITHM if _is_hex(ds.digest) else None,
            source=location if isinstance(location, str) else None,
            sourceType=ds.source_type,
            context=context if context in CONTEXTS else None,
            producer=PRODUCER,
        ),
    }
    fields = _json(ds.schema).get("mlflow_colspec") if ds.schema else None
    if isinstance(fields, list) and fields:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[
                schema_dataset.SchemaDatasetFacetFields(
                    name=str(f.get("name", "")), type=str(f.get("type", ""))
                )
                for f in fields
                if isinstance(f, dict)
            ],
            producer=PRODUCER,
        )
    input_facets: dict[str, Any] = {}
    rows = _json(ds.profile).get("num_rows") if ds.profile else None
    if isinstance(rows, int):
        input_facets["dataQualityMetrics"] = (
            data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
                rowCount=rows, columnMetrics={}, producer=PRODUCER
            )
        )
    return InputDataset(namespace=namespace, name=name, facets=facets, inputFacets=input_facets)


def _feast_inputs(
    naming: MlflowNaming, version_tags: Mapping[str, str], run_tags: Mapping[str, str]
) -> list[InputDataset]:
    service = version_tags.get("feast.feature_service")
    project = version_tags.get("feast.project") or run_tags.get("feast.project")
    if not service or not project:
        return []
    namespace = naming.feast_namespace_for(project)
    names = [service]
    if run_tags.get("feast.feature_service") == service:
        views = run_tags.get("feast.feature_views") or ""
        names += sorted({v.strip() for v in views.split(",") if v.strip()})
    return [InputDataset(namespace=namespace, name=name) for name in names]


def _feature_names(run_tags: Mapping[str, str]) -> list[str]:
    """Feature names of the run's Feast retrieval (``feast.feature_refs``: ``view:feature,…``)."""
    refs = run_tags.get("feast.feature_refs") or ""
    return [ref.rpartition(":")[2] for ref in refs.split(",") if ref.strip()]


def _parameters(params: Mapping[str, str]) -> dict[str, str | int | float | bool]:
    """MLflow keeps parameters as text; numbers and booleans are sent as such."""
    parsed: dict[str, str | int | float | bool] = {}
    for key, text in sorted(params.items()):
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        parsed[key] = value if isinstance(value, str | int | float | bool) else text
    return parsed


def _version(value: str) -> dataset_version_dataset.DatasetVersionDatasetFacet:
    return dataset_version_dataset.DatasetVersionDatasetFacet(
        datasetVersion=value, producer=PRODUCER
    )


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _is_hex(value: str | None) -> bool:
    return bool(value) and not str(value).strip("0123456789abcdef")


def _time(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat()
