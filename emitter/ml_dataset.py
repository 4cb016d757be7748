"""The ``mllineage_dataset`` facet family: what a dataset is to a machine-learning run.

The facet records the content digest of the exact data a run used (with the algorithm that
computed it), where it was read from, its target and prediction columns, and the role it
played (``training``, ``validation``, ``test``, ``evaluation``, ``inference``). The DataFrame
builder (:func:`mllineage.emitter.dataset_from_dataframe`) fills it from the data itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import attr

from mllineage.emitter._producer import MLLineageDatasetFacetBase, schema_url

__all__ = ["DatasetContext", "MLLineageDatasetDatasetFacet"]

FACET_KEY = "mllineage_dataset"

DatasetContext = Literal["training", "validation", "test", "evaluation", "inference"]
"""Role of a dataset in a run."""

CONTEXTS: tuple[str, ...] = get_args(DatasetContext)


def _columns(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


@attr.define
class MLLineageDatasetDatasetFacet(MLLineageDatasetFacetBase):
    """ML view of a dataset (facet key ``mllineage_dataset``).

    ``targets`` and ``predictions`` accept one column name or several. ``digest`` is lowercase
    hex and only comparable between equal ``digestAlgorithm`` values.
    """

    digest: str | None = attr.field(default=None)
    digestAlgorithm: str | None = attr.field(default=None)
    source: str | None = attr.field(default=None)
    sourceType: str | None = attr.field(default=None)
    targets: list[str] | None = attr.field(default=None, converter=_columns)
    predictions: list[str] | None = attr.field(default=None, converter=_columns)
    context: DatasetContext | None = attr.field(default=None)

    @context.validator
    def _check_context(self, _: attr.Attribute[str | None], value: str | None) -> None:
        if value is not None and value not in CONTEXTS:
            raise ValueError(f"context must be one of {CONTEXTS}, got {value!r}")

    @digest.validator
    def _check_digest(self, _: attr.Attribute[str | None], value: str | None) -> None:
        if value is not None and (not value or value.strip("0123456789abcdef")):
            raise ValueError(f"digest must be lowercase hex, got {value!r}")

    @staticmethod
    def _get_schema() -> str:
        return schema_url("MLLineageDatasetDatasetFacet")
