"""Dataset construction shared by every kind of ML dataset: identity, governance and standard facets.

A dataset is an ``openlineage.client.event_v2.Dataset`` (namespace, name, facets). The options
below attach the *standard* OpenLineage facets that any dataset may carry: ``schema``,
``documentation``, ``ownership``, ``tags`` (including column-level ``pii``), ``columnLineage``,
``version`` and ``symlinks``; the kind-specific builders (feature group, model, endpoint,
DataFrame) add their ``mllineage_*`` facet on top.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict, Unpack
from urllib.parse import urlsplit

from openlineage.client.event_v2 import Dataset, InputDataset, OutputDataset
from openlineage.client.facet_v2 import (
    DatasetFacet,
    InputDatasetFacet,
    OutputDatasetFacet,
    column_lineage_dataset,
    dataset_version_dataset,
    documentation_dataset,
    ownership_dataset,
    schema_dataset,
    symlinks_dataset,
    tags_dataset,
)

from mllineage.emitter._producer import PRODUCER
from mllineage.schemas import node_ids

__all__ = [
    "DatasetOptions",
    "FieldSource",
    "SchemaSpec",
    "annotate_dataset",
    "as_input",
    "as_output",
    "column_lineage_facet",
    "dataset",
    "dataset_node_id",
    "job_node_id",
    "run_node_id",
    "schema_facet",
    "split_uri",
]

SchemaSpec = Mapping[str, str] | Sequence[schema_dataset.SchemaDatasetFacetFields]
"""Columns of a dataset: ``{"name": "type"}`` in column order, or the standard field objects."""

FieldSource = tuple[Dataset, str] | tuple[Dataset, str, str] | column_lineage_dataset.InputField
"""A source column: ``(dataset, field)``, ``(dataset, field, subtype)`` or a standard ``InputField``.

With a subtype (``IDENTITY``, ``TRANSFORMATION``, ``AGGREGATION``, ``MASKED``...) the input field
carries one ``DIRECT`` transformation of that subtype.
"""

Owner = str | tuple[str, str]
"""An owner: ``"team:ml-platform"``, or ``(name, type)`` such as ``("user:ada", "MAINTAINER")``."""


class DatasetOptions(TypedDict, total=False):
    """Standard facets any dataset builder accepts as keyword arguments.

    ``schema``: columns (``{"name": "type"}`` or field objects) -> ``schema`` facet.
    ``description``: -> ``documentation`` facet (``content_type`` sets its ``contentType``).
    ``owners``: -> ``ownership`` facet.
    ``tags``: dataset-level ``{key: value}`` tags -> ``tags`` facet.
    ``pii``: ``True`` tags the whole dataset ``pii=true``; a sequence of column names tags each
    column (``field``-scoped ``pii`` tag) -> ``tags`` facet.
    ``column_lineage``: ``{output column: [source columns]}`` -> ``columnLineage`` facet.
    ``dataset_version``: version of the data -> ``version`` facet.
    ``symlinks``: other identities of the same data, ``[(namespace, name, type)]`` -> ``symlinks``.
    ``facets``: any further dataset facets by key; they replace facets built from the options.
    """

    schema: SchemaSpec
    description: str
    content_type: str
    owners: Sequence[Owner]
    tags: Mapping[str, str]
    pii: bool | Sequence[str]
    column_lineage: Mapping[str, Sequence[FieldSource]]
    dataset_version: str
    symlinks: Sequence[tuple[str, str, str]]
    facets: Mapping[str, DatasetFacet]


def dataset(namespace: str, name: str, **options: Unpack[DatasetOptions]) -> Dataset:
    """A dataset identified by ``namespace`` and ``name`` with the standard facets of ``options``.

    Namespace and name follow the OpenLineage naming conventions (``s3://bucket`` + object key,
    ``postgres://host:5432`` + ``db.schema.table``...); :func:`split_uri` derives them from a URI.
    """
    if not namespace or not name:
        raise ValueError("a dataset needs a non-empty namespace and name")
    return Dataset(namespace=namespace, name=name, facets=_option_facets(options))


def annotate_dataset(ds: Dataset, **options: Unpack[DatasetOptions]) -> Dataset:
    """A copy of ``ds`` with the facets of ``options`` added.

    Tags are merged with the dataset's existing ``tags`` facet (a new tag with the same key and
    field replaces the old one); every other facet replaces the existing facet of its key.
    """
    facets = dict(ds.facets or {})
    new = _option_facets(options)
    old_tags = facets.get("tags")
    new_tags = new.get("tags")
    if isinstance(old_tags, tags_dataset.TagsDatasetFacet) and isinstance(
        new_tags, tags_dataset.TagsDatasetFacet
    ):
        new["tags"] = _merge_tags(old_tags, new_tags)
    facets.update(new)
    return Dataset(namespace=ds.namespace, name=ds.name, facets=facets)


def _option_facets(options: DatasetOptions) -> dict[str, DatasetFacet]:
    facets: dict[str, DatasetFacet] = {}
    if "schema" in options:
        facets["schema"] = schema_facet(options["schema"])
    if "description" in options:
        facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
            description=options["description"],
            contentType=options.get("content_type"),
            producer=PRODUCER,
        )
    if "owners" in options:
        facets["ownership"] = ownership_dataset.OwnershipDatasetFacet(
            owners=[_owner(o) for o in options["owners"]], producer=PRODUCER
        )
    tags = _tags(options.get("tags", {}), options.get("pii", False))
    if tags:
        facets["tags"] = tags_dataset.TagsDatasetFacet(tags=tags, producer=PRODUCER)
    if "column_lineage" in options:
        facets["columnLineage"] = column_lineage_facet(options["column_lineage"])
    if "dataset_version" in options:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=options["dataset_version"], producer=PRODUCER
        )
    if "symlinks" in options:
        facets["symlinks"] = symlinks_dataset.SymlinksDatasetFacet(
            identifiers=[
                symlinks_dataset.Identifier(namespace=ns, name=n, type=t)
                for ns, n, t in options["symlinks"]
            ],
            producer=PRODUCER,
        )
    facets.update(options.get("facets", {}))
    return facets


def schema_facet(schema: SchemaSpec) -> schema_dataset.SchemaDatasetFacet:
    """The standard ``schema`` facet from ``{"name": "type"}`` or a sequence of field objects."""
    if isinstance(schema, Mapping):
        fields = [
            schema_dataset.SchemaDatasetFacetFields(name=str(name), type=str(kind), fields=None)
            for name, kind in schema.items()
        ]
    else:
        fields = list(schema)
    return schema_dataset.SchemaDatasetFacet(fields=fields, producer=PRODUCER)


def column_lineage_facet(
    lineage: Mapping[str, Sequence[FieldSource]],
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """The standard ``columnLineage`` facet: each output column with the source columns behind it."""
    return column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            column: column_lineage_dataset.Fields(inputFields=[_input_field(s) for s in sources])
            for column, sources in lineage.items()
        },
        producer=PRODUCER,
    )


def _input_field(source: FieldSource) -> column_lineage_dataset.InputField:
    if isinstance(source, column_lineage_dataset.InputField):
        return source
    transformations = None
    if len(source) == 3:
        transformations = [column_lineage_dataset.Transformation(type="DIRECT", subtype=source[2])]
    return column_lineage_dataset.InputField(
        namespace=source[0].namespace,
        name=source[0].name,
        field=source[1],
        transformations=transformations,
    )


def _owner(owner: Owner) -> ownership_dataset.Owner:
    if isinstance(owner, str):
        return ownership_dataset.Owner(name=owner)
    return ownership_dataset.Owner(name=owner[0], type=owner[1])


def _tags(
    tags: Mapping[str, str], pii: bool | Sequence[str]
) -> list[tags_dataset.TagsDatasetFacetFields]:
    out = [
        tags_dataset.TagsDatasetFacetFields(key=key, value=value, source="USER")
        for key, value in tags.items()
    ]
    if pii is True:
        out.append(tags_dataset.TagsDatasetFacetFields(key="pii", value="true", source="USER"))
    elif pii is not False:
        out.extend(
            tags_dataset.TagsDatasetFacetFields(key="pii", value="true", source="USER", field=c)
            for c in pii
        )
    return out


def _merge_tags(
    old: tags_dataset.TagsDatasetFacet, new: tags_dataset.TagsDatasetFacet
) -> tags_dataset.TagsDatasetFacet:
    replaced = {(t.key, t.field) for t in new.tags or []}
    kept = [t for t in old.tags or [] if (t.key, t.field) not in replaced]
    return tags_dataset.TagsDatasetFacet(tags=[*kept, *(new.tags or [])], producer=PRODUCER)


def as_input(
    ds: Dataset, input_facets: Mapping[str, InputDatasetFacet] | None = None
) -> InputDataset:
    """``ds`` as a run input.

    The ``columnLineage`` facet is left out: it describes how the run that *writes* a dataset
    derived its columns, which is not something a reading run asserts.
    """
    facets = {k: v for k, v in (ds.facets or {}).items() if k != "columnLineage"}
    return InputDataset(
        namespace=ds.namespace, name=ds.name, facets=facets, inputFacets=dict(input_facets or {})
    )


def as_output(
    ds: Dataset, output_facets: Mapping[str, OutputDatasetFacet] | None = None
) -> OutputDataset:
    """``ds`` as a run output, with all its facets."""
    return OutputDataset(
        namespace=ds.namespace,
        name=ds.name,
        facets=dict(ds.facets or {}),
        outputFacets=dict(output_facets or {}),
    )


def dataset_node_id(ds: Dataset) -> str:
    """The collector's node id of a dataset: ``dataset:<namespace>:<name>``."""
    return node_ids.dataset_node_id(ds.namespace, ds.name)


def job_node_id(namespace: str, name: str) -> str:
    """The collector's node id of a job: ``job:<namespace>:<name>``."""
    return node_ids.job_node_id(namespace, name)


def run_node_id(run_id: str) -> str:
    """The collector's node id of a run: ``run:<uuid>``."""
    return node_ids.run_node_id(run_id)


_OBJECT_STORES = {"s3", "gs", "gcs", "wasbs", "abfss", "abfs", "oss", "cos"}
_S3_ALIASES = {"s3a", "s3n"}


def split_uri(uri: str | os.PathLike[str]) -> tuple[str, str]:
    """``(namespace, name)`` of a file-like source, following the OpenLineage naming conventions.

    * object stores: ``s3://bucket/key`` -> ``("s3://bucket", "key")`` (``s3a``/``s3n`` are
      written ``s3`` like the Spark integration does; likewise ``gs``, ``abfss``, ``wasbs``);
    * local files: ``/data/x.csv``, ``data/x.csv`` or ``file:///data/x.csv`` ->
      ``("file", "/data/x.csv")`` (relative paths are made absolute);
    * anything else with an authority: ``hdfs://nn:8020/p`` -> ``("hdfs://nn:8020", "/p")``.

    Table-like sources (``postgres://host:5432`` + ``db.schema.table``) have no single URI form;
    pass their namespace and name explicitly.
    """
    text = os.fspath(uri)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if not scheme or (len(scheme) == 1 and text[1:3] in (":\\", ":/")):  # a path (or C:\ path)
        return "file", str(Path(text).expanduser().absolute())
    if scheme == "file":
        return ("file" if parts.netloc in ("", "localhost") else f"file://{parts.netloc}"), (
            parts.path or "/"
        )
    if scheme in _S3_ALIASES:
        scheme = "s3"
    if not parts.netloc:
        raise ValueError(f"cannot derive a dataset namespace from {text!r}; pass namespace=")
    namespace = f"{scheme}://{parts.netloc}"
    # Object keys have no leading slash; file-system paths keep theirs.
    name = parts.path.lstrip("/") if scheme in _OBJECT_STORES else parts.path or "/"
    if not name:
        raise ValueError(f"{text!r} names a bucket or host, not a dataset; pass name=")
    return namespace, name
