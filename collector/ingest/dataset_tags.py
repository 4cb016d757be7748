r"""Governance tags of a dataset, derived from its current facets (the ``dataset_tags`` rows).

Three producers put tags in three places, and every one counts for ``tagged`` and every other tag
answer. The rules, in order (a later rule's ``source`` wins for the same (field, key, value)):

1. Feast's own facets: each of ``feast_featureView``, ``feast_featureService``,
   ``feast_dataSource`` and ``feast_entity`` may carry ``tags``, a JSON object
   ``{"pii": "true"}``; every entry is a dataset-level tag (field ``''``), source ``FEAST``;
   the value is the string itself, other JSON values their JSON text (``true``, ``1.5``), and
   an entry whose value is ``null`` is skipped.
2. Field descriptions of the standard ``schema`` facet: Feast writes a field's tags into its
   description as ``[Tags: k=v, k2=v2]`` (regular expression ``\[Tags:([^\]]*)\]``, every
   match); each comma-separated ``k=v`` is a tag of that field (top-level fields that are
   objects with a string ``description``; field ``name`` or ``''``), split at the first ``=``,
   key and value trimmed of spaces, tabs, CR and LF, source ``FEAST``. An entry without ``=``
   or with an empty key is ignored.
3. The standard ``tags`` facet: each ``{key, value, field?, source?}`` entry as sent (a later
   entry wins over an earlier one with the same field, key and value).

A dataset's rows are recomputed from its current facets whenever any of ``TAG_FACETS`` changes
(a retracted facet simply contributes nothing).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

FEAST_TAGGED_FACETS = (
    "feast_featureView",
    "feast_featureService",
    "feast_dataSource",
    "feast_entity",
)
TAG_FACETS = frozenset({"tags", "schema", *FEAST_TAGGED_FACETS})

_FIELD_TAGS = re.compile(r"\[Tags:([^\]]*)\]")
_BLANKS = " \t\r\n"


class TagRow(NamedTuple):
    field: str
    key: str
    value: str
    source: str | None


def dataset_tags(facets: Mapping[str, Mapping[str, Any] | None]) -> list[TagRow]:
    """The tag rows the rules above derive from a dataset's current facets (deduplicated)."""
    rows: dict[tuple[str, str, str], str | None] = {}
    for facet_key in FEAST_TAGGED_FACETS:
        tags = (facets.get(facet_key) or {}).get("tags")
        if isinstance(tags, Mapping):
            for key, value in tags.items():
                if value is not None:
                    rows[("", str(key), _text(value))] = "FEAST"
    for field in (facets.get("schema") or {}).get("fields") or []:
        if isinstance(field, Mapping) and isinstance(field.get("description"), str):
            for key, value in field_description_tags(field["description"]):
                rows[(str(field.get("name") or ""), key, value)] = "FEAST"
    for tag in (facets.get("tags") or {}).get("tags") or []:
        if isinstance(tag, Mapping) and "key" in tag and "value" in tag:
            key = (str(tag.get("field") or ""), str(tag["key"]), str(tag["value"]))
            rows[key] = tag.get("source")
    return [TagRow(*key, source) for key, source in rows.items()]


def field_description_tags(description: str) -> list[tuple[str, str]]:
    """``"email [Tags: pii=true, owner=crm]"`` -> ``[("pii", "true"), ("owner", "crm")]``."""
    found = []
    for group in _FIELD_TAGS.findall(description):
        for entry in group.split(","):
            key, sep, value = entry.partition("=")
            if sep and key.strip(_BLANKS):
                found.append((key.strip(_BLANKS), value.strip(_BLANKS)))
    return found


def _text(value: Any) -> str:
    """A string as itself, anything else as its JSON text (what PostgreSQL's ->> gives)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))
