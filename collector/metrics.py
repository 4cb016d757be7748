"""Prometheus metrics of one collector app, exposed by prometheus-client (``GET /metrics``).

Each app owns its registry (several apps in one process, as in tests, never share counters).
Request counts and latencies are observed by ``MetricsMiddleware`` per route template (so
``/api/v1/namespaces/{namespace}`` is one series, not one per namespace); ingest outcomes by the
ingest routes; queue depth, database pool use, the projection backlog and forwarding backlog,
lag and counters are read when Prometheus scrapes (``_StateCollector``), so they cost nothing between scrapes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mllineage.collector.ingest.backlog import projection_backlog

if TYPE_CHECKING:
    from mllineage.collector.forward.service import Forwarder
    from mllineage.collector.ingest.writer import IngestWriter

#: Request latency buckets (seconds): ingest acks take ~ms, wide reads up to seconds.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class CollectorMetrics:
    """The app's registry and the instruments the routes and middleware update."""

    def __init__(self, engine: Engine, writer: IngestWriter, forwarder: Forwarder) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "mllineage_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mllineage_http_request_duration_seconds",
            "Time to answer a request, by method and route template (ingest: the "
            "/api/v1/lineage routes; queries: the rest of /api/v1).",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.ingest_events = Counter(
            "mllineage_ingest_events",
            "Events received for ingestion, by outcome: created, duplicate, rejected (not a "
            "valid event) or failed (not stored: database unavailable or error).",
            ["outcome"],
            registry=self.registry,
        )
        # The children, looked up once: ``labels()`` takes a lock and builds a key per call.
        self._ingest_outcomes = {
            outcome: self.ingest_events.labels(outcome)
            for outcome in ("created", "duplicate", "rejected", "failed")
        }
        self.registry.register(_StateCollector(engine, writer, forwarder))

    def ingested(self, outcome: str, count: int = 1) -> None:
        if count:
            self._ingest_outcomes[outcome].inc(count)


class _StateCollector(Collector):
    """Gauges and counters read from the live objects at scrape time."""

    def __init__(self, engine: Engine, writer: IngestWriter, forwarder: Forwarder) -> None:
        self.engine = engine
        self.writer = writer
        self.forwarder = forwarder

    def describe(self) -> list[Metric]:
        return []  # collected lazily: describing would query the database at registration

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "mllineage_ingest_queue_depth",
            "Ingest requests waiting for a writer thread.",
            value=self.writer.queue_depth,
        )
        pool = self.engine.pool
        if isinstance(pool, QueuePool):
            yield GaugeMetricFamily(
                "mllineage_db_pool_connections_in_use",
                "Database connections checked out of the pool.",
                value=pool.checkedout(),
            )
            yield GaugeMetricFamily(
                "mllineage_db_pool_size", "Connections the pool keeps open.", value=pool.size()
            )
        yield from self._projection()
        yield from self._forwarding()

    def _projection(self) -> Iterator[Metric]:
        try:
            with self.engine.connect() as conn:
                status = projection_backlog(conn)
        except DBAPIError:
            return  # database down: the backlog is unknown
        yield GaugeMetricFamily(
            "mllineage_projection_backlog_events",
            "Acknowledged events not projected into the graph yet.",
            value=status.pending,
        )
        yield GaugeMetricFamily(
            "mllineage_projection_lag_seconds",
            "Age of the oldest acknowledged event not projected yet (0 when caught up).",
            value=status.oldest_age_seconds or 0.0,
        )

    def _forwarding(self) -> Iterator[Metric]:
        if not self.forwarder.workers:
            return
        labels = ["target"]
        backlog = GaugeMetricFamily(
            "mllineage_forward_backlog_events",
            "Events in the raw log not yet sent to the target (counted up to 1,000,000).",
            labels=labels,
        )
        lag = GaugeMetricFamily(
            "mllineage_forward_lag_seconds",
            "Age of the oldest event not yet sent to the target (0 when caught up).",
            labels=labels,
        )
        sent = CounterMetricFamily(
            "mllineage_forward_sent", "Events sent to the target by this process.", labels=labels
        )
        failures = CounterMetricFamily(
            "mllineage_forward_failures",
            "Failed sends to the target by this process (each retried or, if refused "
            "repeatedly, parked).",
            labels=labels,
        )
        parked = CounterMetricFamily(
            "mllineage_forward_parked",
            "Events parked for the target by this process after repeated refusals.",
            labels=labels,
        )
        try:
            statuses = {status.name: status for status in self.forwarder.status()}
        except DBAPIError:
            statuses = {}  # database down: the backlog is unknown, the counters are not
        for worker in self.forwarder.workers:
            name = worker.target.name
            status = statuses.get(name)
            if status is not None and status.backlog is not None:
                backlog.add_metric([name], status.backlog)
                lag.add_metric([name], status.lag_seconds or 0.0)
            sent.add_metric([name], worker.counters.sent)
            failures.add_metric([name], worker.counters.failures)
            parked.add_metric([name], worker.counters.parked)
        yield from (backlog, lag, sent, failures, parked)


class MetricsMiddleware:
    """Plain ASGI middleware counting and timing every HTTP request by its route template."""

    def __init__(self, app: ASGIApp, metrics: CollectorMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
            self.metrics.requests.labels(method, route, str(status)).inc()


def _route_template(scope: Scope) -> str:
    """The matched route's path template (the router records it in the shared scope);
    unmatched paths share one label, so the number of series stays bounded."""
    return str(getattr(scope.get("route"), "path", "unmatched"))
