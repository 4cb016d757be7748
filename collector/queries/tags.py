"""Tags as Marquez names them, and the current ``tags`` facet that a tag write starts from.

A tag name is the tag's key, or ``key:value`` when its value is not ``true``/empty (the rule of
the dataset and field answers, ``marquez_shapes._tag_names``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from mllineage.collector.db.tables import tags_t
from mllineage.collector.queries import details
from mllineage.collector.queries.resolve import resolve_dataset


def tag_name(key: str, value: str) -> str:
    return key if value.lower() in ("true", "") else f"{key}:{value}"


def list_tag_names(conn: Connection) -> list[str]:
    """Every tag name in use on a dataset or a field, sorted."""
    rows = conn.execute(select(tags_t.c.key, tags_t.c.value).distinct()).all()
    return sorted({tag_name(key, value) for key, value in rows})


@dataclass(frozen=True, slots=True)
class TagTarget:
    """The dataset a tag write goes to (a symlink resolved to it), and what it holds now."""

    namespace: str
    name: str
    tags: list[dict[str, Any]]  # the current ``tags`` facet's entries
    fields: set[str]  # the field names of its ``schema`` facet


def tag_target(conn: Connection, namespace: str, name: str) -> TagTarget:
    """Raise ``NotFound`` for an unknown dataset."""
    ref = resolve_dataset(conn, namespace, name)
    facets = details.dataset_facets(conn, [ref.id], ["tags", "schema"]).get(ref.id, {})
    tags = [t for t in (facets.get("tags") or {}).get("tags") or [] if isinstance(t, dict)]
    fields = {
        str(f["name"])
        for f in (facets.get("schema") or {}).get("fields") or []
        if isinstance(f, dict) and f.get("name")
    }
    return TagTarget(ref.namespace, ref.name, tags, fields)
