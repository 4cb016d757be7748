"""The FastAPI application factory: wires settings, engine, validator, writer and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine

from mllineage.collector.api import health, ingest, marquez, ml, overview
from mllineage.collector.api.auth import KeyRing
from mllineage.collector.api.errors import install_error_handlers
from mllineage.collector.api.inflight import InflightBudget
from mllineage.collector.api.middleware import RequestIdMiddleware
from mllineage.collector.api.openapi import install_openapi
from mllineage.collector.api.ui import install_ui
from mllineage.collector.db.engine import make_engine
from mllineage.collector.gc_tuning import tune_for_ingestion
from mllineage.collector.ingest.backlog import ReadBarrier
from mllineage.collector.ingest.projector import Projector
from mllineage.collector.ingest.validate import EventValidator
from mllineage.collector.ingest.writer import IngestWriter
from mllineage.collector.memory import tune_allocator
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

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tune_for_ingestion()
        tune_allocator()
        projector.start()
        writer.start()
        try:
            yield
        finally:
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
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(ingest.router)
    app.include_router(ml.router)
    app.include_router(overview.router)
    app.include_router(marquez.router)
    install_ui(app)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mllineage")
    except PackageNotFoundError:
        return "0.0.0"
