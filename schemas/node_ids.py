"""Marquez-style node ids, the one place they are written and read: ``dataset:<ns>:<name>[#version]``,
``job:<ns>:<name>``, ``datasetField:<ns>:<dataset>:<field>``, ``run:<uuid>``.

Shared by the emitter (the ids it hands back), the client (the ids it asks about) and the
collector (the ids it parses and answers with); standard library only, like the rest of
``mllineage.schemas``, so importing it costs the emitter and the client nothing.


Node ids join their parts with ``:``, yet OpenLineage namespaces are URIs (``postgres://host:5432``,
``s3://bucket``) and names may hold ``:``, ``/``, ``.`` and ``#``, so one id can have several
readings. ``node_id_readings`` lists every reading, most plausible first; the resolver
(``queries.resolve``) picks the first one that names something stored. The preferred reading splits
namespace from name at the first ``:`` that is neither a URI scheme separator (``scheme://``) nor the
port of the URI's authority (``host:5432``, ``[::1]:5432``); for a ``datasetField`` the field is what
follows the last ``:``; a ``#`` introduces a version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NodeType = Literal["dataset", "job", "datasetField", "run"]
NODE_TYPES: tuple[NodeType, ...] = ("datasetField", "dataset", "job", "run")

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_PORT = re.compile(r"\d+(?=[:/]|$)")


class InvalidNodeId(ValueError):
    """The text is not a node id of any known type."""


@dataclass(frozen=True, slots=True)
class NodeRef:
    """One reading of a node id. ``name`` is the run id for ``run`` nodes."""

    type: NodeType
    namespace: str
    name: str
    field: str | None = None
    version: str | None = None

    @property
    def node_id(self) -> str:
        """The canonical text of this reading."""
        if self.type == "run":
            return run_node_id(self.name)
        if self.type == "datasetField":
            assert self.field is not None
            text = field_node_id(self.namespace, self.name, self.field)
        else:
            text = f"{self.type}:{self.namespace}:{self.name}"
        return text if self.version is None else f"{text}#{self.version}"


def dataset_node_id(namespace: str, name: str, version: str | None = None) -> str:
    text = f"dataset:{namespace}:{name}"
    return text if version is None else f"{text}#{version}"


def job_node_id(namespace: str, name: str) -> str:
    return f"job:{namespace}:{name}"


def field_node_id(namespace: str, dataset: str, field: str) -> str:
    return f"datasetField:{namespace}:{dataset}:{field}"


def normalise_run_id(run_id: str) -> str:
    """Run ids compare case-insensitively when they are UUIDs; anything else is kept as sent."""
    return run_id.lower() if len(run_id) == 36 and run_id.count("-") == 4 else run_id


def run_node_id(run_uuid: str) -> str:
    return f"run:{run_uuid}"


def parse_node_id(value: str) -> NodeRef:
    """The most plausible reading of ``value``; raises ``InvalidNodeId``."""
    return node_id_readings(value)[0]


def node_id_readings(value: str) -> list[NodeRef]:
    """Every reading of ``value``, most plausible first (never empty); raises ``InvalidNodeId``."""
    node_type, rest = _prefix(value)
    if node_type == "run":
        if not rest:
            raise InvalidNodeId(f"node id {value!r} has no run id")
        return [NodeRef("run", "", rest)]
    readings: list[NodeRef] = []
    for body, version in _version_splits(rest):
        if node_type == "datasetField":
            readings.extend(_field_readings(body, version))
        else:
            readings.extend(
                NodeRef(node_type, namespace, name, version=version)
                for namespace, name in namespace_splits(body)
            )
    if not readings:
        raise InvalidNodeId(
            f"node id {value!r} must look like {node_type}:<namespace>:<name>"
            + (":<field>" if node_type == "datasetField" else "")
        )
    return list(dict.fromkeys(readings))


def namespace_splits(text: str) -> list[tuple[str, str]]:
    """Every (namespace, name) split of ``text`` at a ``:``, the preferred one first."""
    positions = [i for i, char in enumerate(text) if char == ":" and 0 < i < len(text) - 1]
    preferred = _preferred_split(text)
    if preferred is not None and preferred in positions:
        positions.remove(preferred)
        positions.insert(0, preferred)
    return [(text[:i], text[i + 1 :]) for i in positions]


def _prefix(value: str) -> tuple[NodeType, str]:
    for node_type in NODE_TYPES:
        if value.startswith(node_type + ":"):
            return node_type, value[len(node_type) + 1 :]
    raise InvalidNodeId(
        f"node id {value!r} must start with 'dataset:', 'job:', 'datasetField:' or 'run:'"
    )


def _version_splits(rest: str) -> list[tuple[str, str | None]]:
    """Readings with a ``#version`` suffix (last ``#`` first), then the one without."""
    splits: list[tuple[str, str | None]] = []
    index = rest.rfind("#")
    while index > 0:
        if index < len(rest) - 1:
            splits.append((rest[:index], rest[index + 1 :]))
        index = rest.rfind("#", 0, index)
    splits.append((rest, None))
    return splits


def _field_readings(body: str, version: str | None) -> list[NodeRef]:
    readings: list[NodeRef] = []
    positions = [i for i, char in enumerate(body) if char == ":" and i < len(body) - 1]
    for cut in reversed(positions):  # the field after the last ':' first
        dataset_part, field = body[:cut], body[cut + 1 :]
        readings.extend(
            NodeRef("datasetField", namespace, name, field=field, version=version)
            for namespace, name in namespace_splits(dataset_part)
        )
    return readings


def _preferred_split(text: str) -> int | None:
    """Index of the ``:`` ending the namespace, reading URI namespaces by their syntax."""
    scheme = _SCHEME.match(text)
    if scheme is None:
        index = text.find(":")
        return index if index > 0 else None
    position, in_authority, brackets, port_seen = scheme.end(), True, 0, False
    while position < len(text):
        char = text[position]
        if char == "[":
            brackets += 1
        elif char == "]":
            brackets = max(0, brackets - 1)
        elif char == "/" and brackets == 0:
            in_authority = False
        elif char == ":" and brackets == 0:
            port = _PORT.match(text, position + 1) if in_authority and not port_seen else None
            if port is None:
                return position
            port_seen = True
            position = port.end()
            continue
        position += 1
    return None
