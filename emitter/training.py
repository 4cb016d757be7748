"""The ``mllineage_training`` facet family: what a training run did.

Hyperparameters, final metrics, the framework, and a link to the same run in an experiment
tracker (for MLflow: ``trackingUri``, ``experimentId`` and the MLflow run id as
``externalRunId``). Attach it to a training run; :meth:`LineageRun.log_params` and
:meth:`LineageRun.log_metrics` fill it as training progresses.
"""

from __future__ import annotations

import attr

from mllineage.emitter._producer import (
    MLLineageRunFacetBase,
    finite_metrics,
    scalar_params,
    schema_url,
)

__all__ = ["MLLineageTrainingRunFacet"]

FACET_KEY = "mllineage_training"


@attr.define
class MLLineageTrainingRunFacet(MLLineageRunFacetBase):
    """A training run's parameters, metrics and tracker link (facet key ``mllineage_training``).

    ``hyperparameters`` values are kept as JSON scalars and ``metrics`` as finite floats
    (non-finite metrics are dropped with a warning), so the facet always serialises to JSON.
    """

    hyperparameters: dict[str, str | int | float | bool] | None = attr.field(
        default=None, converter=scalar_params
    )
    metrics: dict[str, float] | None = attr.field(default=None, converter=finite_metrics)
    framework: str | None = attr.field(default=None)
    trackingUri: str | None = attr.field(default=None)
    experimentId: str | None = attr.field(default=None)
    externalRunId: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return schema_url("MLLineageTrainingRunFacet")
