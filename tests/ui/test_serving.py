"""How the collector serves the UI: every view's URL answers the page, assets are public while
the API keeps asking for keys, and the page runs under a strict content security policy."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from mllineage.collector.app import create_app
from mllineage.collector.db.engine import make_engine
from mllineage.collector.db.migrate import upgrade
from mllineage.collector.settings import Settings


def test_views_assets_and_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ui.db'}"
    engine = make_engine(url, pool_size=1)
    upgrade(engine)
    app = create_app(Settings(database_url=url, api_keys={"k": ["read"]}), engine=engine)
    with TestClient(app) as client:
        for path in ("/", "/ui/lineage?nodeId=x", "/ui/model", "/ui/impact", "/ui/governance"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert '<script type="module" src="/ui/static/js/main.js">' in page.text
            assert "default-src 'self'" in page.headers["content-security-policy"]
            assert page.headers["cache-control"] == "no-cache"
        module = client.get("/ui/static/js/views/lineage.js")
        assert module.status_code == 200
        assert "javascript" in module.headers["content-type"]
        assert client.get("/ui/static/vendor/dagre.esm.js").status_code == 200
        assert client.get("/ui/nowhere").status_code == 404
        assert client.get("/ui/static/js/nothing.js").status_code == 404
        assert client.get("/api/v1/ml/overview").status_code == 401
        keyed = client.get("/api/v1/ml/overview", headers={"Authorization": "Bearer k"})
        assert keyed.status_code == 200
        assert keyed.json() == {"counts": [], "failed_runs": []}
    engine.dispose()
