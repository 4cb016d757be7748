"""Marquez routes mllineage deliberately does not serve: a JSON 405 or 501, never a bare 404.

mllineage is fed by OpenLineage events only, so Marquez's write API (creating namespaces,
sources, datasets and jobs with ``PUT``, run state transitions, ``DELETE``) answers **405** with
an ``Allow`` header of what the path does serve (possibly nothing) and a body pointing at
``POST /api/v1/lineage``. Read routes of Marquez not built yet answer **501**. ``ABSENT`` is the
whole list (``README.md`` shows it; a test checks that every route of Marquez's ``openapi.yml``
is either served or listed here).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mllineage.collector.api.errors import error_body
from mllineage.collector.api.marquez import RawPathRoute

#: (method, path under /api/v1, what the path does serve) of every route deliberately absent.
ABSENT: tuple[tuple[str, str, str], ...] = (
    ("PUT", "/namespaces/{namespace}", "GET"),
    ("DELETE", "/namespaces/{namespace}", "GET"),
    ("PUT", "/sources/{source}", ""),
    ("GET", "/sources/{source}", ""),
    ("GET", "/sources", ""),
    ("PUT", "/namespaces/{namespace}/datasets/{dataset}", "GET"),
    ("DELETE", "/namespaces/{namespace}/datasets/{dataset}", "GET"),
    ("PUT", "/namespaces/{namespace}/jobs/{job}", "GET"),
    ("DELETE", "/namespaces/{namespace}/jobs/{job}", "GET"),
    ("GET", "/namespaces/{namespace}/jobs/{job}/versions/{version}", ""),
    ("GET", "/namespaces/{namespace}/jobs/{job}/versions", ""),
    ("POST", "/namespaces/{namespace}/jobs/{job}/runs", "GET"),
    ("POST", "/jobs/runs/{run_id}/start", ""),
    ("POST", "/jobs/runs/{run_id}/complete", ""),
    ("POST", "/jobs/runs/{run_id}/fail", ""),
    ("POST", "/jobs/runs/{run_id}/abort", ""),
    ("GET", "/runlineage/upstream", ""),
    ("PUT", "/tags/{tag}", "GET"),
)

_WRITE = (
    "mllineage is fed by OpenLineage events, not by Marquez's write API: send a RunEvent, "
    "DatasetEvent or JobEvent to POST /api/v1/lineage instead"
)
_READ = "this Marquez read route is not implemented by mllineage"

router = APIRouter(prefix="/api/v1", tags=["marquez"], route_class=RawPathRoute)


def _answer(method: str, allow: str) -> Callable[[], Coroutine[Any, Any, JSONResponse]]:
    async def absent() -> JSONResponse:
        if method == "GET":
            return JSONResponse(error_body(_READ), status_code=501)
        return JSONResponse(error_body(_WRITE), status_code=405, headers={"Allow": allow})

    return absent


for _method, _path, _allow in ABSENT:
    router.add_api_route(
        _path, _answer(_method, _allow), methods=[_method], include_in_schema=False
    )
