"""The FastAPI application factory: wires settings, engine, validator, writer and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine

from mllineage.collector.api import (
    health,
    ingest,
    marquez,
    marquez_absent,
    marquez_search,
    marquez_stats,
    marquez_tags,
    metrics,
    ml,
    overview,
)
from mllineage.collector.api.auth import KeyRing
from mllineage.collector.api.errors import install_error_handlers
from mllineage.collector.api.inflight import InflightBudget
from mllineage.collector.api.middleware import RequestIdMiddleware
from mllineage.collector.api.openapi import install_openapi
from mllineage.collector.api.ui import install_ui
from mllineage.collector.db.engine import make_engine
from mllineage.collector.forward.service import Forwarder
from mllineage.collector.forward.targets import targets_from_settings
from mllineage.collector.forward.worker import Pacing
from mllineage.collector.gc_tuning import tune_for_ingestion
from mllineage.collector.ingest.backlog import ReadBarrier
from mllineage.collector.ingest.projector import Projector
from mllineage.collector.ingest.validate import EventValidator
from mllineage.collector.ingest.writer import IngestWriter
from mllineage.collector.memory import tune_allocator
from mllineage.collector.metrics import CollectorMetrics, MetricsMiddleware
from mllineage.collector.settings import Settings


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the collector. Pass ``engine`` to share one (tests); else one is made from settings.

    The database schema is not migrated here: ``mllineage serve`` and ``mllineage db upgrade`` do
    that, so several collector processes never race on migrations.
    """
    settings = settings or Settings()
    engine = engine or make_engine(settings.database_url, pool_size=settings.pool_size)
    read_engine = (
        make_engine(settings.read_database_url, pool_size=settings.pool_size)
        if settings.read_database_url
        else engine
    )
    barrier = ReadBarrier(
        engine,
        timeout=settings.read_wait_seconds,
        replica=read_engine if read_engine is not engine else None,
    )
    # The projector has its own small pool: its batches never wait for a request's connection,
    # and requests never wait for a batch's.
    projector_engine = make_engine(engine.url.render_as_string(hide_password=False), pool_size=2)
    projector = Projector(
        projector_engine,
        batch_size=settings.projector_batch_size,
        on_projected=barrier.notify_projected,
    )
    writer = IngestWriter(
        engine,
        max_batch=settings.ingest_max_batch,
        queue_size=settings.ingest_queue_size,
        retry_after=settings.retry_after_seconds,
        writers=settings.writer_threads,
        on_appended=projector.remember,
    )

    forwarder = _forwarder(settings, engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tune_for_ingestion()
        tune_allocator()
        projector.start()
        writer.start()
        forwarder.start()
        try:
            yield
        finally:
            forwarder.stop()
            writer.stop()
            projector.stop()
            projector_engine.dispose()
            if read_engine is not engine:
                read_engine.dispose()

    app = FastAPI(
        title="mllineage collector",
        version=_version(),
        description="OpenLineage-compatible lineage collector for machine learning.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.read_engine = read_engine
    app.state.read_barrier = barrier
    app.state.projector = projector
    app.state.validator = EventValidator(
        strict=settings.strict_validation, limits=settings.event_limits
    )
    app.state.writer = writer
    app.state.forwarder = forwarder
    app.state.metrics = CollectorMetrics(engine, writer, forwarder)
    app.state.keyring = KeyRing(settings.hashed_api_keys())
    app.state.inflight = InflightBudget(settings.max_inflight_bytes)
    if settings.cors_origins:  # off by default: only listed browser origins may call the API
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Content-Encoding", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    install_error_handlers(app)
    install_openapi(app)
    for router in (
        health.router,
        metrics.router,
        ingest.router,
        ml.router,
        overview.router,
        marquez.router,
        marquez_stats.router,
        marquez_search.router,
        marquez_tags.reads,
        marquez_tags.writes,
        marquez_absent.router,  # last: the Marquez routes deliberately not served
    ):
        app.include_router(router)
    app.router.routes[0:0] = ingest.fast_routes()  # matched first; FastAPI's stay for OpenAPI
    install_ui(app)
    return app


def _forwarder(settings: Settings, engine: Engine) -> Forwarder:
    """The forwarding targets of ``MLLINEAGE_FORWARD`` (none: a forwarder that does nothing)."""
    pacing = Pacing(
        park_after=settings.forward_park_after, backoff_max=settings.forward_backoff_max_seconds
    )
    return Forwarder(engine, targets_from_settings(settings.forward), pacing)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mllineage")
    except PackageNotFoundError:
        return "0.0.0"
