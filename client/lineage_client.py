"""Python client of the collector's lineage questions: one method per question.

Each question method returns the answer's rows as a pandas DataFrame when pandas is installed
(``pip install 'mllineage[pandas]'``) and as a list of dicts otherwise; ``as_frame`` forces either.
The evidence travels with the rows: ``result.attrs["graph"]`` / ``result.graph`` holds the subgraph
(nodes, edges with run ids), ``attrs["truncated"]`` / ``.truncated`` says whether the node cap was
hit. Errors are raised, never swallowed: ``LineageClientError`` carries the HTTP status and the
server's message.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

import httpx

from mllineage.schemas import node_ids

Direction = Literal["upstream", "downstream", "both"]
DEFAULT_URL = "http://127.0.0.1:5000"
#: Where the CLI finds the collector when ``--url`` is not given, in order (then ``DEFAULT_URL``):
#: ``OPENLINEAGE_URL`` is what producers already point at the same server.
URL_ENVVARS = ("MLLINEAGE_URL", "OPENLINEAGE_URL")
PAGE_SIZE = 10_000  # rows per request when a method gathers every page of a paged answer


class LineageClientError(Exception):
    """The collector refused or failed a request (``status`` 0: it could not be reached).

    Its text carries the server's details, located: ``400: invalid request parameters
    (query/asOf: Value error, not an ISO 8601 date-time)``."""

    def __init__(self, status: int, message: str, details: list[dict[str, Any]] | None = None):
        self.status = status
        self.message = message
        self.details = details or []
        text = f"{status}: {message}" if status else message
        located = "; ".join(_detail(d) for d in self.details[:5])
        super().__init__(f"{text} ({located})" if located else text)


def _detail(detail: Any) -> str:
    if not isinstance(detail, dict):
        return str(detail)
    loc = detail.get("loc")
    if isinstance(loc, list | tuple):
        loc = ".".join(str(part) for part in loc if part not in ("query", "body"))
    msg = detail.get("msg") or detail.get("message") or detail.get("error") or ""
    return f"{str(loc).lstrip('/')}: {msg}" if loc else str(msg or detail)


class Rows(list[dict[str, Any]]):
    """Rows of an answer (when not a DataFrame), with the answer's ``graph`` and ``truncated``."""

    graph: dict[str, Any]
    truncated: bool


def dataset_id(namespace: str, name: str, version: str | None = None) -> str:
    """``dataset:<namespace>:<name>[#version]``."""
    return node_ids.dataset_node_id(namespace, name, version)


def job_id(namespace: str, name: str) -> str:
    """``job:<namespace>:<name>``."""
    return node_ids.job_node_id(namespace, name)


def field_id(namespace: str, dataset: str, field: str) -> str:
    """``datasetField:<namespace>:<dataset>:<field>``."""
    return node_ids.field_node_id(namespace, dataset, field)


class LineageClient:
    """Ask a running collector lineage questions (``url`` like ``http://127.0.0.1:5000``)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        as_frame: bool | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self.as_frame = as_frame

    def close(self) -> None:
        self._http.close()

    def _unreachable(self, exc: Exception) -> str:
        return f"cannot reach the collector at {self._http.base_url}: {exc}"

    def __enter__(self) -> LineageClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the questions -----------------------------------------------------------------------

    def get_lineage(
        self,
        node_id: str,
        *,
        direction: Direction = "both",
        depth: int = 20,
        kinds: list[str] | None = None,
        as_of: datetime | str | None = None,
        scope: Literal["current", "versions"] = "current",
        max_nodes: int | None = None,
        as_frame: bool | None = None,
    ) -> Any:
        """Every node upstream and/or downstream of ``node_id``, with hop depth and path."""
        return self._rows(
            "/api/v1/ml/lineage",
            as_frame,
            nodeId=node_id,
            direction=direction,
            depth=depth,
            kinds=kinds,
            asOf=as_of,
            scope=scope,
            maxNodes=max_nodes,
        )

    def get_data_sources(
        self,
        node_id: str,
        *,
        depth: int = 20,
        as_of: datetime | str | None = None,
        scope: Literal["current", "versions"] = "current",
        as_frame: bool | None = None,
    ) -> Any:
        """Which raw data sources is this feature group (or model, or any node) built from?"""
        return self._rows(
            "/api/v1/ml/sources", as_frame, nodeId=node_id, depth=depth, asOf=as_of, scope=scope
        )

    def get_feature_groups_from_source(
        self,
        node_id: str,
        *,
        depth: int = 20,
        as_of: datetime | str | None = None,
        scope: Literal["current", "versions"] = "current",
        as_frame: bool | None = None,
    ) -> Any:
        """Which feature groups are built from this data source (downstream)?"""
        return self._rows(
            "/api/v1/ml/feature-groups",
            as_frame,
            nodeId=node_id,
            direction="downstream",
            depth=depth,
            asOf=as_of,
            scope=scope,
        )

    def get_feature_groups_from_model(
        self,
        node_id: str,
        *,
        depth: int = 20,
        as_of: datetime | str | None = None,
        scope: Literal["current", "versions"] = "current",
        as_frame: bool | None = None,
    ) -> Any:
        """Which feature groups does this model depend on (upstream, at any depth)?

        Pin a version with ``dataset_id(ns, name, version)`` to ask about that version's run.
        """
        return self._rows(
            "/api/v1/ml/feature-groups",
            as_frame,
            nodeId=node_id,
            direction="upstream",
            depth=depth,
            asOf=as_of,
            scope=scope,
        )

    def get_models_using(
        self,
        node_id: str,
        *,
        depth: int = 20,
        as_of: datetime | str | None = None,
        scope: Literal["current", "versions"] = "current",
        as_frame: bool | None = None,
    ) -> Any:
        """Which models (with versions, and the endpoints serving them) use this node?"""
        return self._rows(
            "/api/v1/ml/models", as_frame, nodeId=node_id, depth=depth, asOf=as_of, scope=scope
        )

    def get_model_lineage(
        self,
        node_id: str,
        version: str | None = None,
        *,
        depth: int = 20,
        as_frame: bool | None = None,
    ) -> Any:
        """The whole chain of one model version, from raw sources to endpoints."""
        return self._rows(
            "/api/v1/ml/model-lineage", as_frame, nodeId=node_id, version=version, depth=depth
        )

    def get_impact(
        self,
        node_id: str,
        *,
        depth: int = 20,
        kinds: list[str] | None = None,
        as_of: datetime | str | None = None,
        scope: Literal["current", "versions"] = "current",
        as_frame: bool | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Any:
        """What is affected if this node changes? Everything downstream, by kind, with owners.

        Every row, fetched page by page (``page_size`` rows per request)."""
        return self._rows(
            "/api/v1/ml/impact",
            as_frame,
            page_size=page_size,
            nodeId=node_id,
            depth=depth,
            kinds=kinds,
            asOf=as_of,
            scope=scope,
        )

    def get_models_with_tag(
        self,
        tag: str = "pii",
        *,
        scope: Literal["current", "graph", "versions"] = "current",
        kinds: list[str] | None = None,
        depth: int = 50,
        as_of: datetime | str | None = None,
        as_frame: bool | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Any:
        """Which models and endpoints have data tagged ``tag`` (e.g. ``pii``) upstream?

        ``scope="versions"`` asks about every model version ever built, not today's graph
        (``"current"``; ``"graph"`` is its old name). Each row's ``evidence`` says what its
        ``path`` rests on: ``"column"`` (the tagged column followed through every job's column
        lineage) or ``"job"`` (some hop propagates at job level).
        Every row, fetched page by page (``page_size`` rows per request).
        """
        return self._rows(
            "/api/v1/ml/governance/tagged",
            as_frame,
            page_size=page_size,
            tag=tag,
            scope=scope,
            kinds=kinds,
            depth=depth,
            asOf=as_of,
        )

    def get_models_with_failing_checks(
        self,
        status: Literal["failed", "warning"] = "failed",
        *,
        scope: Literal["current", "versions"] = "current",
        kinds: list[str] | None = None,
        depth: int = 50,
        as_of: datetime | str | None = None,
        as_frame: bool | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Any:
        """Which models and endpoints consume data whose latest quality checks fail?

        One row per (model or endpoint, checked dataset upstream) with ``failing_assertions``
        and a ``path``; ``status="warning"`` also reports checks that only warn. ``scope`` as in
        ``get_models_with_tag``. Every row, fetched page by page.
        """
        return self._rows(
            "/api/v1/ml/governance/quality",
            as_frame,
            page_size=page_size,
            status=status,
            scope=scope,
            kinds=kinds,
            depth=depth,
            asOf=as_of,
        )

    def get_audit(
        self, node_id: str, version: str | None = None, *, as_frame: bool | None = None
    ) -> Any:
        """The audit record of a model version: run, input versions, code, params, metrics,
        owners and raw events (one row)."""
        return self._rows("/api/v1/ml/audit", as_frame, nodeId=node_id, version=version)

    def get_feature_lineage(
        self,
        field_node_id: str,
        *,
        depth: int = 20,
        as_of: datetime | str | None = None,
        as_frame: bool | None = None,
    ) -> Any:
        """Source columns behind a feature (``datasetField:`` id) and the models consuming it."""
        return self._rows(
            "/api/v1/ml/feature-lineage", as_frame, nodeId=field_node_id, depth=depth, asOf=as_of
        )

    # -- raw access ----------------------------------------------------------------------------

    def query(self, path: str, **params: Any) -> dict[str, Any]:
        """GET ``path`` (e.g. ``/api/v1/ml/impact``) and return the decoded JSON body."""
        try:
            response = self._http.get(path, params=_params(params))
        except httpx.HTTPError as exc:
            raise LineageClientError(0, self._unreachable(exc)) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"error": response.text or response.reason_phrase}
            raise LineageClientError(
                response.status_code, str(body.get("error")), body.get("details") or []
            )
        result: dict[str, Any] = response.json()
        return result

    def iter_events(self, *, page_size: int = 500) -> Iterator[dict[str, Any]]:
        """Every stored raw OpenLineage event, oldest first (``/api/v1/events/lineage``)."""
        offset = 0
        while True:
            page = self.query(
                "/api/v1/events/lineage", sortDirection="asc", limit=page_size, offset=offset
            )
            events: list[dict[str, Any]] = page["events"]
            yield from events
            offset += len(events)
            if not events or offset >= page["totalCount"]:
                return

    def post_events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Send OpenLineage events in one ``/api/v1/lineage/batch`` call; raises on failures."""
        try:
            response = self._http.post("/api/v1/lineage/batch", json=events)
        except httpx.HTTPError as exc:
            raise LineageClientError(0, self._unreachable(exc)) from exc
        body: dict[str, Any] = response.json()
        if response.status_code >= 400:
            raise LineageClientError(
                response.status_code, str(body.get("error")), body.get("details")
            )
        failed = body.get("failed_events") or []
        if failed:
            raise LineageClientError(response.status_code, f"{len(failed)} events failed", failed)
        return body

    def query_all(self, path: str, *, page_size: int = PAGE_SIZE, **params: Any) -> dict[str, Any]:
        """GET every page of a paged answer (``impact``, ``governance/tagged``) and return one
        body: all rows in order, the union of the pages' graphs, ``truncated`` if any page was.
        The pages are separate requests: data ingested meanwhile may shift rows between them."""
        body = self.query(path, limit=page_size, offset=0, **params)
        rows: list[dict[str, Any]] = list(body["rows"])
        nodes = {node["id"]: node for node in body["graph"]["nodes"]}
        edges = {_edge_key(edge): edge for edge in body["graph"]["edges"]}
        truncated = bool(body["truncated"])
        while len(rows) < body["total_count"]:
            page = self.query(path, limit=page_size, offset=len(rows), **params)
            if not page["rows"]:
                break
            rows += page["rows"]
            nodes.update((node["id"], node) for node in page["graph"]["nodes"])
            edges.update((_edge_key(edge), edge) for edge in page["graph"]["edges"])
            truncated = truncated or bool(page["truncated"])
        graph = {
            "nodes": sorted(nodes.values(), key=lambda n: (n["type"], n["id"])),
            "edges": [edges[key] for key in sorted(edges)],
        }
        return {"rows": rows, "graph": graph, "truncated": truncated, "total_count": len(rows)}

    def _rows(
        self, path: str, as_frame: bool | None, *, page_size: int | None = None, **params: Any
    ) -> Any:
        if page_size is None:
            body = self.query(path, **params)
        else:
            body = self.query_all(path, page_size=page_size, **params)
        frame = self.as_frame if as_frame is None else as_frame
        if frame is not False:
            try:
                import pandas as pd
            except ImportError:
                if frame:
                    raise
            else:
                result = pd.DataFrame(body["rows"])
                result.attrs["graph"] = body["graph"]
                result.attrs["truncated"] = body["truncated"]
                return result
        rows = Rows(body["rows"])
        rows.graph = body["graph"]
        rows.truncated = body["truncated"]
        return rows


def _edge_key(edge: dict[str, Any]) -> tuple[str, str, str]:
    return (edge["origin"], edge["destination"], edge.get("run_id") or "")


def _params(params: dict[str, Any]) -> dict[str, str | int]:
    """Drop unset parameters; join lists; ISO-format datetimes."""
    clean: dict[str, str | int] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            clean[key] = value.isoformat()
        elif isinstance(value, list | tuple):
            clean[key] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            clean[key] = str(value).lower()
        else:
            clean[key] = value
    return clean
