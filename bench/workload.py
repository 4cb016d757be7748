"""Deterministic ML lineage workload: valid OpenLineage 2-0-2 RunEvents at a chosen scale.

The graph is the chain mllineage exists for: raw sources -> feature pipelines (in layers, later
layers also read earlier feature groups) -> feature groups -> training-set jobs -> training sets ->
training jobs -> model versions -> deploy jobs -> endpoints. One hub table
(``analytics.public.customers``, with PII columns) is read by ``hub_readers`` pipelines (1,000 at
medium and large scale). Every job runs several times (START + COMPLETE; some runs also send
RUNNING, some FAIL). Facets: ``schema``, ``columnLineage``, ``tags`` (``pii``, column-scoped),
``ownership``, ``jobType``, ``sourceCodeLocation``, ``nominalTime``, ``parent``, ``errorMessage``,
``outputStatistics``, ``datasetType`` + ``version`` + ``mllineage_model`` on models,
``mllineage_featureGroup``, ``mllineage_dataset``, ``mllineage_endpoint``, ``mllineage_training``;
each carries ``_producer`` and ``_schemaURL``.

Same scale and seed give byte-identical output: every random draw comes from a ``random.Random``
seeded from the seed (and, for a job's runs, the job's index), never from global state or time.

Usage::

    python -m bench.workload --scale small --seed 42 --out events.ndjson

writes ``events.ndjson`` and ``events.meta.json`` (counts, hub node id, model versions, time span:
what the query benchmark needs to pick start nodes). Importable: ``Workload(SCALES["small"],
42).events()`` yields event dicts. The dicts share their facet sub-objects: do not mutate them.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

PRODUCER = "https://github.com/mllineage/mllineage/tree/main/bench"
RUN_EVENT_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_OL = "https://openlineage.io/spec/facets"
_ML = "https://mllineage.dev/spec/facets/1-0-0"
BASE_TIME = datetime(2025, 1, 6, tzinfo=UTC)

Event = dict[str, Any]


def _url(base: str, version: str, name: str) -> str:
    return f"{base}/{version}/{name}.json#/$defs/{name}" if version else f"{base}/{name}.json"


SCHEMA_URLS = {
    "schema": _url(_OL, "1-2-0", "SchemaDatasetFacet"),
    "columnLineage": _url(_OL, "1-2-0", "ColumnLineageDatasetFacet"),
    "tags": _url(_OL, "1-0-0", "TagsDatasetFacet"),
    "ownership": _url(_OL, "1-0-1", "OwnershipDatasetFacet"),
    "datasetType": _url(_OL, "1-0-1", "DatasetTypeDatasetFacet"),
    "version": _url(_OL, "1-0-1", "DatasetVersionDatasetFacet"),
    "outputStatistics": _url(_OL, "1-0-2", "OutputStatisticsOutputDatasetFacet"),
    "jobType": _url(_OL, "2-0-4", "JobTypeJobFacet"),
    "sourceCodeLocation": _url(_OL, "1-1-0", "SourceCodeLocationJobFacet"),
    "jobOwnership": _url(_OL, "1-0-1", "OwnershipJobFacet"),
    "nominalTime": _url(_OL, "1-0-1", "NominalTimeRunFacet"),
    "parent": _url(_OL, "1-2-0", "ParentRunFacet"),
    "errorMessage": _url(_OL, "1-0-1", "ErrorMessageRunFacet"),
    "mllineage_model": _url(_ML, "", "MLLineageModelDatasetFacet"),
    "mllineage_featureGroup": _url(_ML, "", "MLLineageFeatureGroupDatasetFacet"),
    "mllineage_dataset": _url(_ML, "", "MLLineageDatasetDatasetFacet"),
    "mllineage_endpoint": _url(_ML, "", "MLLineageEndpointDatasetFacet"),
    "mllineage_training": _url(_ML, "", "MLLineageTrainingRunFacet"),
}


def facet(kind: str, **fields: Any) -> dict[str, Any]:
    """A facet body stamped with ``_producer`` and the ``_schemaURL`` of its schema."""
    return {"_producer": PRODUCER, "_schemaURL": SCHEMA_URLS[kind], **fields}


@dataclass(frozen=True, slots=True)
class Scale:
    """How big the graph is. Events ~= 2.2 x jobs x mean runs per job."""

    name: str
    sources: int
    pipelines: int  # one feature group each
    hub_readers: int  # pipelines (first layer) that also read the hub table
    training_sets: int
    models: int  # one training job each
    endpoints: int  # one deploy job each
    runs: tuple[int, int]  # runs per job, inclusive range
    layers: tuple[float, ...] = (0.7, 0.2, 0.1)  # share of pipelines per layer

    def __post_init__(self) -> None:
        # Pipeline i reads source i first, so every source is some pipeline's input.
        if not 0 < self.sources <= self.pipelines:
            raise ValueError("need 0 < sources <= pipelines")
        if min(self.training_sets, self.models, self.endpoints) < 1:
            raise ValueError("need at least one training set, model and endpoint")

    @property
    def datasets(self) -> int:
        return self.sources + self.pipelines + self.training_sets + self.models + self.endpoints

    @property
    def jobs(self) -> int:
        return self.pipelines + self.training_sets + self.models + self.endpoints


SCALES: dict[str, Scale] = {
    "small": Scale("small", 90, 90, 40, 20, 20, 20, runs=(4, 8)),
    "medium": Scale("medium", 4_000, 4_000, 1_000, 800, 800, 800, runs=(4, 11)),
    "large": Scale("large", 40_000, 40_000, 1_000, 8_000, 8_000, 8_000, runs=(4, 12)),
}

# --- vocabularies -----------------------------------------------------------------------------

_COLUMNS = [
    ("customer_id", "BIGINT"),
    ("account_id", "BIGINT"),
    ("order_id", "BIGINT"),
    ("session_id", "VARCHAR"),
    ("product_id", "BIGINT"),
    ("store_id", "INT"),
    ("country", "VARCHAR"),
    ("region", "VARCHAR"),
    ("channel", "VARCHAR"),
    ("device_type", "VARCHAR"),
    ("plan", "VARCHAR"),
    ("amount", "DECIMAL(12,2)"),
    ("discount", "DECIMAL(12,2)"),
    ("quantity", "INT"),
    ("tenure_months", "INT"),
    ("page_views", "INT"),
    ("clicks", "INT"),
    ("returns", "INT"),
    ("support_tickets", "INT"),
    ("nps_score", "INT"),
    ("created_at", "TIMESTAMP"),
    ("updated_at", "TIMESTAMP"),
    ("event_ts", "TIMESTAMP"),
    ("is_active", "BOOLEAN"),
    ("churned", "BOOLEAN"),
    ("currency", "VARCHAR"),
    ("category", "VARCHAR"),
    ("price", "DECIMAL(12,2)"),
    ("latency_ms", "DOUBLE"),
    ("score", "DOUBLE"),
]
_PII_COLUMNS = [
    ("email", "VARCHAR"),
    ("phone", "VARCHAR"),
    ("date_of_birth", "DATE"),
    ("home_address", "VARCHAR"),
    ("ip_address", "VARCHAR"),
    ("full_name", "VARCHAR"),
]
_AGGS = ["sum_7d", "avg_30d", "count_7d", "max_90d", "last", "ratio_30d"]
_SOURCE_SYSTEMS = [
    ("postgres://warehouse.prod:5432", "analytics.public.{t}"),
    ("s3://acme-raw-events", "events/{t}"),
    ("bigquery", "acme-prod.raw.{t}"),
    ("kafka://broker.prod:9092", "{t}"),
]
_TOPICS = [
    "orders",
    "sessions",
    "payments",
    "clicks",
    "tickets",
    "inventory",
    "shipments",
    "accounts",
    "subscriptions",
    "reviews",
]
_TEAMS = ["team:growth", "team:risk", "team:search", "team:ads", "team:platform", "team:support"]
_FRAMEWORKS = [
    ("sklearn", "1.5.2"),
    ("xgboost", "2.1.1"),
    ("pytorch", "2.4.0"),
    ("lightgbm", "4.5"),
]
_TASKS = ["binary_classification", "regression", "ranking", "multiclass_classification"]

FEATURE_NS = "feast://feature-store.prod"
TRAINING_SET_NS = "s3://acme-ml-training"
MODEL_NS = "mlflow://registry.prod"
ENDPOINT_NS = "sagemaker://us-east-1"
HUB = ("postgres://warehouse.prod:5432", "analytics.public.customers")

# Per-run variety: shares of runs that fail, and that also send a RUNNING event.
FAIL_RATE = 0.05
RUNNING_RATE = 0.10


@dataclass(slots=True)
class DatasetSpec:
    namespace: str
    name: str
    columns: list[str]
    facets: dict[str, Any]  # static facets, sent when the dataset is an input (START)
    kind: str

    @property
    def node_id(self) -> str:
        return f"dataset:{self.namespace}:{self.name}"

    def ref(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "name": self.name}


@dataclass(slots=True)
class JobSpec:
    index: int
    namespace: str
    name: str
    kind: str  # pipeline | training_set | training | deploy
    stage: int  # order within a wave (later stages read what earlier ones wrote)
    inputs: list[int]
    output: int
    runs: int
    offset_min: int
    facets: dict[str, Any]
    output_facets: dict[str, Any] = field(default_factory=dict)  # static part of the output
    parent: tuple[str, str] | None = None  # (namespace, name) of the scheduling DAG

    @property
    def node_id(self) -> str:
        return f"job:{self.namespace}:{self.name}"


@dataclass(frozen=True, slots=True)
class RunPlan:
    run_id: str
    outcome: str  # COMPLETE | FAIL
    running: bool
    start: datetime
    end: datetime


class Workload:
    """The graph of one (scale, seed); ``events()`` streams its RunEvents in wave order."""

    def __init__(self, scale: Scale, seed: int = 42) -> None:
        self.scale = scale
        self.seed = seed
        self.datasets: list[DatasetSpec] = []
        self.jobs: list[JobSpec] = []
        self.hub = 0
        self._output_facets: dict[int, dict[str, Any]] = {}  # what a producing run reports
        self._model_static: dict[int, dict[str, Any]] = {}  # model facet fields fixed per model
        with _gc_paused():  # millions of small objects: the cyclic GC would rescan them often
            self._build(random.Random(f"mllineage-bench:{seed}:{scale.name}"))
        self.waves = scale.runs[1]

    # -- structure ------------------------------------------------------------------------------

    def _build(self, rng: random.Random) -> None:
        s = self.scale
        sources = [self._source(rng, i) for i in range(s.sources)]
        self.datasets.extend(sources)
        source_ids = list(range(len(sources)))

        # Feature pipelines, layer by layer; every source is read at least once.
        layer_sizes = [int(s.pipelines * share) for share in s.layers]
        layer_sizes[0] += s.pipelines - sum(layer_sizes)
        hub_readers = set(rng.sample(range(layer_sizes[0]), min(s.hub_readers, layer_sizes[0])))
        previous_layer: list[int] = []
        pipeline = 0
        for layer, size in enumerate(layer_sizes):
            this_layer: list[int] = []
            for _ in range(size):
                inputs = [source_ids[pipeline % len(source_ids)]]
                inputs += rng.sample(source_ids, rng.randint(0, 2))
                if layer == 0 and pipeline in hub_readers:
                    inputs.append(self.hub)
                if previous_layer:
                    inputs.append(rng.choice(previous_layer))
                inputs = list(dict.fromkeys(inputs))
                fg = self._feature_group(rng, pipeline, inputs)
                this_layer.append(fg)
                self._job(rng, "pipeline", pipeline, layer, inputs, fg)
                pipeline += 1
            previous_layer = this_layer
        feature_groups = [d for d, spec in enumerate(self.datasets) if spec.kind == "feature_group"]

        stage = len(layer_sizes)
        training_sets = []
        for i in range(s.training_sets):
            inputs = rng.sample(feature_groups, rng.randint(2, 5))
            ts = self._training_set(rng, i, inputs)
            training_sets.append(ts)
            self._job(rng, "training_set", i, stage, inputs, ts)
        models = []
        for i in range(s.models):
            # Most models have a training set of their own; some share one.
            ts = training_sets[i % len(training_sets)]
            if rng.random() < 0.3:
                ts = rng.choice(training_sets)
            model = self._model(rng, i, ts)
            models.append(model)
            self._job(rng, "training", i, stage + 1, [ts], model)
        for i in range(s.endpoints):
            model = models[i % len(models)]
            endpoint = self._endpoint(rng, i)
            self._job(rng, "deploy", i, stage + 2, [model], endpoint)

    def _add(self, spec: DatasetSpec) -> int:
        self.datasets.append(spec)
        return len(self.datasets) - 1

    def _source(self, rng: random.Random, i: int) -> DatasetSpec:
        if i == self.hub:
            namespace, name = HUB
            columns = [("customer_id", "BIGINT"), *_PII_COLUMNS[:4], *_COLUMNS[6:15]]
            pii = [c for c, _ in _PII_COLUMNS[:4]]
        else:
            namespace, pattern = _SOURCE_SYSTEMS[i % len(_SOURCE_SYSTEMS)]
            name = pattern.format(t=f"{_TOPICS[i % len(_TOPICS)]}_{i:06d}")
            columns = rng.sample(_COLUMNS, rng.randint(6, 14))
            pii = []
            if rng.random() < 0.3:
                extra = rng.sample(_PII_COLUMNS, rng.randint(1, 2))
                columns += extra
                pii = [c for c, _ in extra]
        facets: dict[str, Any] = {
            "schema": facet("schema", fields=[{"name": c, "type": t} for c, t in columns]),
            "ownership": facet("ownership", owners=[{"name": rng.choice(_TEAMS), "type": "OWNER"}]),
        }
        if pii:
            tags = [{"key": "pii", "value": "true", "field": c, "source": "USER"} for c in pii]
            facets["tags"] = facet("tags", tags=tags)
        return DatasetSpec(namespace, name, [c for c, _ in columns], facets, "dataset")

    def _feature_group(self, rng: random.Random, i: int, inputs: list[int]) -> int:
        name = f"fg_{_TOPICS[i % len(_TOPICS)]}_{i:06d}"
        lineage: dict[str, Any] = {}
        features = []
        for _ in range(rng.randint(4, 10)):
            src = self.datasets[rng.choice(inputs)]
            column = rng.choice(src.columns)
            feature = f"{column}_{rng.choice(_AGGS)}"
            if feature in lineage:
                continue
            features.append({"name": feature, "type": "DOUBLE"})
            lineage[feature] = {
                "inputFields": [
                    {
                        "namespace": src.namespace,
                        "name": src.name,
                        "field": column,
                        "transformations": [{"type": "DIRECT", "subtype": "AGGREGATION"}],
                    }
                ]
            }
        schema = [{"name": "customer_id", "type": "BIGINT"}, *features]
        facets = {
            "schema": facet("schema", fields=schema),
            "mllineage_featureGroup": facet(
                "mllineage_featureGroup",
                name=name,
                featureStore="feast",
                entities=["customer_id"],
                eventTimeFeature="event_ts",
                features=[{"name": f["name"], "type": "float64"} for f in features],
                onlineStore="redis",
                offlineStore="s3",
                ttlSeconds=86_400 * rng.choice((1, 7, 30)),
            ),
        }
        spec = DatasetSpec(FEATURE_NS, name, [f["name"] for f in features], facets, "feature_group")
        index = self._add(spec)
        spec.facets = {"schema": facets["schema"]}  # as an input only the schema is repeated
        self._output_facets[index] = {
            **facets,
            "columnLineage": facet("columnLineage", fields=lineage),
        }
        return index

    def _training_set(self, rng: random.Random, i: int, inputs: list[int]) -> int:
        name = f"training_sets/ts_{i:05d}"
        lineage: dict[str, Any] = {}
        for fg in inputs:
            src = self.datasets[fg]
            for feature in rng.sample(src.columns, min(3, len(src.columns))):
                lineage[f"{src.name}__{feature}"] = {
                    "inputFields": [
                        {"namespace": src.namespace, "name": src.name, "field": feature}
                    ]
                }
        columns = [*lineage, "label"]
        schema = facet("schema", fields=[{"name": c, "type": "DOUBLE"} for c in columns])
        index = self._add(
            DatasetSpec(TRAINING_SET_NS, name, columns, {"schema": schema}, "dataset")
        )
        self._output_facets[index] = {
            "schema": schema,
            "columnLineage": facet("columnLineage", fields=lineage),
            "mllineage_dataset": facet(
                "mllineage_dataset",
                context="training",
                targets=["label"],
                sourceType="parquet",
                source=f"{TRAINING_SET_NS}/{name}",
            ),
        }
        return index

    def _model(self, rng: random.Random, i: int, training_set: int) -> int:
        name = f"{_TOPICS[i % len(_TOPICS)]}_model_{i:05d}"
        framework, framework_version = rng.choice(_FRAMEWORKS)
        features = self.datasets[training_set].columns[:-1]
        spec = DatasetSpec(MODEL_NS, name, [], {}, "model")
        index = self._add(spec)
        self._model_static[index] = {
            "name": name,
            "framework": framework,
            "frameworkVersion": framework_version,
            "task": rng.choice(_TASKS),
            "features": features,
        }
        return index

    def _endpoint(self, rng: random.Random, i: int) -> int:
        name = f"endpoint-{_TOPICS[i % len(_TOPICS)]}-{i:05d}"
        return self._add(DatasetSpec(ENDPOINT_NS, name, [], {}, "endpoint"))

    def _job(
        self, rng: random.Random, kind: str, i: int, stage: int, inputs: list[int], output: int
    ) -> None:
        namespace, name, integration = {
            "pipeline": ("spark-features", f"feature_pipeline_{i:06d}", "SPARK"),
            "training_set": ("airflow-ml", f"build_training_set_{i:05d}", "AIRFLOW"),
            "training": ("training", f"train_{self.datasets[output].name}", "PYTHON"),
            "deploy": ("airflow-ml", f"deploy_{self.datasets[output].name}", "AIRFLOW"),
        }[kind]
        facets = {
            "jobType": facet(
                "jobType", processingType="BATCH", integration=integration, jobType="JOB"
            ),
            "sourceCodeLocation": facet(
                "sourceCodeLocation",
                type="git",
                url=f"https://github.com/acme/ml-platform/blob/main/{kind}/{name}.py",
                repoUrl="https://github.com/acme/ml-platform",
                path=f"{kind}/{name}.py",
                version=f"{rng.getrandbits(160):040x}",
            ),
            "ownership": facet("jobOwnership", owners=[{"name": rng.choice(_TEAMS)}]),
        }
        runs = rng.randint(*self.scale.runs)
        parent = None
        if kind in ("pipeline", "training_set"):
            parent = ("airflow-ml", f"{kind}_dag_{i % 50:02d}")
        self.jobs.append(
            JobSpec(
                index=len(self.jobs),
                namespace=namespace,
                name=name,
                kind=kind,
                stage=stage,
                inputs=inputs,
                output=output,
                runs=runs,
                offset_min=stage * 120 + rng.randint(0, 110),
                facets=facets,
                parent=parent,
            )
        )

    # -- runs -----------------------------------------------------------------------------------

    def run_plans(self, job: JobSpec) -> list[RunPlan]:
        """The runs of ``job``, one per wave; the first always completes (so outputs exist)."""
        rng = random.Random(f"mllineage-bench:{self.seed}:{self.scale.name}:runs:{job.index}")
        plans = []
        for wave in range(job.runs):
            start = BASE_TIME + timedelta(
                days=wave, minutes=job.offset_min, seconds=rng.randint(0, 59)
            )
            outcome = "FAIL" if wave > 0 and rng.random() < FAIL_RATE else "COMPLETE"
            plans.append(
                RunPlan(
                    run_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    outcome=outcome,
                    running=rng.random() < RUNNING_RATE,
                    start=start,
                    end=start + timedelta(seconds=rng.randint(30, 1800)),
                )
            )
        return plans

    def model_versions(self) -> dict[int, list[tuple[str, datetime]]]:
        """Per model dataset: its versions (``"1"``, ``"2"``...) and when each was written."""
        versions: dict[int, list[tuple[str, datetime]]] = {}
        for job in self.jobs:
            if job.kind == "training":
                done = [p for p in self.run_plans(job) if p.outcome == "COMPLETE"]
                versions[job.output] = [(str(n), p.end) for n, p in enumerate(done, 1)]
        return versions

    # -- events ---------------------------------------------------------------------------------

    def events(self) -> Iterator[Event]:
        """Every RunEvent, wave by wave (run n of every job), stages in order within a wave."""
        order = sorted(self.jobs, key=lambda j: (j.stage, j.index))
        plans = {job.index: self.run_plans(job) for job in order}
        model_version: dict[int, int] = {}
        for wave in range(self.waves):
            for job in order:
                if wave < job.runs:
                    yield from self._run_events(job, plans[job.index][wave], wave, model_version)

    def _run_events(
        self, job: JobSpec, plan: RunPlan, wave: int, model_version: dict[int, int]
    ) -> Iterator[Event]:
        job_ref = {"namespace": job.namespace, "name": job.name}
        light_job = {**job_ref, "facets": {"jobType": job.facets["jobType"]}}
        start_run: dict[str, Any] = {
            "nominalTime": facet(
                "nominalTime",
                nominalStartTime=_ts(BASE_TIME + timedelta(days=wave)),
                nominalEndTime=_ts(BASE_TIME + timedelta(days=wave + 1)),
            )
        }
        if job.parent is not None:
            parent_ns, parent_name = job.parent
            parent_run = uuid.UUID(
                int=random.Random(f"{self.seed}:{parent_name}:{wave}").getrandbits(128), version=4
            )
            start_run["parent"] = facet(
                "parent",
                run={"runId": str(parent_run)},
                job={"namespace": parent_ns, "name": parent_name},
            )
        inputs_full = [self._input(d, model_version) for d in job.inputs]
        inputs_bare = [self.datasets[d].ref() for d in job.inputs]
        output = self.datasets[job.output]
        yield _event(
            "START",
            plan.start,
            plan.run_id,
            start_run,
            {**job_ref, "facets": job.facets},
            inputs_full,
            [output.ref()],
        )
        if plan.running:
            progress = plan.start + (plan.end - plan.start) / 2
            yield _event("RUNNING", progress, plan.run_id, {}, light_job, inputs_bare, [])
        if plan.outcome == "FAIL":
            error = facet(
                "errorMessage",
                message=f"{job.name} failed: executor lost",
                programmingLanguage="python",
            )
            yield _event(
                "FAIL", plan.end, plan.run_id, {"errorMessage": error}, light_job, inputs_bare, []
            )
            return
        run_facets: dict[str, Any] = {}
        out_facets = self._output_facets.get(job.output, {})
        if job.kind == "training":
            version = model_version.get(job.output, 0) + 1
            model_version[job.output] = version
            out_facets, run_facets = self._model_output(job, plan, version)
        elif job.kind == "deploy":
            out_facets = self._endpoint_output(job, plan, model_version)
        stats = {
            "outputStatistics": facet(
                "outputStatistics",
                rowCount=10_000 + (hash_int(plan.run_id) % 5_000_000),
                size=1_000_000 + (hash_int(plan.run_id) % 900_000_000),
            )
        }
        out = {**output.ref(), "facets": out_facets, "outputFacets": stats}
        yield _event("COMPLETE", plan.end, plan.run_id, run_facets, light_job, inputs_bare, [out])

    def _input(self, dataset: int, model_version: dict[int, int]) -> dict[str, Any]:
        spec = self.datasets[dataset]
        if spec.kind == "model":  # deploy reads a pinned model version
            version = str(model_version.get(dataset, 1))
            return {
                **spec.ref(),
                "facets": {
                    "datasetType": facet("datasetType", datasetType="MODEL"),
                    "version": facet("version", datasetVersion=version),
                },
            }
        return {**spec.ref(), "facets": spec.facets}

    def _model_output(
        self, job: JobSpec, plan: RunPlan, version: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        static = self._model_static[job.output]
        rng = random.Random(plan.run_id)
        hyper = {"learning_rate": rng.choice((0.01, 0.03, 0.1)), "max_depth": rng.randint(3, 10)}
        metrics = {"auc": round(0.7 + rng.random() * 0.25, 4), "logloss": round(rng.random(), 4)}
        name = static["name"]
        model = facet(
            "mllineage_model",
            name=name,
            version=str(version),
            framework=static["framework"],
            frameworkVersion=static["frameworkVersion"],
            task=static["task"],
            hyperparameters=hyper,
            metrics=metrics,
            artifactUri=f"s3://acme-ml-models/{name}/{version}/model.bin",
            registryUri="https://mlflow.acme.internal",
            features=static["features"],
            stage="Production" if version % 3 == 0 else "Staging",
        )
        outputs = {
            "datasetType": facet("datasetType", datasetType="MODEL"),
            "version": facet("version", datasetVersion=str(version)),
            "mllineage_model": model,
        }
        training = facet(
            "mllineage_training",
            hyperparameters=hyper,
            metrics=metrics,
            framework=static["framework"],
            experimentId=f"exp-{job.index}",
            externalRunId=f"{plan.run_id[:8]}",
        )
        return outputs, {"mllineage_training": training}

    def _endpoint_output(
        self, job: JobSpec, plan: RunPlan, model_version: dict[int, int]
    ) -> dict[str, Any]:
        spec = self.datasets[job.output]
        version = str(model_version.get(job.inputs[0], 1))
        return {
            "mllineage_endpoint": facet(
                "mllineage_endpoint",
                name=spec.name,
                platform="sagemaker",
                url=f"https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/{spec.name}",
                modelVersion=version,
                status="InService",
                trafficPercent=100,
                instanceType="ml.m5.large",
                deployedAt=_ts(plan.end),
            )
        }

    # -- metadata -------------------------------------------------------------------------------

    def meta(self, *, events: int | None = None) -> dict[str, Any]:
        """What benchmarks need to pick start nodes; ``events`` is the count actually written."""
        versions = self.model_versions()
        hub_readers = sum(1 for j in self.jobs if self.hub in j.inputs)
        last = max(p.end for j in self.jobs for p in self.run_plans(j))
        return {
            "scale": self.scale.name,
            "seed": self.seed,
            "events": events,
            "datasets": len(self.datasets),
            "jobs": len(self.jobs),
            "hub": {"node_id": self.datasets[self.hub].node_id, "readers": hub_readers},
            "models": [
                {"node_id": self.datasets[d].node_id, "versions": [v for v, _ in vs]}
                for d, vs in versions.items()
            ],
            "endpoints": [d.node_id for d in self.datasets if d.kind == "endpoint"],
            "feature_groups": [d.node_id for d in self.datasets if d.kind == "feature_group"],
            "sources": [d.node_id for d in self.datasets[: self.scale.sources]],
            "jobs_sample": [j.node_id for j in self.jobs[:: max(1, len(self.jobs) // 500)]],
            "first_event_time": _ts(BASE_TIME),
            "last_event_time": _ts(last),
        }


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def hash_int(text: str) -> int:
    """A stable integer from a string (``hash()`` is salted per process)."""
    return int(text[:8], 16)


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _event(
    event_type: str,
    moment: datetime,
    run_id: str,
    run_facets: dict[str, Any],
    job: dict[str, Any],
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
) -> Event:
    return {
        "eventType": event_type,
        "eventTime": _ts(moment),
        "run": {"runId": run_id, "facets": run_facets},
        "job": job,
        "inputs": inputs,
        "outputs": outputs,
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA_URL,
    }


def generate_events(scale: str | Scale, seed: int = 42) -> Iterator[Event]:
    """The events of ``scale`` (a name in ``SCALES`` or a ``Scale``) for ``seed``, in order."""
    return Workload(SCALES[scale] if isinstance(scale, str) else scale, seed).events()


def write_ndjson(workload: Workload, out: Path, *, limit: int | None = None) -> int:
    """Stream the events to ``out`` (one JSON object per line) and ``<out>.meta.json``."""
    count = 0
    gc.freeze()  # the graph lives until the end: keep it out of every collection
    with out.open("wb", buffering=1 << 20) as handle:
        for event in workload.events():
            handle.write(orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE))
            count += 1
            if limit is not None and count >= limit:
                break
    meta_path(out).write_bytes(
        orjson.dumps(workload.meta(events=count), option=orjson.OPT_INDENT_2)
    )
    return count


def meta_path(events_path: Path) -> Path:
    return events_path.with_name(events_path.name.removesuffix(".ndjson") + ".meta.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="NDJSON file to write")
    parser.add_argument("--limit", type=int, help="stop after this many events")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    workload = Workload(SCALES[args.scale], args.seed)
    count = write_ndjson(workload, args.out, limit=args.limit)
    seconds = time.perf_counter() - started
    size = args.out.stat().st_size
    print(
        f"{args.out}: {count:,} events, {len(workload.datasets):,} datasets, "
        f"{len(workload.jobs):,} jobs, {size / 1e6:,.1f} MB in {seconds:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
