"""Collector configuration: one pydantic-settings object, read from ``MLLINEAGE_*`` variables."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mllineage.collector.ingest.limits import EventLimits

Scope = Literal["read", "write"]


class KeyGrant(BaseModel):
    """What one API key may do: the namespaces (glob patterns, ``*`` = all) it may write events
    about and read lineage of. A missing scope means none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    write: tuple[str, ...] | None = None
    read: tuple[str, ...] | None = None

    @classmethod
    def of(cls, scopes: list[Scope] | KeyGrant) -> KeyGrant:
        """The list form ``["read", "write"]`` means every namespace for each scope listed."""
        if isinstance(scopes, KeyGrant):
            return scopes
        return cls(
            write=("*",) if "write" in scopes else None, read=("*",) if "read" in scopes else None
        )


class Settings(BaseSettings):
    """Everything the collector can be told without a code change.

    Nothing is read at import time: build a ``Settings()`` (which reads the environment) or pass
    values explicitly, as the tests do.
    """

    model_config = SettingsConfigDict(env_prefix="MLLINEAGE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./mllineage.db",
        description="SQLAlchemy URL: sqlite:///path.db (default) or postgresql+psycopg://...",
    )
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, description="Largest accepted request body (after gzip)."
    )
    strict_validation: bool = Field(
        default=False,
        description="Reject events that break the spec in ways real producers commonly do "
        "(format-only violations, missing schemaURL, invalid mllineage facets) instead of "
        "storing them with a validation warning.",
    )
    api_keys: dict[str, list[Scope] | KeyGrant] = Field(
        default_factory=dict,
        description="API keys and their scopes, as JSON: "
        '{"key-or-sha256:<hex>": ["read", "write"]}, or limited to namespaces (glob patterns): '
        '{"key": {"write": ["team-a", "s3://team-a-*"], "read": ["*"]}}. Empty means auth is off.',
    )
    allow_insecure: bool = Field(
        default=False,
        description="Let `mllineage serve` listen on a non-loopback address without API keys.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins browsers may call the API from, as JSON (["https://ui.example"]); '
        "empty means CORS is off.",
    )
    max_inflight_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1,
        description="Request bytes (as declared, else the body limit) being read or stored across "
        "all ingest requests; beyond it new requests get 503 + Retry-After before their body "
        "is read.",
    )
    max_event_inputs: int = Field(default=10_000, ge=1, description="Inputs per event.")
    max_event_outputs: int = Field(default=10_000, ge=1, description="Outputs per event.")
    max_event_facets: int = Field(default=1_000, ge=1, description="Facets per facet map.")
    ingest_max_batch: int = Field(
        default=256, description="Most events one shared ingest transaction commits (group commit)."
    )
    ingest_writers: int | None = Field(
        default=None,
        ge=1,
        description="Writer threads sharing the ingest queue; default 2 on Postgres, 1 on SQLite "
        "(SQLite has one writer at a time anyway).",
    )
    ingest_queue_size: int = Field(
        default=10_000, description="Requests waiting for a writer before new ones get 503."
    )
    read_database_url: str | None = Field(
        default=None,
        description="Serve reads from this database (a streaming replica of database_url); "
        "reads still wait until the replica has replayed what they must see.",
    )
    read_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Longest a read waits for the projection of events acknowledged before it; "
        "then it answers with X-MLLineage-Projection-Lag.",
    )
    projector_batch_size: int = Field(
        default=5000, ge=1, description="Most backlog events one projection transaction takes."
    )
    pool_size: int = Field(default=8, description="Database connections kept open (Postgres).")
    retry_after_seconds: int = Field(
        default=5, description="Retry-After sent with 503 while the database is unreachable."
    )
    log_level: str = "INFO"
    log_json: bool = Field(default=False, description="One JSON object per log line.")

    @field_validator("api_keys")
    @classmethod
    def _keys_have_scopes(
        cls, value: dict[str, list[Scope] | KeyGrant]
    ) -> dict[str, list[Scope] | KeyGrant]:
        for key, scopes in value.items():
            grant = KeyGrant.of(scopes)
            if not key or not (grant.read or grant.write):
                raise ValueError("every API key needs a non-empty key and at least one scope")
        return value

    @property
    def event_limits(self) -> EventLimits:
        return EventLimits(
            max_inputs=self.max_event_inputs,
            max_outputs=self.max_event_outputs,
            max_facets=self.max_event_facets,
        )

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)

    def hashed_api_keys(self) -> dict[bytes, KeyGrant]:
        """Map sha256(key) digests to grants; keys may be configured as ``sha256:<hex>``."""
        hashed: dict[bytes, KeyGrant] = {}
        for key, scopes in self.api_keys.items():
            if key.startswith("sha256:"):
                digest = bytes.fromhex(key.removeprefix("sha256:"))
            else:
                digest = hashlib.sha256(key.encode()).digest()
            hashed[digest] = KeyGrant.of(scopes)
        return hashed

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def writer_threads(self) -> int:
        if self.ingest_writers is not None:
            return self.ingest_writers
        return 1 if self.is_sqlite else 2
