"""Producer URI, schema URLs and the facet base classes every mllineage facet derives from."""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Mapping
from importlib import metadata

import attr
from openlineage.client.facet_v2 import DatasetFacet, RunFacet

__all__ = ["PRODUCER", "VERSION", "schema_url"]

log = logging.getLogger("mllineage.emitter")


def _package_version() -> str:
    try:
        return metadata.version("mllineage")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"


VERSION = _package_version()
"""Version of the installed ``mllineage`` distribution."""

PRODUCER = f"https://github.com/mllineage/mllineage/tree/{VERSION}/emitter"
"""The ``producer`` / ``_producer`` URI stamped on every event and facet the emitter writes."""

_SCHEMA_BASE = "https://mllineage.dev/spec/facets"


def schema_url(facet_name: str, version: str = "1-0-0") -> str:
    """The ``_schemaURL`` of a facet: ``<schema $id>#/$defs/<facet_name>``.

    The ``$id`` is the versioned URL of the bundled ``schemas/<facet_name>.json`` file; the
    fragment is a JSON Pointer to the facet definition inside it, as OpenLineage facets do.
    """
    return f"{_SCHEMA_BASE}/{version}/{facet_name}.json#/$defs/{facet_name}"


@attr.define
class MLLineageDatasetFacetBase(DatasetFacet):
    """Dataset facet stamped with the mllineage producer instead of the client's default."""

    def __attrs_post_init__(self) -> None:
        if not self._producer:
            self._producer = PRODUCER
        super().__attrs_post_init__()


@attr.define
class MLLineageRunFacetBase(RunFacet):
    """Run facet stamped with the mllineage producer instead of the client's default."""

    def __attrs_post_init__(self) -> None:
        if not self._producer:
            self._producer = PRODUCER
        super().__attrs_post_init__()


Scalar = str | int | float | bool


def scalar_params(values: Mapping[str, object] | None) -> dict[str, Scalar] | None:
    """Hyperparameters as JSON scalars: numpy scalars become int/float, anything else a string.

    Non-finite floats become strings (``"nan"``), since JSON has no NaN.
    """
    if values is None:
        return None
    out: dict[str, Scalar] = {}
    for key, value in values.items():
        if isinstance(value, bool | str):
            out[str(key)] = value
        elif isinstance(value, numbers.Integral):
            out[str(key)] = int(value)
        elif isinstance(value, numbers.Real):
            number = float(value)
            out[str(key)] = number if math.isfinite(number) else str(number)
        else:
            out[str(key)] = str(value)
    return out


def finite_metrics(values: Mapping[str, object] | None) -> dict[str, float] | None:
    """Metrics as finite floats; entries that are not finite real numbers are dropped.

    JSON cannot carry NaN or infinity, and a metric that is not a number is not a metric.
    """
    if values is None:
        return None
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            number = float(value)
            if math.isfinite(number):
                out[str(key)] = number
                continue
        log.warning("mllineage: metric %r dropped, %r is not a finite number", key, value)
    return out
