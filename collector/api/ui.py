"""The lineage web UI: static assets shipped inside the package, served by the collector itself.

``/`` and every ``/ui/<view>`` answer the same ``index.html`` (the browser's router draws the view
from the URL, so each view's URL reproduces it); ``/ui/static/...`` are the ES modules, styles and
vendored libraries. The pages are public: the API calls they make carry the key, if auth is on.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parents[1] / "web"
VIEWS = ("lineage", "model", "impact", "governance", "features")

router = APIRouter(include_in_schema=False)


def _index() -> FileResponse:
    # Always revalidated: a new release must never run against a cached old page.
    return FileResponse(WEB / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/")
def home() -> FileResponse:
    return _index()


for _view in VIEWS:
    router.add_api_route(f"/ui/{_view}", _index, methods=["GET"])


def install_ui(app: FastAPI) -> None:
    """Serve the UI's pages and assets from ``app``."""
    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=WEB / "static"), name="ui-static")
