"""The ``mllineage_endpoint`` facet family: model serving endpoints as datasets.

An endpoint is the output of a deployment run whose input is the served model version, which
makes model -> endpoint a real lineage edge::

    endpoint = endpoint_dataset(
        "sagemaker://eu-west-1", "churn-prod",
        platform="sagemaker", model_version="7", status="InService", traffic_percent=100,
    )
"""

from __future__ import annotations

from datetime import datetime
from typing import Unpack

import attr
from openlineage.client.event_v2 import Dataset

from mllineage.emitter._datasets import DatasetOptions, dataset
from mllineage.emitter._producer import MLLineageDatasetFacetBase, schema_url

__all__ = ["MLLineageEndpointDatasetFacet", "endpoint_dataset"]

FACET_KEY = "mllineage_endpoint"


def _iso_time(value: datetime | str | None) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("deployedAt needs a timezone-aware datetime")
        return value.isoformat()
    return value


@attr.define
class MLLineageEndpointDatasetFacet(MLLineageDatasetFacetBase):
    """A dataset that is a model serving endpoint (facet key ``mllineage_endpoint``).

    ``deployedAt`` accepts a timezone-aware ``datetime`` or an RFC 3339 string.
    """

    name: str
    platform: str | None = attr.field(default=None)
    url: str | None = attr.field(default=None)
    modelVersion: str | None = attr.field(default=None)
    status: str | None = attr.field(default=None)
    trafficPercent: float | None = attr.field(default=None)
    instanceType: str | None = attr.field(default=None)
    deployedAt: str | None = attr.field(default=None, converter=_iso_time)

    @trafficPercent.validator
    def _check_traffic(self, _: attr.Attribute[float | None], value: float | None) -> None:
        if value is not None and not 0 <= value <= 100:
            raise ValueError(f"trafficPercent must be within [0, 100], got {value}")

    @staticmethod
    def _get_schema() -> str:
        return schema_url("MLLineageEndpointDatasetFacet")


def endpoint_dataset(
    namespace: str,
    name: str,
    *,
    endpoint_name: str | None = None,
    platform: str | None = None,
    url: str | None = None,
    model_version: str | int | None = None,
    status: str | None = None,
    traffic_percent: float | None = None,
    instance_type: str | None = None,
    deployed_at: datetime | str | None = None,
    **options: Unpack[DatasetOptions],
) -> Dataset:
    """An endpoint dataset with its ``mllineage_endpoint`` facet.

    ``endpoint_name`` is the name on the serving platform (default: ``name``);
    ``model_version`` the version of the served model.
    """
    ds = dataset(namespace, name, **options)
    facets = dict(ds.facets or {})
    facets[FACET_KEY] = MLLineageEndpointDatasetFacet(
        name=endpoint_name or name,
        platform=platform,
        url=url,
        modelVersion=str(model_version) if model_version is not None else None,
        status=status,
        trafficPercent=traffic_percent,
        instanceType=instance_type,
        deployedAt=deployed_at,
    )
    return Dataset(namespace=ds.namespace, name=ds.name, facets=facets)
