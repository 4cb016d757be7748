"""Facet bodies stored once per distinct content (``facet_contents``), and how readers get them.

A facet row (``dataset_facets``, ``job_facets``, ``run_facets``) keeps a 16-byte
``facet_digest``; a dataset version keeps ``facet_digests``, a map of facet key to the digest in
hex. The body lives once in ``facet_contents`` under its digest, however many rows refer to it
(a dataset's schema repeated by every run is stored once).

The digest is ``md5`` of the body's PostgreSQL ``jsonb`` text form, so the Python fold
(``facet_digest``) and the SQL projection program (``mllineage_facet_digest``, installed by
migration 0011 with ``DIGEST_FUNCTION``) name the same content alike. ``jsonb`` text: object keys
ordered by byte length, then bytes (the last of duplicate keys kept); ``", "`` and ``": "``
separators; strings escaped as ``json`` escapes them without ``ensure_ascii``; numbers in plain
decimal notation. A number whose text the producer wrote with trailing zeros (``1.50``) or that
Python's float cannot carry exactly reads back differently in Python, so that content may get
two digests (two equal bodies stored): never a wrong body.

Readers resolve digests with ``fetch_bodies`` (one batched query per 400 digests) or, inside SQL,
with ``body_of`` (a primary-key probe per row). Bodies are never rewritten or deleted by the
projection: content no row refers to any more stays (see ``bench/README.md``, storage).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, ScalarSelect, select

from mllineage.collector.db.tables import facet_contents_t

#: Digests per lookup query (bounded ``IN`` lists on both databases).
_CHUNK = 400

#: ``mllineage_facet_digest(jsonb)``: the digest of ``facet_digest`` computed in PostgreSQL.
DIGEST_FUNCTION = r"""
CREATE OR REPLACE FUNCTION mllineage_facet_digest(body jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $fn$ SELECT decode(md5(body::text), 'hex') $fn$;
"""

#: Undoes ``DIGEST_FUNCTION``.
DROP_DIGEST_FUNCTION = "DROP FUNCTION IF EXISTS mllineage_facet_digest(jsonb)"


def facet_digest(body: Any) -> bytes:
    """The 16-byte content digest of a facet body (see the module docstring)."""
    return hashlib.md5(jsonb_text(body).encode(), usedforsecurity=False).digest()


def digest_map(facets: Mapping[str, Any]) -> dict[str, str]:
    """A facet map as ``dataset_versions.facet_digests`` stores it: key -> digest in hex."""
    return {key: facet_digest(body).hex() for key, body in facets.items()}


def jsonb_text(value: Any) -> str:
    """``value`` as PostgreSQL prints the same ``jsonb`` (``value::jsonb::text``)."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:  # noqa: PLR0912 - one branch per JSON type
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{")
        keys = sorted(value, key=_key_order)
        for index, key in enumerate(keys):
            if index:
                out.append(", ")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(": ")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(", ")
            _write(item, out)
        out.append("]")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        # PostgreSQL's numeric prints plain decimals, and has no negative zero.
        out.append(format(number.copy_abs() if number == 0 else number, "f"))
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def _key_order(key: str) -> tuple[int, bytes]:
    encoded = key.encode()
    return len(encoded), encoded


def fetch_bodies(conn: Connection, digests: Iterable[bytes | None]) -> dict[bytes, Any]:
    """The bodies of ``digests`` (None and repeats ignored), by digest."""
    wanted = sorted({d for d in digests if d is not None})
    found: dict[bytes, Any] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(facet_contents_t.c.digest, facet_contents_t.c.body).where(
            facet_contents_t.c.digest.in_(chunk)
        )
        found.update({bytes(digest): body for digest, body in conn.execute(query)})
    return found


def body(bodies: Mapping[bytes, Any], digest: bytes | None) -> Any:
    """The body of ``digest`` in ``bodies`` (``fetch_bodies``); None for a retracted facet."""
    return None if digest is None else bodies[bytes(digest)]


def resolve_maps(
    conn: Connection, maps: Iterable[Mapping[str, str] | None]
) -> list[dict[str, Any]]:
    """Facet maps of ``facet_digests`` (key -> hex digest) with their bodies, in order."""
    given: list[Mapping[str, str]] = [m or {} for m in maps]
    bodies = fetch_bodies(conn, (bytes.fromhex(d) for m in given for d in m.values()))
    return [{key: bodies[bytes.fromhex(d)] for key, d in m.items()} for m in given]


def body_of(digest: Any) -> ScalarSelect[Any]:
    """Inside SQL: the body of the digest column ``digest`` (NULL for NULL), a key probe."""
    return (
        select(facet_contents_t.c.body).where(facet_contents_t.c.digest == digest).scalar_subquery()
    )
