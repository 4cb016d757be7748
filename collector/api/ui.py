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


#: The page runs only its own modules and styles, talks only to this collector, and builds its
#: DOM from text nodes: a policy that also stops any script a stored event could smuggle in.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _index() -> FileResponse:
    # Always revalidated: a new release must never run against a cached old page.
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": CONTENT_SECURITY_POLICY}
    return FileResponse(WEB / "index.html", headers=headers)


@router.get("/")
def home() -> FileResponse:
    return _index()


for _view in VIEWS:
    router.add_api_route(f"/ui/{_view}", _index, methods=["GET"])


def install_ui(app: FastAPI) -> None:
    """Serve the UI's pages and assets from ``app``."""
    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=WEB / "static"), name="ui-static")
