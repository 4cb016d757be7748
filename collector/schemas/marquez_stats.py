"""Shapes of Marquez's ``/api/v1/stats/…`` answers (a JSON list of intervals, camelCase)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class LineageMetric(BaseModel):
    startInterval: datetime
    endInterval: datetime
    fail: int
    start: int
    complete: int
    abort: int


class IntervalMetric(BaseModel):
    startInterval: datetime
    endInterval: datetime
    count: int
