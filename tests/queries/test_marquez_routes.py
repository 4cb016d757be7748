"""Every route of Marquez's ``openapi.yml`` is served, or deliberately absent with a JSON 405/501."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import yaml
from fastapi.testclient import TestClient
from jsonschema import ValidationError

from mllineage.collector.api.marquez_absent import ABSENT
from tests.queries.marquez_spec import validate
from tests.queries.reference_graph import JOBS, LAKE, RUN, S1, S3

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


def _enc(text: str) -> str:
    return quote(text, safe="")


#: One concrete request per GET route of ``openapi.yml`` that mllineage serves, on the reference
#: graph: (the spec's path, our URL, query parameters, the spec's schema of the 200 answer).
def _served_gets() -> list[tuple[str, str, dict[str, str], str]]:
    lake, jobs, ingest = _enc(LAKE), f"/namespaces/{JOBS}/jobs", RUN["ingest"]
    customers = f"/namespaces/{_enc(S1[0])}/datasets/{_enc(S1[1])}"
    clicks = f"/namespaces/{lake}/datasets/{_enc(S3[1])}"
    return [
        ("/namespaces", "/namespaces", {}, "NamespaceList"),
        ("/namespaces/{namespace}", f"/namespaces/{lake}", {}, "Namespace"),
        ("/events/lineage", "/events/lineage", {"limit": "5"}, "LineageEventList"),
        ("/namespaces/{namespace}/datasets", f"/namespaces/{lake}/datasets", {}, "DatasetList"),
        ("/namespaces/{namespace}/datasets/{dataset}", customers, {}, "Dataset"),
        (
            "/namespaces/{namespace}/datasets/{dataset}/versions",
            f"{clicks}/versions",
            {},
            "DatasetVersionList",
        ),
        (
            "/namespaces/{namespace}/datasets/{dataset}/versions/{version}",
            f"{clicks}/versions/{ingest}",
            {},
            "DatasetVersion",
        ),
        ("/namespaces/{namespace}/jobs", jobs, {}, "JobList"),
        ("/namespaces/{namespace}/jobs/{job}", f"{jobs}/train", {}, "Job"),
        ("/namespaces/{namespace}/jobs/{job}/runs", f"{jobs}/train/runs", {}, "RunList"),
        ("/jobs/runs/{id}", f"/jobs/runs/{RUN['train_1']}", {}, "Run"),
        ("/jobs/runs/{id}/facets", f"/jobs/runs/{RUN['train_1']}/facets", {}, "FacetsResult"),
        ("/lineage", "/lineage", {"nodeId": f"job:{JOBS}:train", "depth": "2"}, "LineageGraph"),
        (
            "/column-lineage",
            "/column-lineage",
            {"nodeId": f"dataset:{S1[0]}:{S1[1]}"},
            "LineageGraph",
        ),
        ("/tags", "/tags", {}, "TagList"),
        ("/search", "/search", {"q": "churn"}, "SearchResultList"),
    ]


def test_served_routes_answer_in_the_spec_shapes(ref: TestClient, shared_dir: Path) -> None:
    spec = yaml.safe_load((shared_dir / "marquez-spec" / "openapi.yml").read_text())
    gets = {_shape(path) for path, operations in spec["paths"].items() if "get" in operations}
    absent = {_shape(path) for method, path, _ in ABSENT if method == "GET"}
    cases = _served_gets()
    assert {_shape(path) for path, _, _, _ in cases} == gets - absent, "a served GET is untested"
    for _, url, params, schema in cases:
        answer = ref.get("/api/v1" + url, params=params)
        assert answer.status_code == 200, (url, answer.text)
        try:
            validate(shared_dir, schema, answer.json())
        except ValidationError as exc:
            where = list(exc.absolute_path)
            raise AssertionError(f"{url}: {exc.message[:300]} at {where}") from exc
