"""What one event may hold: nesting depth, counts, and identifier sizes the storage can index.

Contract: ``event_problems(payload, limits)`` returns located problems (JSON pointers) for an
event that exceeds a limit, checked on the raw decoded JSON before any costly validation; the
empty list means the event fits. The same limits hold on PostgreSQL and SQLite, so both databases
give the same answer for the same event.

Why these numbers:

- Nesting: ``orjson`` parses 1,024 levels but serialises only 254, and events are re-serialised
  (content hash, storage). ``MAX_NESTING`` is the one limit for both; the batch array itself
  does not count.
- Identifiers: PostgreSQL refuses a b-tree index row above 2,704 bytes (after compression, so
  random names hit it first). Namespaces, names, versions, field names and facet keys are
  indexed, some together (a symlink's namespace and name; a tag's field, key and value), so each
  gets a byte budget whose sums stay below that. Run ids are ``varchar(255)``.
- Counts: an event with 100,000 inputs took 8.7 s and 196 MB to validate and store; the
  defaults are far above what real producers send and keep one event's cost bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mllineage.collector.errors import ErrorDetail

#: Deepest nesting of objects and arrays in one event (the event itself is level 1).
MAX_NESTING = 128
#: UTF-8 bytes of a namespace, a dataset or job name, a version, a field name or a facet key.
MAX_IDENTIFIER_BYTES = 1024
#: UTF-8 bytes of a tag's key and of its value (indexed together with the field name).
MAX_TAG_BYTES = 512
#: Characters of a run id (the ``runs.uuid`` column).
MAX_RUN_ID_CHARS = 255


@dataclass(frozen=True, slots=True)
class EventLimits:
    """Per-event count limits (``MLLINEAGE_MAX_EVENT_*`` settings)."""

    max_inputs: int = 10_000
    max_outputs: int = 10_000
    max_facets: int = 1_000  # facets in any one facet map


def event_problems(
    payload: dict[str, Any], limits: EventLimits, *, shallow: bool = False
) -> list[ErrorDetail]:
    """Every limit ``payload`` (a decoded event object) exceeds, located; cheap when none.

    ``shallow``: the caller knows the event cannot nest deeper than ``MAX_NESTING`` (it holds no
    more objects and arrays than that), so the nesting walk is skipped."""
    problems: list[ErrorDetail] = []
    deep = None if shallow else _too_deep(payload, 1)
    if deep is not None:
        problems.append(ErrorDetail(deep, f"nested deeper than {MAX_NESTING} levels"))
        return problems  # the rest walks the same structure; one clear message is enough
    for key, limit in (("inputs", limits.max_inputs), ("outputs", limits.max_outputs)):
        items = payload.get(key)
        if isinstance(items, list) and len(items) > limit:
            problems.append(
                ErrorDetail(f"/{key}", f"{len(items)} {key}; at most {limit} per event")
            )
    if problems:
        return problems
    for pointer, facets in _facet_maps(payload):
        if len(facets) > limits.max_facets:
            problems.append(
                ErrorDetail(pointer, f"{len(facets)} facets; at most {limits.max_facets}")
            )
        problems.extend(
            ErrorDetail(f"{pointer}/{_escape(key)}", _too_long_msg(key, MAX_IDENTIFIER_BYTES))
            for key in facets
            if _too_long(key, MAX_IDENTIFIER_BYTES)
        )
    for pointer, value, budget in _identifiers(payload):
        if isinstance(value, str) and _too_long(value, budget):
            problems.append(ErrorDetail(pointer, _too_long_msg(value, budget)))
    run_ids = (("/run/runId", _dig(payload, "run", "runId")),)
    parent = (
        "/run/facets/parent/run/runId",
        _dig(payload, "run", "facets", "parent", "run", "runId"),
    )
    for pointer, value in (*run_ids, parent):
        if isinstance(value, str) and len(value) > MAX_RUN_ID_CHARS:
            problems.append(
                ErrorDetail(pointer, f"{len(value)} characters; at most {MAX_RUN_ID_CHARS}")
            )
    return problems


def _too_deep(value: Any, level: int) -> str | None:
    """JSON pointer of a container nested deeper than ``MAX_NESTING``, else None."""
    if level > MAX_NESTING:
        return ""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list):
                found = _too_deep(item, level + 1)
                if found is not None:
                    return f"/{_escape(key)}{found}"
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                found = _too_deep(item, level + 1)
                if found is not None:
                    return f"/{index}{found}"
    return None


def _facet_maps(payload: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for pointer, owner, key in _facet_owners(payload):
        facets = owner.get(key) if isinstance(owner, dict) else None
        if isinstance(facets, dict):
            yield f"{pointer}/{key}", facets


def _facet_owners(payload: dict[str, Any]) -> Iterator[tuple[str, Any, str]]:
    yield "/run", payload.get("run"), "facets"
    yield "/job", payload.get("job"), "facets"
    yield "/dataset", payload.get("dataset"), "facets"
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for index, item in _items(payload, side):
            yield f"/{side}/{index}", item, "facets"
            yield f"/{side}/{index}", item, extra


def _identifiers(payload: dict[str, Any]) -> Iterator[tuple[str, Any, int]]:
    """(pointer, value, byte budget) of every string the projection stores in an index."""
    for owner in ("job", "dataset"):
        for field in ("namespace", "name"):
            yield f"/{owner}/{field}", _dig(payload, owner, field), MAX_IDENTIFIER_BYTES
    datasets = [
        (f"/{side}/{i}", item)
        for side in ("inputs", "outputs")
        for i, item in _items(payload, side)
    ]
    if isinstance(payload.get("dataset"), dict):
        datasets.append(("/dataset", payload["dataset"]))
    for pointer, item in datasets:
        for field in ("namespace", "name"):
            yield f"{pointer}/{field}", item.get(field), MAX_IDENTIFIER_BYTES
        facets = item.get("facets")
        if isinstance(facets, dict):
            yield from _dataset_facet_identifiers(f"{pointer}/facets", facets)


def _dataset_facet_identifiers(
    pointer: str, facets: dict[str, Any]
) -> Iterator[tuple[str, Any, int]]:
    budget = MAX_IDENTIFIER_BYTES
    yield f"{pointer}/version/datasetVersion", _dig(facets, "version", "datasetVersion"), budget
    yield f"{pointer}/mllineage_model/version", _dig(facets, "mllineage_model", "version"), budget
    for index, ident in _items(_dig(facets, "symlinks") or {}, "identifiers"):
        for field in ("namespace", "name"):
            yield f"{pointer}/symlinks/identifiers/{index}/{field}", ident.get(field), budget
    for index, tag in _items(_dig(facets, "tags") or {}, "tags"):
        yield f"{pointer}/tags/tags/{index}/field", tag.get("field"), budget
        yield f"{pointer}/tags/tags/{index}/key", tag.get("key"), MAX_TAG_BYTES
        yield f"{pointer}/tags/tags/{index}/value", tag.get("value"), MAX_TAG_BYTES
    fields = _dig(facets, "columnLineage", "fields")
    if isinstance(fields, dict):
        for name, spec in fields.items():
            at = f"{pointer}/columnLineage/fields/{_escape(name)}"
            yield at, name, budget
            for index, source in _items(spec if isinstance(spec, dict) else {}, "inputFields"):
                for field in ("namespace", "name", "field"):
                    yield f"{at}/inputFields/{index}/{field}", source.get(field), budget


def _items(owner: Any, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    items = owner.get(key) if isinstance(owner, dict) else None
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield index, item


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _too_long(value: str, budget: int) -> bool:
    # A character takes at most 4 UTF-8 bytes: skip the encoding for the usual short strings.
    return len(value) * 4 > budget and len(value.encode("utf-8", "surrogatepass")) > budget


def _too_long_msg(value: str, budget: int) -> str:
    size = len(value.encode("utf-8", "surrogatepass"))
    return f"{size} bytes (UTF-8); at most {budget}, so that it can be indexed"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
