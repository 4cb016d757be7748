"""Engine and session factories; nothing is created at import time (tests build their own)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event

from mllineage.collector.db.types import PreSerialized


def json_dumps(value: Any) -> str:
    """orjson for speed; text that is already JSON (``PreSerialized``) passes through."""
    if isinstance(value, PreSerialized):
        return str.__str__(value)
    return orjson.dumps(value).decode()


def make_engine(url: str, *, pool_size: int = 8, echo: bool = False) -> Engine:
    """An engine tuned per dialect: SQLite in WAL mode with a busy timeout, Postgres pooled."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            json_serializer=json_dumps,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        echo=echo,
        json_serializer=json_dumps,
        json_deserializer=orjson.loads,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
