"""The do-nothing ceiling: an ASGI app that parses each OpenLineage body and answers at once.

Served exactly like the collector (same uvicorn, event loop, HTTP parser and worker count), it is
the most any Python ingest endpoint on this machine could do: the HTTP bench reports the
collector's throughput as a ratio of this one's. It stores nothing and validates nothing.

    python -m uvicorn bench.ceiling_app:app --port 5001 --no-access-log
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request, Response

app = FastAPI(title="mllineage bench ceiling", openapi_url=None, docs_url=None, redoc_url=None)

_CREATED = orjson.dumps({"status": "created", "warnings": []})


@app.post("/api/v1/lineage")
async def post_lineage(request: Request) -> Response:
    orjson.loads(await request.body())
    return Response(_CREATED, status_code=201, media_type="application/json")


@app.post("/api/v1/lineage/batch")
async def post_lineage_batch(request: Request) -> Response:
    events = orjson.loads(await request.body())
    summary = {"received": len(events), "successful": len(events), "failed": 0}
    body = orjson.dumps({"status": "success", "summary": summary, "failed_events": []})
    return Response(body, status_code=200, media_type="application/json")


@app.get("/health")
async def health() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")
