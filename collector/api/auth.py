"""Optional API-key auth: ``Authorization: Bearer <key>`` with ``read`` and ``write`` scopes, each
possibly limited to namespaces (glob patterns).

Keys are kept only as sha256 digests and compared with ``hmac.compare_digest`` against every
configured digest (no early exit), so neither the key nor its position leaks through timing or
logs. With no keys configured, auth is off and every namespace is open.

``authorize`` (or the dependency ``require_scope``) decides whether a request may use a scope at
all (401/403) and leaves the ``Namespaces`` the key may use that scope on in
``request.state.namespaces``; the ingest routes check each event against it, the read routes
filter through it (``api.visibility``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from fastapi import Request

from mllineage.collector.errors import Forbidden, Unauthenticated
from mllineage.collector.settings import KeyGrant


@dataclass(frozen=True, slots=True)
class Namespaces:
    """The namespaces a key may use one scope on: glob patterns (``fnmatch``, case-sensitive)."""

    patterns: tuple[str, ...]

    @property
    def everything(self) -> bool:
        return "*" in self.patterns

    def allows(self, namespace: str) -> bool:
        return self.everything or any(fnmatchcase(namespace, p) for p in self.patterns)

    def refused(self, namespaces: Iterable[str]) -> list[str]:
        """The namespaces of ``namespaces`` this key may not use, sorted, without repeats."""
        if self.everything:
            return []
        return sorted({ns for ns in namespaces if not self.allows(ns)})


ALL_NAMESPACES = Namespaces(("*",))


class KeyRing:
    def __init__(self, hashed_keys: dict[bytes, KeyGrant]) -> None:
        self._keys = list(hashed_keys.items())

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def grant_for(self, presented: str) -> KeyGrant | None:
        digest = hashlib.sha256(presented.encode()).digest()
        found: KeyGrant | None = None
        for candidate, grant in self._keys:
            if hmac.compare_digest(digest, candidate):
                found = grant
        return found


def authorize(request: Request, scope: str) -> Namespaces:
    """Enforce ``scope`` when auth is on (401/403); the namespaces the key may use it on, also
    left in ``request.state.namespaces``. The ingest routes call it directly (cheaper than a
    dependency on their hot path); the others through ``require_scope``."""
    request.state.namespaces = ALL_NAMESPACES
    keyring: KeyRing = request.app.state.keyring
    if not keyring.enabled:
        return ALL_NAMESPACES
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing API key: send 'Authorization: Bearer <key>'")
    grant = keyring.grant_for(token.strip())
    if grant is None:
        raise Unauthenticated("unknown API key")
    patterns = grant.write if scope == "write" else grant.read
    if not patterns:
        raise Forbidden(f"this API key lacks the '{scope}' scope")
    namespaces = Namespaces(patterns)
    request.state.namespaces = namespaces
    return namespaces


def require_scope(scope: str) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A FastAPI dependency that enforces ``scope`` when auth is on (``authorize``)."""

    async def check(request: Request) -> None:
        authorize(request, scope)

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


def namespaces_of(request: Request) -> Namespaces:
    """The namespaces this request's key may use its route's scope on (all when auth is off)."""
    namespaces: Namespaces = getattr(request.state, "namespaces", ALL_NAMESPACES)
    return namespaces
