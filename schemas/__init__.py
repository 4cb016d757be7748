"""JSON Schemas of the mllineage_* OpenLineage facets, shipped as package data.

The schemas (draft 2020-12, one file per facet, ``MLLineage{Name}{Entity}Facet.json``) are the
wire contract of the facets the emitter writes. Each file has the shape of an OpenLineage
standard facet schema: a versioned ``$id``, a ``$defs`` entry named after the facet that extends
the OpenLineage base facet through ``allOf`` + ``$ref``, and a top-level ``properties`` object
with exactly one key, the facet key (``mllineage_model``...), so a facet is validated as
``{key: facet}`` against its file.

This module only uses the standard library, so the collector can resolve the ``_schemaURL`` of
an emitted facet to the bundled file without fetching anything::

    schema = load_schema(facet["_schemaURL"])          # with or without a #fragment
    schema = schema_for_facet_key("mllineage_model")
    for schema_id, schema in all_schemas().items(): ...

Every function returns fresh copies; mutating them does not affect later calls.
"""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

__all__ = [
    "SchemaNotFound",
    "all_schemas",
    "facet_keys",
    "load_schema",
    "schema_for_facet_key",
    "schema_url_for_facet_key",
]

JSONSchema = dict[str, Any]


class SchemaNotFound(LookupError):
    """No bundled schema has the requested ``$id`` or facet key."""


@functools.cache
def _bundled() -> dict[str, JSONSchema]:
    """Read every bundled schema once, keyed by ``$id``."""
    schemas: dict[str, JSONSchema] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.startswith("MLLineage") and entry.name.endswith(".json"):
            schema = json.loads(entry.read_text(encoding="utf-8"))
            schemas[schema["$id"]] = schema
    return schemas


@functools.cache
def _ids_by_key() -> dict[str, str]:
    ids: dict[str, str] = {}
    for schema_id, schema in _bundled().items():
        (key,) = schema["properties"]
        ids[key] = schema_id
    return ids


def all_schemas() -> dict[str, JSONSchema]:
    """Every bundled schema, keyed by its ``$id``."""
    return copy.deepcopy(_bundled())


def facet_keys() -> dict[str, str]:
    """Facet key (``mllineage_model``...) to the ``$id`` of its schema."""
    return dict(_ids_by_key())


def load_schema(url: str) -> JSONSchema:
    """The bundled schema whose ``$id`` is ``url``, ignoring any ``#fragment``.

    Accepts both a schema ``$id`` and a facet's ``_schemaURL``
    (``<$id>#/$defs/<FacetName>``). Raises :class:`SchemaNotFound` for any other URL.
    """
    schema_id = url.split("#", 1)[0]
    try:
        return copy.deepcopy(_bundled()[schema_id])
    except KeyError:
        raise SchemaNotFound(f"no bundled mllineage schema with $id {schema_id!r}") from None


def schema_for_facet_key(key: str) -> JSONSchema:
    """The bundled schema of the facet stored under ``key``; :class:`SchemaNotFound` if none."""
    try:
        return load_schema(_ids_by_key()[key])
    except KeyError:
        raise SchemaNotFound(f"no bundled mllineage schema for facet key {key!r}") from None


def schema_url_for_facet_key(key: str) -> str:
    """The ``_schemaURL`` an emitted facet of this key carries: ``<$id>#/$defs/<FacetName>``."""
    schema = schema_for_facet_key(key)
    schema_id: str = schema["$id"]
    ref: str = schema["properties"][key]["$ref"]
    return schema_id + ref
