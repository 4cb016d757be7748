"""``fetch_in`` reuses the statements it builds: keyed by the builder's code and the plain values
it closes over, so two calls differing in a captured value never share a statement, and builders
capturing anything else are rebuilt every time. On both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from mllineage.collector.db.tables import namespaces_t
from mllineage.collector.queries import membership
from mllineage.collector.queries.membership import fetch_in


def _namespace(name: str) -> dict[str, Any]:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    columns = {c.name for c in namespaces_t.columns}
    return {"name": name} | {c: now for c in ("created_at", "updated_at") if c in columns}


def _names(engine: Engine, ids: list[int], prefix: str) -> list[str]:
    with engine.connect() as conn:
        rows = fetch_in(
            conn,
            namespaces_t.c.id,
            ids,
            lambda cond: (
                select(namespaces_t.c.name)
                .where(cond, namespaces_t.c.name.startswith(prefix))
                .order_by(namespaces_t.c.name)
            ),
        )
    return [row[0] for row in rows]


def test_statements_are_reused_per_builder_and_captured_values(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(namespaces_t), [_namespace(n) for n in ("a1", "a2", "b1", "b2")])
        ids = {
            name: id_ for id_, name in conn.execute(select(namespaces_t.c.id, namespaces_t.c.name))
        }
    membership._STATEMENTS.clear()
    everything = list(ids.values())
    assert _names(engine, everything, "a") == ["a1", "a2"]
    assert _names(engine, everything, "b") == ["b1", "b2"]  # another captured value: no reuse
    assert _names(engine, [ids["a2"], ids["b1"]], "a") == ["a2"]  # same statement, new members
    assert len(membership._STATEMENTS) == 2
    assert _names(engine, [], "a") == []


def test_builders_capturing_objects_are_built_every_time(engine: Engine) -> None:
    class Holder:
        prefix = "x"

    holder: Any = Holder()
    with engine.begin() as conn:
        conn.execute(insert(namespaces_t), [_namespace("x1"), _namespace("y1")])
        ids = [row[0] for row in conn.execute(select(namespaces_t.c.id))]
    membership._STATEMENTS.clear()
    with engine.connect() as conn:
        for prefix in ("x", "y"):
            holder.prefix = prefix
            rows = fetch_in(
                conn,
                namespaces_t.c.id,
                ids,
                lambda cond: select(namespaces_t.c.name).where(
                    cond, namespaces_t.c.name.startswith(holder.prefix)
                ),
            )
            assert [row[0] for row in rows] == [f"{prefix}1"]
    assert membership._STATEMENTS == {}
