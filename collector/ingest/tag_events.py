"""Tag writes of the Marquez API, as OpenLineage DatasetEvents in the raw log.

mllineage is fed by events only, so ``POST``/``DELETE …/datasets/{ds}[/fields/{f}]/tags/{tag}``
become a DatasetEvent carrying the dataset's whole new standard ``tags`` facet (a facet replaces
the previous one: tags it does not list are gone). The producer is the collector; the tag's
``source`` names who wrote it (``mllineage-api:<key fingerprint>``, or ``mllineage-api`` with
auth off), so the raw log is the audit trail: who tagged what, when. A tag name ``key:value``
is stored as that key and value, a plain name as ``key`` = name, ``value`` = ``true``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mllineage.collector.queries.tags import TagTarget, tag_name

PRODUCER = "https://github.com/mllineage/mllineage/tree/main/collector"
DATASET_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent"
TAGS_FACET_SCHEMA = (
    "https://openlineage.io/spec/facets/1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet"
)


def _same(entry: dict[str, Any], name: str, field: str | None) -> bool:
    entry_name = tag_name(str(entry.get("key", "")), str(entry.get("value", "")))
    return entry_name == name and (entry.get("field") or None) == field


def tag_event(
    target: TagTarget,
    name: str,
    *,
    field: str | None,
    add: bool,
    actor: str,
    now: datetime,
) -> dict[str, Any] | None:
    """The DatasetEvent adding (``add``) or removing tag ``name``; None if nothing changes."""
    present = any(_same(entry, name, field) for entry in target.tags)
    if present == add:
        return None
    if add:
        key, _, value = name.partition(":")
        entry: dict[str, Any] = {"key": key, "value": value or "true", "source": actor}
        if field is not None:
            entry["field"] = field
        tags = [*target.tags, entry]
    else:
        tags = [entry for entry in target.tags if not _same(entry, name, field)]
    return {
        "eventTime": now.isoformat().replace("+00:00", "Z"),
        "producer": PRODUCER,
        "schemaURL": DATASET_EVENT_SCHEMA,
        "dataset": {
            "namespace": target.namespace,
            "name": target.name,
            "facets": {
                "tags": {"_producer": PRODUCER, "_schemaURL": TAGS_FACET_SCHEMA, "tags": tags}
            },
        },
    }
