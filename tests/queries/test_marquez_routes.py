"""Every route of Marquez's ``openapi.yml`` is served, or deliberately absent with a JSON 405/501."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from mllineage.collector.api.marquez_absent import ABSENT

_METHODS = {"get", "put", "post", "delete", "patch"}


def _shape(path: str) -> str:
    """A path with its parameter names erased: ``/jobs/runs/{id}`` == ``/jobs/runs/{run_id}``."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_marquez_route_is_served_or_deliberately_absent(
    client: TestClient, shared_dir: Path
) -> None:
    spec = yaml.safe_load((shared_dir / "marquez-spec" / "openapi.yml").read_text())
    served = {
        (method.upper(), _shape(path.removeprefix("/api/v1")))
        for path, operations in client.get("/openapi.json").json()["paths"].items()
        for method in operations
    }
    absent = {(method, _shape(path)) for method, path, _ in ABSENT}
    assert not served & absent, "a route is both served and listed as absent"
    unaccounted = [
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in _METHODS and (method.upper(), _shape(path)) not in served | absent
    ]
    assert unaccounted == []

    for method, path, allow in ABSENT:
        url = "/api/v1" + re.sub(r"\{[^}]+\}", "s3%3A%2F%2Fbucket", path)
        answer = client.request(method, url)
        body = answer.json()
        if method == "GET":
            assert answer.status_code == 501, url
            assert "not implemented by mllineage" in body["error"]
        else:
            assert answer.status_code == 405, (method, url)
            assert answer.headers["allow"] == allow
            assert "POST /api/v1/lineage" in body["error"]
