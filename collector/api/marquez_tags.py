"""Marquez's tag routes: list tags, and tag or untag a dataset or one of its fields.

Tag writes need the write scope and go through the normal ingest path as DatasetEvents
(``ingest/tag_events.py``), so they are stored, deduplicated, projected and forwarded like any
event, and governance questions (``tagged``) see them. They answer the dataset as Marquez does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from mllineage.collector.api import marquez_shapes as shapes
from mllineage.collector.api.auth import key_fingerprint, namespaces_of, require_scope
from mllineage.collector.api.marquez import RawPathRoute
from mllineage.collector.api.reads import read_connection
from mllineage.collector.errors import Forbidden, NotFound
from mllineage.collector.ingest.tag_events import tag_event
from mllineage.collector.ingest.validate import EventValidator
from mllineage.collector.ingest.writer import IngestWriter
from mllineage.collector.queries import catalog, tags
from mllineage.collector.schemas import marquez as m
from mllineage.collector.schemas.marquez_tags import Tag, TagList

reads = APIRouter(
    prefix="/api/v1",
    tags=["marquez"],
    dependencies=[Depends(require_scope("read"))],
    route_class=RawPathRoute,
)
writes = APIRouter(
    prefix="/api/v1",
    tags=["marquez"],
    dependencies=[Depends(require_scope("write"))],
    route_class=RawPathRoute,
)


@reads.get("/tags", response_model=TagList)
def list_tags(
    request: Request,
    limit: Annotated[int, Query(ge=0, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TagList:
    """Every tag on a dataset or field (mllineage keeps no tag descriptions: null)."""
    with read_connection(request) as conn:
        names = tags.list_tag_names(conn)
    return TagList(tags=[Tag(name=n, description=None) for n in names[offset : offset + limit]])


@reads.get("/tags/{tag}", response_model=Tag)
def get_tag(request: Request, tag: str) -> Tag:
    with read_connection(request) as conn:
        if tag not in tags.list_tag_names(conn):
            raise NotFound(f"no tag {tag!r}")
    return Tag(name=tag, description=None)


def _target(request: Request, namespace: str, dataset: str) -> tags.TagTarget:
    with read_connection(request) as conn:
        return tags.tag_target(conn, namespace, dataset)


def _dataset(request: Request, target: tags.TagTarget) -> m.Dataset:
    with read_connection(request) as conn:
        return shapes.dataset(catalog.get_dataset(conn, target.namespace, target.name))


async def _write(
    request: Request, namespace: str, dataset: str, tag: str, field: str | None, *, add: bool
) -> m.Dataset:
    """Reads (which may wait for the projection) run in the thread pool, off the event loop.

    A namespace-scoped key may tag only datasets of the namespaces it may write (403 otherwise),
    as for any event it sends.
    """
    allowed = namespaces_of(request)
    if not allowed.allows(namespace):
        raise Forbidden(f"this API key may not write to namespace {namespace!r}")
    target = await run_in_threadpool(_target, request, namespace, dataset)
    if not allowed.allows(target.namespace):
        raise Forbidden(f"this API key may not write to namespace {target.namespace!r}")
    if field is not None and field not in target.fields:
        raise NotFound(f"no field {field!r} in dataset {dataset!r} of namespace {namespace!r}")
    fingerprint = key_fingerprint(request)
    actor = "mllineage-api" + (f":{fingerprint}" if fingerprint else "")
    event = tag_event(target, tag, field=field, add=add, actor=actor, now=datetime.now(UTC))
    if event is not None:
        validator: EventValidator = request.app.state.validator
        writer: IngestWriter = request.app.state.writer
        [outcome] = await writer.submit([validator.validate(event)])
        if isinstance(outcome, Exception):
            raise outcome
    return await run_in_threadpool(_dataset, request, target)


@writes.post("/namespaces/{namespace}/datasets/{dataset}/tags/{tag}", response_model=m.Dataset)
async def tag_dataset(request: Request, namespace: str, dataset: str, tag: str) -> m.Dataset:
    return await _write(request, namespace, dataset, tag, None, add=True)


@writes.delete("/namespaces/{namespace}/datasets/{dataset}/tags/{tag}", response_model=m.Dataset)
async def untag_dataset(request: Request, namespace: str, dataset: str, tag: str) -> m.Dataset:
    return await _write(request, namespace, dataset, tag, None, add=False)


@writes.post(
    "/namespaces/{namespace}/datasets/{dataset}/fields/{field}/tags/{tag}",
    response_model=m.Dataset,
)
async def tag_field(
    request: Request, namespace: str, dataset: str, field: str, tag: str
) -> m.Dataset:
    return await _write(request, namespace, dataset, tag, field, add=True)


@writes.delete(
    "/namespaces/{namespace}/datasets/{dataset}/fields/{field}/tags/{tag}",
    response_model=m.Dataset,
)
async def untag_field(
    request: Request, namespace: str, dataset: str, field: str, tag: str
) -> m.Dataset:
    return await _write(request, namespace, dataset, tag, field, add=False)
