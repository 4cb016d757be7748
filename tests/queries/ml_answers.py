"""Asking the ML questions over HTTP in tests, and reading the inferred edges of an answer."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def ask(client: TestClient, path: str, **params: str) -> dict[str, Any]:
    """GET ``/api/v1/ml/{path}``; the answer must be a 200."""
    response = client.get(f"/api/v1/ml/{path}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def inferred_edges(body: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(origin, destination) -> evidence of the answer graph's inferred edges."""
    return {
        (e["origin"], e["destination"]): e["evidence"]
        for e in body["graph"]["edges"]
        if e["inferred"]
    }
