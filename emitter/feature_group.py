"""The ``mllineage_featureGroup`` facet family: feature groups (feature views) of a feature store.

A feature group is a dataset whose rows are entity records and whose columns are features::

    customers = feature_group_dataset(
        "s3://ml-features", "offline/customers",
        features=[Feature("customer_id", "string"), Feature("tenure_months", "int64")],
        entities=["customer_id"], feature_store="sagemaker-feature-store",
        pii=["email"],
        column_lineage={"tenure_months": [(raw_customers, "signup_date", "TRANSFORMATION")]},
    )

The builder also writes the standard ``schema`` facet from the features (unless ``schema=`` is
given), so column-level lineage and column tags line up with the feature names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Unpack

import attr
from openlineage.client.event_v2 import Dataset
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.utils import RedactMixin

from mllineage.emitter._datasets import DatasetOptions, dataset
from mllineage.emitter._producer import MLLineageDatasetFacetBase, schema_url

__all__ = ["Feature", "MLLineageFeatureGroupDatasetFacet", "feature_group_dataset"]

FACET_KEY = "mllineage_featureGroup"


@attr.define
class Feature(RedactMixin):
    """One feature: its name (the column name), value type and description."""

    name: str
    type: str | None = attr.field(default=None)
    description: str | None = attr.field(default=None)

    _skip_redact: ClassVar[list[str]] = ["name", "type"]


def _features(values: Sequence[Feature | str] | None) -> list[Feature] | None:
    if values is None:
        return None
    return [v if isinstance(v, Feature) else Feature(name=v) for v in values]


@attr.define
class MLLineageFeatureGroupDatasetFacet(MLLineageDatasetFacetBase):
    """A dataset that is a feature group of a feature store (facet key ``mllineage_featureGroup``)."""

    name: str
    version: str | None = attr.field(default=None)
    featureStore: str | None = attr.field(default=None)
    entities: list[str] | None = attr.field(default=None)
    eventTimeFeature: str | None = attr.field(default=None)
    features: list[Feature] | None = attr.field(default=None, converter=_features)
    onlineStore: str | None = attr.field(default=None)
    offlineStore: str | None = attr.field(default=None)
    ttlSeconds: int | None = attr.field(default=None)
    description: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return schema_url("MLLineageFeatureGroupDatasetFacet")


def _default_group_name(name: str) -> str:
    if "/" in name.strip("/"):
        return name.strip("/").rsplit("/", 1)[-1]
    return name.strip("/").rsplit(".", 1)[-1]


def feature_group_dataset(
    namespace: str,
    name: str,
    *,
    features: Sequence[Feature | str],
    group_name: str | None = None,
    group_version: str | None = None,
    feature_store: str | None = None,
    entities: Sequence[str] | None = None,
    event_time_feature: str | None = None,
    online_store: str | None = None,
    offline_store: str | None = None,
    ttl_seconds: int | None = None,
    **options: Unpack[DatasetOptions],
) -> Dataset:
    """A feature-group dataset with its ``mllineage_featureGroup`` and ``schema`` facets.

    ``group_name`` is the group's name in its feature store (default: the last ``/``-separated
    part of ``name``, or of a dotted table name its last part); ``group_version`` its
    definition version. The
    ``description`` option documents both the dataset and the group. Entities and the event time
    feature must be features of the group.
    """
    feats = _features(features) or []
    known = {f.name for f in feats}
    unknown = [e for e in [*(entities or []), event_time_feature] if e and e not in known]
    if unknown:
        raise ValueError(f"entities / event time feature not among the features: {unknown}")
    if "schema" not in options:
        options["schema"] = [
            schema_dataset.SchemaDatasetFacetFields(
                name=f.name, type=f.type, description=f.description, fields=None
            )
            for f in feats
        ]
    ds = dataset(namespace, name, **options)
    facets = dict(ds.facets or {})
    facets[FACET_KEY] = MLLineageFeatureGroupDatasetFacet(
        name=group_name or _default_group_name(name),
        version=group_version,
        featureStore=feature_store,
        entities=list(entities) if entities is not None else None,
        eventTimeFeature=event_time_feature,
        features=feats,
        onlineStore=online_store,
        offlineStore=offline_store,
        ttlSeconds=ttl_seconds,
        description=options.get("description"),
    )
    return Dataset(namespace=ds.namespace, name=ds.name, facets=facets)
