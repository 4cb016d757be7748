"""Read filtering for namespace-scoped keys: the one place that decides what a key may see.

Every read route uses ``VisibleRoute``. When the request's key may read every namespace (or auth
is off) nothing happens and nothing is spent. Otherwise:

- a request that names a namespace the key may not read (the ``{namespace}`` path parameter, or
  the namespace of ``nodeId``) is a 404, as if nothing were there;
- the JSON answer is filtered before it is sent: an object that *belongs* to a hidden namespace
  (its ``namespace`` field, a node id such as ``dataset:<ns>:<name>`` in one of its fields, or a
  nested object that belongs to one) is removed from the list holding it, and a node-id string
  in a list is removed likewise. Rows, graph nodes and edges, search results, raw events and
  Marquez entities all carry their namespace one of these ways, so one rule covers every answer.
  A top-level answer that itself belongs to a hidden namespace is a 404.

Counts (``totalCount``, ``total_count``) are left as the query computed them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from mllineage.collector.api.auth import Namespaces, namespaces_of
from mllineage.collector.errors import NotFound
from mllineage.schemas.node_ids import InvalidNodeId, node_id_readings

_NODE_PREFIXES = ("dataset:", "job:", "datasetField:")
_HIDDEN = object()


class VisibleRoute(APIRoute):
    """An ``APIRoute`` whose answers are filtered to what the request's key may read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def visible_only(request: Request) -> Response:
            response = await handler(request)
            allowed = namespaces_of(request)
            if allowed.everything:
                return response
            return filtered_response(response, allowed)

        return visible_only


def check_target(request: Request) -> None:
    """404 when the request names a namespace its key may not read (a read-route dependency,
    so nothing is queried for it)."""
    allowed = namespaces_of(request)
    if allowed.everything:
        return
    namespace = request.path_params.get("namespace")
    if isinstance(namespace, str) and not allowed.allows(namespace):
        raise NotFound(f"namespace {namespace!r} not found")
    node_id = request.query_params.get("nodeId")
    if node_id is not None and _hidden_node(node_id, allowed):
        raise NotFound(f"node {node_id!r} not found")


def filtered_response(response: Response, allowed: Namespaces) -> Response:
    if response.media_type != "application/json" or response.status_code >= 300:
        return response
    answer = visible(orjson.loads(response.body), allowed)
    if answer is _HIDDEN:
        raise NotFound("not found")
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(
        orjson.dumps(answer),
        status_code=response.status_code,
        headers=headers,
        media_type="application/json",
    )


def visible(value: Any, allowed: Namespaces, *, namespace_list: bool = False) -> Any:
    """``value`` without what belongs to hidden namespaces; ``_HIDDEN`` if ``value`` itself does.

    ``namespace_list``: ``value`` is an element of a list of namespaces (their ``name`` is the
    namespace).
    """
    if isinstance(value, str):
        return _HIDDEN if _hidden_node(value, allowed) else value
    if isinstance(value, list):
        kept = []
        for item in value:
            shown = visible(item, allowed, namespace_list=namespace_list)
            if shown is not _HIDDEN:
                kept.append(shown)
        return kept
    if not isinstance(value, dict):
        return value
    own = value.get("name") if namespace_list else value.get("namespace")
    if isinstance(own, str) and not allowed.allows(own):
        return _HIDDEN
    result: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, list):
            result[key] = visible(item, allowed, namespace_list=key == "namespaces")
            continue
        shown = visible(item, allowed)
        if shown is _HIDDEN:
            return _HIDDEN  # a field of this object (its id, its job) is hidden: so is the object
        result[key] = shown
    return result


def _hidden_node(text: str, allowed: Namespaces) -> bool:
    if not text.startswith(_NODE_PREFIXES):
        return False
    try:
        readings = node_id_readings(text)
    except InvalidNodeId:
        return False
    return bool(readings) and not allowed.allows(readings[0].namespace)
