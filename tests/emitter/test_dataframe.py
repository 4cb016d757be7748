"""Datasets from DataFrames: hand-checked profile and digest, digest sensitivity and stability."""

from __future__ import annotations

import hashlib
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openlineage.client.serde import Serde

from mllineage.emitter import (
    DIGEST_ALGORITHM,
    Emitter,
    dataframe_digest,
    dataframe_profile,
    dataframe_schema,
    dataset_from_dataframe,
)
from tests.emitter.conftest import MemoryTransport


def known_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": np.array([34, 51, 29, 51], dtype="int64"),
            "income": [52000.5, np.nan, 38000.0, 61000.25],
            "city": pd.Series(["Oslo", None, "Lima", "Oslo"], dtype="str"),
            "churned": [False, True, False, True],
        }
    )


def _u64(n: int) -> bytes:
    return struct.pack("<Q", n)


def _text(s: str) -> bytes:
    return _u64(len(s.encode())) + s.encode()


def test_digest_matches_the_documented_encoding() -> None:
    """sha256-columnar-v1 computed by hand for the known frame, byte by byte."""
    h = hashlib.sha256(b"mllineage/sha256-columnar-v1\0")
    h.update(_u64(4) + _u64(4))
    # age: int64, all valid (bits 1111 -> 0x0f), little-endian values
    h.update(_text("age") + _text("int64") + b"\x0f" + struct.pack("<4q", 34, 51, 29, 51))
    # income: double, row 1 is NaN = null (bits 1011 read LSB first -> 0x0d), null -> 0.0
    h.update(_text("income") + _text("double") + b"\x0d")
    h.update(struct.pack("<4d", 52000.5, 0.0, 38000.0, 61000.25))
    # city: string, row 1 null; u64 lengths then the bytes
    h.update(_text("city") + _text("string") + b"\x0d")
    h.update(struct.pack("<4Q", 4, 0, 4, 4) + b"OsloLimaOslo")
    # churned: bool, all valid; values F T F T -> bits 0101 LSB first -> 0x0a
    h.update(_text("churned") + _text("bool") + b"\x0f" + b"\x0a")

    digest = dataframe_digest(known_frame())
    assert digest.algorithm == DIGEST_ALGORITHM == "sha256-columnar-v1"
    assert digest.value == h.hexdigest()


def test_profile_of_the_known_frame() -> None:
    profile = Serde.to_dict(dataframe_profile(known_frame()))
    assert profile["rowCount"] == 4
    assert profile["columnMetrics"] == {
        "age": {
            "nullCount": 0,
            "count": 4,
            "distinctCount": 3,
            "sum": 165,
            "min": 29,
            "max": 51,
            # sorted 29, 34, 51, 51; linear interpolation at positions 0.75, 1.5, 2.25
            "quantiles": {"0.25": 32.75, "0.5": 42.5, "0.75": 51.0},
        },
        "income": {
            "nullCount": 1,
            "count": 3,
            "distinctCount": 3,
            "sum": 151000.75,
            "min": 38000.0,
            "max": 61000.25,
            # sorted 38000, 52000.5, 61000.25; positions 0.5, 1, 1.5
            "quantiles": {"0.25": 45000.25, "0.5": 52000.5, "0.75": 56500.375},
        },
        "city": {"nullCount": 1, "count": 3, "distinctCount": 2},
        "churned": {"nullCount": 0, "count": 4, "distinctCount": 2},
    }
    mean_income = (
        profile["columnMetrics"]["income"]["sum"] / profile["columnMetrics"]["income"]["count"]
    )
    assert math.isclose(mean_income, 50333.583333, rel_tol=1e-9)


def test_schema_lists_pandas_dtypes_in_order() -> None:
    fields = Serde.to_dict(dataframe_schema(known_frame()))["fields"]
    # pandas 3 infers its string dtype; pandas 2 (what Feast, in the dev extra, allows) object
    text = "str" if int(pd.__version__.split(".")[0]) >= 3 else "object"
    assert [(f["name"], f["type"], f["ordinal_position"]) for f in fields] == [
        ("age", "int64", 1),
        ("income", "float64", 2),
        ("city", text, 3),
        ("churned", "bool", 4),
    ]


def _changed(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return not value
    if isinstance(value, str):
        return value + "x"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value + 1


def test_every_single_cell_change_changes_the_digest() -> None:
    base = known_frame()
    digests = {dataframe_digest(base).value}
    for row in range(len(base)):
        for column in base.columns:
            frame = base.copy()
            old = frame.at[row, column]
            new = _changed(old)
            if new is None:  # a missing cell becomes present
                new = 1.5 if column == "income" else "Rome"
            frame.at[row, column] = new
            assert frame.dtypes.equals(base.dtypes)
            digests.add(dataframe_digest(frame).value)
    assert len(digests) == 1 + base.size, "each changed cell gives a digest of its own"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda f: f.rename(columns={"age": "years"}), id="column name"),
        pytest.param(lambda f: f[["income", "age", "city", "churned"]], id="column order"),
        pytest.param(lambda f: f.astype({"age": "float64"}), id="dtype int->float"),
        pytest.param(lambda f: f.astype({"city": "category"}), id="dtype str->category"),
        pytest.param(lambda f: f.iloc[::-1].reset_index(drop=True), id="row order"),
        pytest.param(lambda f: f.iloc[:3], id="row dropped"),
        pytest.param(lambda f: f.set_index("age"), id="index"),
        pytest.param(lambda f: f.assign(city=f["city"].fillna("")), id="null vs empty string"),
    ],
)
def test_structural_changes_change_the_digest(change: Any) -> None:
    assert dataframe_digest(change(known_frame())) != dataframe_digest(known_frame())


def test_negative_zero_is_a_different_value() -> None:
    positive = known_frame().assign(income=[0.0, 1.0, 2.0, 3.0])
    negative = known_frame().assign(income=[-0.0, 1.0, 2.0, 3.0])
    assert dataframe_digest(positive) != dataframe_digest(negative)


def test_digest_is_stable_across_parquet_and_csv_round_trips(tmp_path: Path) -> None:
    frame = known_frame()
    expected = dataframe_digest(frame)

    frame.to_parquet(tmp_path / "train.parquet")
    from_parquet = pd.read_parquet(tmp_path / "train.parquet")
    assert dataframe_digest(from_parquet) == expected

    frame.to_csv(tmp_path / "train.csv", index=False)
    from_csv = pd.read_csv(tmp_path / "train.csv")
    assert from_csv.dtypes.equals(frame.dtypes), "the CSV round trip keeps the dtypes"
    assert dataframe_digest(from_csv) == expected


def test_pyarrow_table_gives_the_same_digest_and_profile() -> None:
    frame = known_frame()
    native = pa.table(
        {
            "age": pa.array([34, 51, 29, 51], pa.int64()),
            "income": pa.array([52000.5, None, 38000.0, 61000.25], pa.float64()),
            "city": pa.array(["Oslo", None, "Lima", "Oslo"], pa.string()),
            "churned": pa.array([False, True, False, True]),
        }
    )
    chunked = pa.concat_tables([native.slice(0, 1), native.slice(1, 2), native.slice(3)])
    assert chunked.column("age").num_chunks == 3
    expected = dataframe_digest(frame)
    for table in (
        pa.Table.from_pandas(frame, preserve_index=False),
        native,
        chunked,
        native.to_batches()[0],
    ):
        assert dataframe_digest(table) == expected
        assert Serde.to_dict(dataframe_profile(table)) == Serde.to_dict(dataframe_profile(frame))
    # Arrow NaN in a float column is missing, like pandas' NaN.
    with_nan = native.set_column(1, "income", pa.array([52000.5, float("nan"), 38000.0, 61000.25]))
    assert dataframe_digest(with_nan) == expected
    # The schema facet names each library's own types.
    assert Serde.to_dict(dataframe_schema(native))["fields"][2]["type"] == "string"


def test_parquet_read_by_pyarrow_matches_pandas(tmp_path: Path) -> None:
    known_frame().to_parquet(tmp_path / "train.parquet")
    table = pq.read_table(tmp_path / "train.parquet")
    assert dataframe_digest(table) == dataframe_digest(known_frame())


def test_python_object_columns_are_hashed_by_value() -> None:
    mixed = pd.DataFrame({"o": pd.Series([1, "1", None], dtype=object)})
    other = pd.DataFrame({"o": pd.Series(["1", 1, None], dtype=object)})
    assert dataframe_digest(mixed) != dataframe_digest(other)
    assert dataframe_digest(mixed) == dataframe_digest(mixed.copy())
    profile = Serde.to_dict(dataframe_profile(mixed))["columnMetrics"]["o"]
    assert profile == {"nullCount": 1, "count": 2, "distinctCount": 2}


def test_large_frames_hash_every_row() -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=200_000),
            "k": rng.integers(0, 1000, size=200_000),
            "s": pd.Series(rng.integers(0, 50, size=200_000).astype(str), dtype="str"),
        }
    )
    base = dataframe_digest(frame)
    frame.loc[199_999, "x"] += 1e-9  # the very last cell
    assert dataframe_digest(frame) != base


def test_dataset_from_dataframe_facets() -> None:
    ds = dataset_from_dataframe(
        known_frame(),
        source="s3://ml-data/churn/train.parquet",
        targets="churned",
        context="training",
        pii=["city"],
        owners=["team:ml"],
        description="Churn training set",
    )
    assert (ds.namespace, ds.name) == ("s3://ml-data", "churn/train.parquet")
    facets = Serde.to_dict(ds)["facets"]
    assert facets["mllineage_dataset"] == {
        "_producer": facets["mllineage_dataset"]["_producer"],
        "_schemaURL": facets["mllineage_dataset"]["_schemaURL"],
        "digest": dataframe_digest(known_frame()).value,
        "digestAlgorithm": "sha256-columnar-v1",
        "source": "s3://ml-data/churn/train.parquet",
        "sourceType": "parquet",
        "targets": ["churned"],
        "context": "training",
    }
    assert facets["dataQualityMetrics"] == Serde.to_dict(dataframe_profile(known_frame()))
    assert [f["name"] for f in facets["schema"]["fields"]] == ["age", "income", "city", "churned"]
    assert facets["tags"]["tags"] == [
        {"key": "pii", "value": "true", "source": "USER", "field": "city"}
    ]
    assert facets["ownership"]["owners"] == [{"name": "team:ml"}]
    assert facets["documentation"]["description"] == "Churn training set"


def test_dataset_identity_rules(tmp_path: Path) -> None:
    frame = known_frame()
    local = dataset_from_dataframe(frame, source=tmp_path / "train.csv")
    assert (local.namespace, local.name) == ("file", str(tmp_path / "train.csv"))
    named = dataset_from_dataframe(frame, source="s3a://bucket/a/b.csv", name="churn.train")
    assert (named.namespace, named.name) == ("s3://bucket", "churn.train")
    explicit = dataset_from_dataframe(frame, namespace="inmemory://", name="batch-7", profile=False)
    assert "dataQualityMetrics" not in (explicit.facets or {})
    with pytest.raises(ValueError, match="namespace"):
        dataset_from_dataframe(frame, name="train")


@pytest.mark.parametrize(
    ("kwargs", "role"),
    [
        ({"targets": "label"}, "targets"),
        ({"predictions": ["churned", "score"]}, "predictions"),
        ({"pii": ["email"]}, "pii"),
    ],
)
def test_unknown_columns_are_rejected(kwargs: dict[str, Any], role: str) -> None:
    with pytest.raises(ValueError, match=role):
        dataset_from_dataframe(known_frame(), namespace="file", name="/t.csv", **kwargs)


def test_unsupported_objects_are_rejected() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        dataframe_digest([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="unique"):
        dataframe_digest(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_dataframe_dataset_in_a_run_validates(emitter: Emitter, transport: MemoryTransport) -> None:
    train = dataset_from_dataframe(
        known_frame(), source="s3://ml-data/churn/train.parquet", targets="churned"
    )
    with emitter.run("churn.train", inputs=[train]):
        pass
    inputs = transport.events[-1]["inputs"]
    assert (
        inputs[0]["facets"]["mllineage_dataset"]["digest"] == dataframe_digest(known_frame()).value
    )
