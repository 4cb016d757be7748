"""The Alembic migrations build exactly the schema the ORM models declare, on both databases.

Alembic's autogenerate comparison (``compare_metadata``) of the migrated test database against
``Base.metadata`` must find nothing (types compared too; the monthly partitions of the event log
are made at run time and left out): a model change without its migration, or a migration that
drifted from the models, fails here instead of in production.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from mllineage.collector.db.models import Base
from mllineage.collector.db.partitions import outside_partitions


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": outside_partitions}
        )
        drift: list[Any] = compare_metadata(context, Base.metadata)
    assert drift == []
