"""The projector's statistics keeper: a table past autovacuum's analyze threshold is analyzed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from mllineage.collector.db.statistics import StatisticsKeeper


def _last_analyze(engine: Engine, table: str) -> object:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :t"), {"t": table}
        ).scalar_one()


def test_tables_changed_past_the_threshold_are_analyzed_once(engine: Engine) -> None:
    keeper = StatisticsKeeper(engine, interval=0)
    if engine.dialect.name != "postgresql":
        assert keeper.refresh() == []  # SQLite plans without such statistics
        return
    keeper.refresh()  # whatever earlier tests left stale
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO namespaces (name, created_at) "
                "SELECT 'statistics-' || i, now() FROM generate_series(1, 500) AS i"
            )
        )
        conn.execute(
            text(
                "INSERT INTO facet_contents (digest, body) "
                "SELECT decode(md5('statistics-' || i), 'hex'), jsonb_build_object('i', i) "
                "FROM generate_series(1, 500) AS i"
            )
        )
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
    stale = keeper.refresh()  # two tables: each analyzed in its turn
    assert {"public.namespaces", "public.facet_contents"} <= set(stale)
    assert _last_analyze(engine, "namespaces") is not None
    assert _last_analyze(engine, "facet_contents") is not None
    assert "public.namespaces" not in keeper.refresh()  # nothing changed since


def test_checks_at_most_once_per_interval(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps no statistics: there is no check to repeat")
    keeper = StatisticsKeeper(engine, interval=3600)
    keeper.refresh()
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO namespaces (name, created_at) VALUES (:name, CURRENT_TIMESTAMP)"),
            [{"name": f"interval-{i}"} for i in range(500)],
        )
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
    assert keeper.refresh() == []  # the hour has not passed
    assert "public.namespaces" in StatisticsKeeper(engine, interval=0).refresh()  # yet stale
