"""Named conversions from catalog records to Marquez's response shapes (``schemas.marquez``).

Where Marquez has a concept we do not store, the nearest OpenLineage fact stands in: a job's
``type`` is STREAM when its ``jobType`` facet says STREAMING; a dataset's ``sourceName`` is its
``dataSource`` facet name, else its namespace; run states map START/RUNNING -> RUNNING,
COMPLETE -> COMPLETED, FAIL -> FAILED, ABORT -> ABORTED; a job version is a stable UUID of the job
and the code version it ran (``sourceCodeLocation.version``), since jobs are not versioned here.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from mllineage.collector.queries.catalog import (
    DatasetRecord,
    JobRecord,
    NamespaceRecord,
    RunRecord,
    Tag,
    VersionRecord,
)
from mllineage.collector.queries.details import Facets
from mllineage.collector.queries.marquez_lineage import ColumnNodeRecord, GraphNodeRecord
from mllineage.collector.queries.search import SearchHit
from mllineage.collector.queries.tags import tag_name
from mllineage.collector.schemas import marquez as m

_STATES: dict[str | None, m.RunState] = {
    None: "NEW",
    "START": "RUNNING",
    "RUNNING": "RUNNING",
    "COMPLETE": "COMPLETED",
    "FAIL": "FAILED",
    "ABORT": "ABORTED",
}


def namespace(record: NamespaceRecord) -> m.Namespace:
    return m.Namespace(
        name=record.name,
        createdAt=record.created_at,
        updatedAt=record.created_at,
        ownerName="anonymous",
        description=None,
        isHidden=False,
    )


def dataset(record: DatasetRecord) -> m.Dataset:
    info, facets = record.info, record.facets
    return m.Dataset(
        id=m.DatasetId(namespace=info.namespace, name=info.name),
        type=_dataset_type(facets),
        name=info.name,
        physicalName=info.name,
        createdAt=info.created_at,
        updatedAt=info.updated_at,
        namespace=info.namespace,
        sourceName=_source_name(facets, info.namespace),
        fields=_fields(facets, record.tags),
        tags=_tag_names(record.tags, ""),
        lastModifiedAt=record.last_modified_at,
        lastLifecycleState=_get(facets, "lifecycleStateChange", "lifecycleStateChange"),
        description=_get(facets, "documentation", "description"),
        currentVersion=record.current_version,
        facets=facets,
        deleted=False,
        columnLineage=column_lineage(facets),
        quality=_quality(record),
    )


def _quality(record: DatasetRecord) -> m.DatasetQuality | None:
    checks, profile = record.checks, record.profile
    if checks is None and profile is None:
        return None
    assertions = [m.QualityAssertion(**asdict(a)) for a in checks.assertions] if checks else []
    return m.DatasetQuality(
        status=checks.status if checks else None,
        assertions=assertions,
        checkedAt=checks.evidence.event_time if checks else None,
        checkedByRunId=checks.evidence.run_uuid if checks else None,
        placement=checks.evidence.placement if checks else None,
        profile=profile.metrics if profile else None,
        profiledAt=profile.evidence.event_time if profile else None,
    )


def dataset_version(record: VersionRecord) -> m.DatasetVersion:
    info, facets = record.dataset, record.version.facets
    return m.DatasetVersion(
        id=m.DatasetVersionId(
            namespace=info.namespace, name=info.name, version=record.version.version
        ),
        type=_dataset_type(facets),
        name=info.name,
        physicalName=info.name,
        createdAt=record.version.created_at,
        version=record.version.version,
        namespace=info.namespace,
        sourceName=_source_name(facets, info.namespace),
        fields=_fields(facets, record.tags),
        tags=_tag_names(record.tags, ""),
        lifecycleState=_get(facets, "lifecycleStateChange", "lifecycleStateChange"),
        description=_get(facets, "documentation", "description"),
        createdByRun=run(record.created_by_run) if record.created_by_run else None,
        facets=facets,
    )


def job(record: JobRecord) -> m.Job:
    info, facets = record.info, record.facets
    parent = record.latest_run.info.parent_job_name if record.latest_run else None
    simple = info.name.removeprefix(f"{parent}.") if parent else info.name
    return m.Job(
        id=m.JobId(namespace=info.namespace, name=info.name),
        type="STREAM" if _get(facets, "jobType", "processingType") == "STREAMING" else "BATCH",
        name=info.name,
        simpleName=simple,
        parentJobName=parent,
        createdAt=info.created_at,
        updatedAt=info.updated_at,
        namespace=info.namespace,
        inputs=[m.DatasetId(namespace=ns, name=name) for ns, name in record.inputs],
        outputs=[m.DatasetId(namespace=ns, name=name) for ns, name in record.outputs],
        location=_get(facets, "sourceCodeLocation", "url"),
        context={},
        description=_get(facets, "documentation", "description"),
        latestRun=run(record.latest_run) if record.latest_run else None,
        latestRuns=[run(r) for r in record.latest_runs],
        parentJobUuid=job_uuid(*record.parent_job) if record.parent_job else None,
        labels=_facet_tag_names(facets),
        facets=facets,
        currentVersion=job_version(info.namespace, info.name, facets),
        tags=[],
    )


def run(record: RunRecord) -> m.Run:
    info, facets = record.info, record.facets
    duration = None
    if info.started_at is not None and info.ended_at is not None:
        duration = int((info.ended_at - info.started_at).total_seconds() * 1000)
    return m.Run(
        id=info.uuid,
        createdAt=info.first_event_time,
        updatedAt=info.last_event_time,
        nominalStartTime=_time(_get(facets, "nominalTime", "nominalStartTime")),
        nominalEndTime=_time(_get(facets, "nominalTime", "nominalEndTime")),
        state=_STATES.get(info.state, "NEW"),
        startedAt=info.started_at,
        endedAt=info.ended_at,
        durationMs=duration,
        args={},
        jobVersion=m.JobVersionId(
            namespace=record.job_namespace,
            name=record.job_name,
            version=job_version(record.job_namespace, record.job_name, {}),
        ),
        inputVersions=[_version_id(v) for v in record.inputs],
        outputVersions=[_version_id(v) for v in record.outputs],
        context={},
        facets=facets,
    )


def job_uuid(namespace: str, name: str) -> str:
    """A job's stable UUID (Marquez gives jobs one): derived from its node id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"job:{namespace}:{name}"))


def column_lineage(facets: Facets) -> list[m.ColumnLineage] | None:
    """Marquez's top-level ``columnLineage`` of a dataset, from its ``columnLineage`` facet:
    per output column its input columns, with the transformation of the facet's 1-0 form
    (per column) or 1-1+ form (per input field: the first of its ``transformations``); columns
    by name."""
    facet = facets.get("columnLineage")
    if not isinstance(facet, dict) or not isinstance(facet.get("fields"), dict):
        return None
    lineage = []
    for name, spec in sorted(facet["fields"].items()):  # JSONB does not keep key order
        if not isinstance(spec, dict):
            continue
        description, kind = spec.get("transformationDescription"), spec.get("transformationType")
        inputs = []
        for item in spec.get("inputFields") or []:
            if not isinstance(item, dict) or not {"namespace", "name", "field"} <= item.keys():
                continue
            first = next(iter(item.get("transformations") or []), None)
            first = first if isinstance(first, dict) else {}
            inputs.append(
                m.ColumnLineageInputField(
                    namespace=str(item["namespace"]),
                    dataset=str(item["name"]),
                    field=str(item["field"]),
                    transformationDescription=first.get("description", description),
                    transformationType=first.get("type", kind),
                )
            )
        lineage.append(
            m.ColumnLineage(
                name=str(name),
                inputFields=inputs,
                transformationDescription=description,
                transformationType=kind,
            )
        )
    return lineage


def _facet_tag_names(facets: Facets) -> list[str]:
    """A job's labels: the names of its ``tags`` facet's tags (key, or key:value)."""
    tags = (facets.get("tags") or {}).get("tags") or []
    names = [
        tag_name(str(t.get("key", "")), str(t.get("value", "")))
        for t in tags
        if isinstance(t, dict) and t.get("key")
    ]
    return list(dict.fromkeys(names))


def job_version(namespace: str, name: str, facets: Facets) -> str:
    """A stable stand-in for Marquez's job version UUID."""
    code = _get(facets, "sourceCodeLocation", "version") or ""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"job:{namespace}:{name}#{code}"))


def lineage_node(record: GraphNodeRecord) -> m.LineageNode:
    data: m.Dataset | m.Job
    if record.dataset is not None:
        data = dataset(record.dataset)
    else:
        assert record.job is not None
        data = job(record.job)
    return m.LineageNode(
        id=record.id,
        type=record.type,
        data=data,
        inEdges=[m.Edge(origin=o, destination=d) for o, d in record.in_edges],
        outEdges=[m.Edge(origin=o, destination=d) for o, d in record.out_edges],
    )


def column_node(record: ColumnNodeRecord) -> m.ColumnLineageNode:
    return m.ColumnLineageNode(
        id=record.id,
        type="DATASET_FIELD",
        data=m.ColumnNodeData(
            namespace=record.namespace,
            dataset=record.dataset,
            datasetVersion=None,
            field=record.field,
            fieldType=record.field_type,
            transformationDescription=record.transformation_description,
            transformationType=record.transformation_type,
            inputFields=[
                m.ColumnInputField(
                    namespace=f.namespace,
                    dataset=f.dataset,
                    datasetVersion=None,
                    field=f.field,
                    transformationDescription=f.transformation_description,
                    transformationType=f.transformation_type,
                )
                for f in record.input_fields
            ],
        ),
        inEdges=[m.Edge(origin=o, destination=d) for o, d in record.in_edges],
        outEdges=[m.Edge(origin=o, destination=d) for o, d in record.out_edges],
    )


def search_result(hit: SearchHit) -> m.SearchResult:
    return m.SearchResult(
        type=hit.type,
        name=hit.name,
        updatedAt=hit.updated_at,
        namespace=hit.namespace,
        nodeId=hit.node_id,
    )


def _version_id(value: Any) -> m.DatasetVersionId:
    return m.DatasetVersionId(namespace=value.namespace, name=value.name, version=value.version)


def _dataset_type(facets: Facets) -> Any:
    kind = str(_get(facets, "datasetType", "datasetType") or "").upper()
    return "STREAM" if kind in ("STREAM", "TOPIC") else "DB_TABLE"


def _source_name(facets: Facets, namespace: str) -> str:
    return str(_get(facets, "dataSource", "name") or namespace)


def _fields(facets: Facets, tags: list[Tag]) -> list[m.Field]:
    fields = []
    for spec in (facets.get("schema") or {}).get("fields") or []:
        if isinstance(spec, dict) and spec.get("name"):
            name = str(spec["name"])
            fields.append(
                m.Field(
                    name=name,
                    type=str(spec["type"]) if spec.get("type") is not None else None,
                    tags=_tag_names(tags, name),
                    description=spec.get("description"),
                )
            )
    return fields


def _tag_names(tags: list[Tag], field: str) -> list[str]:
    """Marquez tags are names: ``pii`` for ``pii=true``, else ``key:value``."""
    names = [
        t.key if t.value.lower() in ("true", "") else f"{t.key}:{t.value}"
        for t in tags
        if t.field == field
    ]
    return list(dict.fromkeys(names))


def _get(facets: Facets, key: str, name: str) -> Any:
    facet = facets.get(key)
    return facet.get(name) if isinstance(facet, dict) else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
