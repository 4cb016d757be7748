"""Marquez's statistics routes (its web UI's landing page): ``/api/v1/stats/…``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Request

from mllineage.collector.api.auth import require_scope
from mllineage.collector.api.reads import read_connection
from mllineage.collector.errors import BadRequest
from mllineage.collector.queries import stats
from mllineage.collector.schemas.marquez_stats import IntervalMetric, LineageMetric

router = APIRouter(
    prefix="/api/v1/stats", tags=["marquez"], dependencies=[Depends(require_scope("read"))]
)

PeriodParam = Annotated[
    Literal["DAY", "WEEK"], Query(description="DAY (24 hours) or WEEK (7 days)")
]
ZoneParam = Annotated[
    str | None, Query(description="IANA time zone of the WEEK's days, e.g. Europe/Paris")
]


def _spans(period: str, timezone: str | None) -> list[stats.Interval]:
    """Marquez's validation: an unknown period is a 400 (declared), and so is WEEK without a
    time zone."""
    zone = None
    if period == "WEEK":
        if not timezone:
            raise BadRequest("Timezone must be specified for period 'WEEK'")
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise BadRequest(f"unknown time zone {timezone!r}") from exc
    return stats.intervals("DAY" if zone is None else "WEEK", zone, datetime.now(UTC))


@router.get("/lineage-events", response_model=list[LineageMetric])
def lineage_events(
    request: Request, period: PeriodParam, timezone: ZoneParam = None
) -> list[LineageMetric]:
    """OpenLineage events per interval and event type (by eventTime)."""
    spans = _spans(period, timezone)
    with read_connection(request) as conn:
        counts = stats.lineage_event_counts(conn, spans)
    return [
        LineageMetric(
            startInterval=span.start,
            endInterval=span.end,
            fail=count["FAIL"],
            start=count["START"],
            complete=count["COMPLETE"],
            abort=count["ABORT"],
        )
        for span, count in zip(spans, counts, strict=True)
    ]


def _cumulative(
    request: Request, kind: stats.EntityKind, period: str, timezone: str | None
) -> list[IntervalMetric]:
    spans = _spans(period, timezone)
    with read_connection(request) as conn:
        counts = stats.cumulative_counts(conn, kind, spans)
    return [
        IntervalMetric(startInterval=span.start, endInterval=span.end, count=count)
        for span, count in zip(spans, counts, strict=True)
    ]


@router.get("/jobs", response_model=list[IntervalMetric])
def jobs(request: Request, period: PeriodParam, timezone: ZoneParam = None) -> list[IntervalMetric]:
    """Jobs known at the end of each interval."""
    return _cumulative(request, "jobs", period, timezone)


@router.get("/datasets", response_model=list[IntervalMetric])
def datasets(
    request: Request, period: PeriodParam, timezone: ZoneParam = None
) -> list[IntervalMetric]:
    """Datasets known at the end of each interval."""
    return _cumulative(request, "datasets", period, timezone)


@router.get("/sources", response_model=list[IntervalMetric])
def sources(
    request: Request, period: PeriodParam, timezone: ZoneParam = None
) -> list[IntervalMetric]:
    """Sources (dataset namespaces) known at the end of each interval."""
    return _cumulative(request, "sources", period, timezone)
