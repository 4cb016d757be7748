"""Optional API-key auth: ``Authorization: Bearer <key>`` with ``read`` and ``write`` scopes.

Keys are kept only as sha256 digests and compared with ``hmac.compare_digest`` against every
configured digest (no early exit), so neither the key nor its position leaks through timing or
logs. With no keys configured, auth is off.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request

from mllineage.collector.errors import Forbidden, Unauthenticated


class KeyRing:
    def __init__(self, hashed_keys: dict[bytes, frozenset[str]]) -> None:
        self._keys = list(hashed_keys.items())

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def scopes_for(self, presented: str) -> frozenset[str] | None:
        digest = hashlib.sha256(presented.encode()).digest()
        found: frozenset[str] | None = None
        for candidate, scopes in self._keys:
            if hmac.compare_digest(digest, candidate):
                found = scopes
        return found


def require_scope(scope: str) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A FastAPI dependency that enforces ``scope`` when auth is on."""

    async def check(request: Request) -> None:
        keyring: KeyRing = request.app.state.keyring
        if not keyring.enabled:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("missing API key: send 'Authorization: Bearer <key>'")
        scopes = keyring.scopes_for(token.strip())
        if scopes is None:
            raise Unauthenticated("unknown API key")
        if scope not in scopes:
            raise Forbidden(f"this API key lacks the '{scope}' scope")

    return check


def key_fingerprint(request: Request) -> str | None:
    """A short, non-reversible name of the presented API key (``sha256:<12 hex>``) for audit
    records; None when auth is off or no key was sent."""
    if not request.app.state.keyring.enabled:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return "sha256:" + hashlib.sha256(token.strip().encode()).hexdigest()[:12]
