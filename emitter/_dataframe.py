"""Datasets from in-memory tables (pandas DataFrame, pyarrow Table): schema, profile and digest.

This is MLflow's ``mlflow.data.from_pandas`` made lossless: the dataset keeps its identity
(namespace/name, derived from ``source`` when given), its columns (standard ``schema`` facet),
a profile (standard ``dataQualityMetrics`` facet) and, in ``mllineage_dataset``, a digest of
the whole content plus its targets, predictions and role.

pandas and pyarrow are optional dependencies (``pip install 'mllineage[pandas]'``), imported
only when a table is passed in. Both libraries go through the same Arrow representation, so a
pandas frame and the equivalent pyarrow Table get the same digest and profile.

Digest ``sha256-columnar-v1``
-----------------------------
SHA-256 over a canonical, columnar encoding of the *logical* content, built so that equal data
hashes equal whatever its physical layout (chunking, slicing, string vs large_string, pandas vs
Arrow) and any changed cell, column name, column order or column type changes the digest:

* header ``b"mllineage/sha256-columnar-v1\\0"``, then the row count and column count (u64 LE);
* per column, in order: its name and its canonical type tag (each u64-LE-length-prefixed UTF-8);
  the validity bitmap (``numpy.packbits(valid, bitorder="little")``); then the values with
  nulls replaced by a zero value:

  - booleans: packed bits; integers, floats, decimals-as-text aside: little-endian fixed-width
    bytes of the Arrow type; temporal types: their integer storage (unit and time zone are in
    the type tag);
  - strings and binaries: the u64-LE length of each value, then the concatenated bytes;
  - anything else (lists, structs, maps, decimals, Python objects Arrow cannot type): one
    canonical text per value (JSON with sorted keys for nested values, ``repr`` for Python
    objects), encoded like strings.

Canonical type tags are Arrow type names, with ``string``/``large_string``/``string_view``
folded to ``string``, the binary variants to ``binary``, dictionary (pandas ``category``)
columns decoded and tagged ``dictionary<value tag>``, and Python-object columns tagged
``object``. NaN in a floating column counts as null (pandas' missing value), so a NaN-holding
pandas frame and an Arrow table with nulls agree.

The pandas index is part of the content unless it is the default ``RangeIndex`` (0..n-1,
unnamed); a non-default index is hashed as trailing columns, as ``pyarrow.Table.from_pandas``
stores it. The digest is therefore stable across row-order-preserving reloads that keep column
types (Parquet; CSV when the types survive the text round trip) and changes when rows are
reordered.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Sequence
from typing import Any, Unpack

import attr
from openlineage.client.event_v2 import Dataset
from openlineage.client.facet_v2 import data_quality_metrics_dataset, schema_dataset

from mllineage.emitter._datasets import DatasetOptions, dataset, split_uri
from mllineage.emitter._producer import PRODUCER
from mllineage.emitter.ml_dataset import FACET_KEY, DatasetContext, MLLineageDatasetDatasetFacet

__all__ = [
    "DIGEST_ALGORITHM",
    "Digest",
    "dataframe_digest",
    "dataframe_profile",
    "dataframe_schema",
    "dataset_from_dataframe",
]

DIGEST_ALGORITHM = "sha256-columnar-v1"
QUANTILES = (0.25, 0.5, 0.75)
_SOURCE_TYPES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".feather": "feather",
    ".arrow": "arrow",
    ".orc": "orc",
    ".avro": "avro",
    ".xlsx": "excel",
    ".xls": "excel",
}


@attr.frozen
class Digest:
    """A content digest and the name of the algorithm that computed it."""

    algorithm: str
    value: str


@attr.frozen
class _Column:
    name: str
    native_type: str  # the type as the source library names it (pandas dtype / Arrow type)
    tag: str  # canonical type tag hashed into the digest
    values: Any  # canonical pyarrow Array, or a list of Python objects for tag "object"


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "DataFrame datasets need pyarrow: pip install 'mllineage[pandas]'"
        ) from exc
    return pyarrow


def _is_pandas(data: object) -> bool:
    return type(data).__module__.split(".", 1)[0] == "pandas" and hasattr(data, "iloc")


def _columns(data: object) -> tuple[int, list[_Column]]:
    """Row count and canonical columns of a pandas DataFrame or pyarrow Table/RecordBatch.

    Column names (as strings, index levels included) must be unique: ``ValueError`` otherwise.
    """
    pa = _pyarrow()
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        cols = [
            _arrow_column(pa, str(name), str(col.type), col)
            for name, col in zip(data.column_names, data.columns, strict=True)
        ]
        return _unique(data.num_rows, cols)
    if _is_pandas(data):
        return _unique(*_pandas_columns(pa, data))
    raise TypeError(f"expected a pandas DataFrame or a pyarrow Table, got {type(data).__name__}")


def _unique(rows: int, cols: list[_Column]) -> tuple[int, list[_Column]]:
    names = [c.name for c in cols]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"column names must be unique, duplicated: {duplicated}")
    return rows, cols


def _pandas_columns(pa: Any, frame: Any) -> tuple[int, list[_Column]]:
    cols = [
        _pandas_column(pa, str(frame.columns[i]), frame.iloc[:, i]) for i in range(frame.shape[1])
    ]
    index = frame.index
    default_index = (
        type(index).__name__ == "RangeIndex"
        and index.start == 0
        and index.step == 1
        and index.name is None
    )
    if not default_index:
        for level in range(index.nlevels):
            name = index.names[level]
            cols.append(
                _pandas_column(
                    pa,
                    str(name) if name is not None else f"__index_level_{level}__",
                    index.get_level_values(level),
                )
            )
    return len(frame), cols


def _pandas_column(pa: Any, name: str, values: Any) -> _Column:
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # Mixed Python objects Arrow cannot type: hash their repr, treat None/NaN as null.
        objects = [None if _is_missing(v) else v for v in values]
        return _Column(name, str(values.dtype), "object", objects)
    return _arrow_column(pa, name, str(values.dtype), array)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _arrow_column(pa: Any, name: str, native_type: str, array: Any) -> _Column:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    tag, canonical = _canonical(pa, array)
    return _Column(name, native_type, tag, canonical)


def _canonical(pa: Any, array: Any) -> tuple[str, Any]:
    """Canonical type tag and array: layout-independent, NaN as null, dictionaries decoded."""
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_dictionary(kind):
        tag, decoded = _canonical(pa, array.dictionary_decode())
        return f"dictionary<{tag}>", decoded
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or _is_view(pa, kind, "string"):
        return "string", array.cast(pa.large_string())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or _is_view(pa, kind, "binary"):
        return "binary", array.cast(pa.large_binary())
    if pa.types.is_floating(kind):
        return str(kind), pc.if_else(pc.is_nan(array), pa.scalar(None, kind), array)
    return str(kind), array


def _is_view(pa: Any, kind: Any, what: str) -> bool:
    check = getattr(pa.types, f"is_{what}_view", None)
    return bool(check(kind)) if check else False


# -- digest -------------------------------------------------------------------------------------


def _u64(value: int) -> bytes:
    return struct.pack("<Q", value)


def _text(value: str) -> bytes:
    raw = value.encode("utf-8")
    return _u64(len(raw)) + raw


def dataframe_digest(data: object) -> Digest:
    """The ``sha256-columnar-v1`` digest of a pandas DataFrame or pyarrow Table (see module doc)."""
    rows, cols = _columns(data)
    return _digest(rows, cols)


def _digest(rows: int, cols: Sequence[_Column]) -> Digest:
    pa = _pyarrow()
    h = hashlib.sha256(b"mllineage/sha256-columnar-v1\0")
    h.update(_u64(rows))
    h.update(_u64(len(cols)))
    for col in cols:
        h.update(_text(col.name))
        h.update(_text(col.tag))
        if col.tag == "object":
            _hash_objects(h, col.values)
        else:
            _hash_array(pa, h, col.values)
    return Digest(DIGEST_ALGORITHM, h.hexdigest())


def _hash_objects(h: Any, values: Sequence[object]) -> None:
    import numpy as np

    valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
    h.update(np.packbits(valid, bitorder="little").tobytes())
    _hash_texts(h, ["" if v is None else repr(v) for v in values])


def _hash_texts(h: Any, texts: Sequence[str]) -> None:
    encoded = [t.encode("utf-8") for t in texts]
    h.update(b"".join(_u64(len(e)) for e in encoded))
    h.update(b"".join(encoded))


def _hash_array(pa: Any, h: Any, array: Any) -> None:
    import numpy as np

    kind = array.type
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    h.update(np.packbits(valid, bitorder="little").tobytes())
    if pa.types.is_null(kind):
        return
    if pa.types.is_boolean(kind):
        bits = array.fill_null(False).to_numpy(zero_copy_only=False)
        h.update(np.packbits(bits, bitorder="little").tobytes())
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        _hash_numbers(h, array.fill_null(0).to_numpy(zero_copy_only=False))
    elif pa.types.is_temporal(kind) and not pa.types.is_interval(kind):
        storage = array.view(pa.int64() if kind.bit_width == 64 else pa.int32())
        _hash_numbers(h, storage.fill_null(0).to_numpy(zero_copy_only=False))
    elif pa.types.is_large_binary(kind) or pa.types.is_large_string(kind):
        _hash_binary(pa, h, array.cast(pa.large_binary()).fill_null(b""))
    else:
        texts = [
            "" if v is None else json.dumps(v, sort_keys=True, default=str)
            for v in array.to_pylist()
        ]
        _hash_texts(h, texts)


def _hash_numbers(h: Any, values: Any) -> None:
    h.update(values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes())


def _hash_binary(pa: Any, h: Any, array: Any) -> None:
    import numpy as np

    n = len(array)
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype="<i8")[array.offset : array.offset + n + 1]
    h.update(np.diff(offsets).astype("<u8").tobytes())
    if n and data_buf is not None and offsets[-1] > offsets[0]:
        h.update(memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])])


# -- schema and profile ---------------------------------------------------------------------------


def dataframe_schema(data: object) -> schema_dataset.SchemaDatasetFacet:
    """The standard ``schema`` facet: every column with its type as the source library names it.

    pandas columns carry their dtype (``int64``, ``float64``, ``str``, ``category``...), Arrow
    columns their Arrow type; a non-default pandas index is listed after the columns.
    """
    _, cols = _columns(data)
    return _schema(cols)


def _schema(cols: Sequence[_Column]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(
                name=c.name, type=c.native_type, ordinal_position=i, fields=None
            )
            for i, c in enumerate(cols, start=1)
        ],
        producer=PRODUCER,
    )


def dataframe_profile(data: object) -> data_quality_metrics_dataset.DataQualityMetricsDatasetFacet:
    """The standard ``dataQualityMetrics`` facet: a profile of every cell.

    ``rowCount``; per column ``nullCount`` (NaN counts as null), ``count`` (non-null values) and
    ``distinctCount`` (distinct non-null values); for integer, floating and decimal columns also
    ``sum``, ``min``, ``max`` and the ``0.25``/``0.5``/``0.75`` ``quantiles`` (linear
    interpolation), so the mean is ``sum / count``. Non-finite results are left out.
    """
    rows, cols = _columns(data)
    return _profile(rows, cols)


def _profile(
    rows: int, cols: Sequence[_Column]
) -> data_quality_metrics_dataset.DataQualityMetricsDatasetFacet:
    metrics = {c.name: _column_metrics(c) for c in cols}
    return data_quality_metrics_dataset.DataQualityMetricsDatasetFacet(
        rowCount=rows, columnMetrics=metrics, producer=PRODUCER
    )


def _column_metrics(col: _Column) -> data_quality_metrics_dataset.ColumnMetrics:
    if col.tag == "object":
        present = [repr(v) for v in col.values if v is not None]
        return data_quality_metrics_dataset.ColumnMetrics(
            nullCount=len(col.values) - len(present),
            distinctCount=len(set(present)),
            count=len(present),
            quantiles=None,
        )
    pa = _pyarrow()
    import pyarrow.compute as pc

    array = col.values
    metrics = data_quality_metrics_dataset.ColumnMetrics(
        nullCount=array.null_count,
        distinctCount=_distinct(pa, pc, array),
        count=len(array) - array.null_count,
        quantiles=None,
    )
    kind = array.type
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    if numeric and metrics.count:
        extremes = pc.min_max(array)
        metrics.sum = _finite(pc.sum(array).as_py())
        metrics.min = _finite(extremes["min"].as_py())
        metrics.max = _finite(extremes["max"].as_py())
        if not pa.types.is_decimal(kind):
            quantiles = pc.quantile(array, q=list(QUANTILES), interpolation="linear").to_pylist()
            kept = {str(q): v for q, v in zip(QUANTILES, quantiles, strict=True)}
            metrics.quantiles = {q: v for q, v in kept.items() if _finite(v) is not None} or None
    return metrics


def _distinct(pa: Any, pc: Any, array: Any) -> int:
    try:
        return int(pc.count_distinct(array, mode="only_valid").as_py())
    except pa.ArrowNotImplementedError:  # nested types: count distinct canonical texts
        return len({json.dumps(v, sort_keys=True, default=str) for v in array.to_pylist() if v})


def _finite(value: object) -> float | int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = float(value)  # type: ignore[arg-type]  # Decimal / float from Arrow
    return number if math.isfinite(number) else None


# -- the dataset builder --------------------------------------------------------------------------


def dataset_from_dataframe(
    data: object,
    *,
    namespace: str | None = None,
    name: str | None = None,
    source: str | os.PathLike[str] | None = None,
    source_type: str | None = None,
    targets: str | Sequence[str] | None = None,
    predictions: str | Sequence[str] | None = None,
    context: DatasetContext | None = None,
    profile: bool = True,
    **options: Unpack[DatasetOptions],
) -> Dataset:
    """A dataset describing a pandas DataFrame or pyarrow Table, every cell accounted for.

    Identity: ``namespace`` and ``name``; whichever is not given is derived from ``source`` (a
    URI or path, see :func:`split_uri`), e.g. ``source="s3://ml/churn/train.parquet"`` gives
    ``("s3://ml", "churn/train.parquet")``. One of them missing with no ``source`` is an error.

    Facets: ``schema`` (column types; unless ``schema=`` is passed), ``dataQualityMetrics`` (the
    profile, see :func:`dataframe_profile`; skipped with ``profile=False``) and
    ``mllineage_dataset`` with the ``sha256-columnar-v1`` digest, ``source``, ``sourceType``
    (``source_type``, or the file extension of ``source``), ``targets``, ``predictions`` and
    ``context``. ``targets``, ``predictions`` and column ``pii`` tags must name columns of the
    table (``ValueError`` otherwise). Other ``options`` add the standard governance facets.
    """
    rows, cols = _columns(data)
    if source is not None and (namespace is None or name is None):
        derived_namespace, derived_name = split_uri(source)
        namespace = namespace or derived_namespace
        name = name or derived_name
    if namespace is None or name is None:
        raise ValueError("pass namespace= and name=, or a source= URI/path to derive them from")
    column_names = {c.name for c in cols}
    pii = options.get("pii", False)
    wanted = {
        "targets": _names(targets),
        "predictions": _names(predictions),
        "pii": [] if isinstance(pii, bool) else list(pii),
    }
    for role, names in wanted.items():
        missing = [n for n in names if n not in column_names]
        if missing:
            raise ValueError(f"{role} name columns the table does not have: {missing}")

    ds = dataset(namespace, name, **options)
    facets = dict(ds.facets or {})
    facets.setdefault("schema", _schema(cols))
    if profile:
        facets["dataQualityMetrics"] = _profile(rows, cols)
    digest = _digest(rows, cols)
    source_text = os.fspath(source) if source is not None else None
    facets[FACET_KEY] = MLLineageDatasetDatasetFacet(
        digest=digest.value,
        digestAlgorithm=digest.algorithm,
        source=source_text,
        sourceType=source_type or _source_type(source_text),
        targets=wanted["targets"] or None,
        predictions=wanted["predictions"] or None,
        context=context,
    )
    return Dataset(namespace=ds.namespace, name=ds.name, facets=facets)


def _names(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _source_type(source: str | None) -> str | None:
    if source is None:
        return None
    path = source.split("?", 1)[0].rstrip("/").lower()
    for suffix in (".gz", ".bz2", ".zst", ".snappy"):
        path = path.removesuffix(suffix)
    return _SOURCE_TYPES.get(os.path.splitext(path)[1])
