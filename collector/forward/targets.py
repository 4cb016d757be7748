"""Forwarding targets: openlineage-python transport configs, their names, and failure kinds.

A target is exactly a config dict of the OpenLineage Python client (``{"type": "http", "url":
...}``, ``kafka``, ``file``, ``composite``, a custom class path...), built by the client's own
transport factory. Its name is the config's ``name`` if given, else its type and a digest of the
config, so the durable cursor follows the target across restarts and a changed config is a new
target.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import requests
from openlineage.client.transport import Transport, get_default_factory

#: HTTP answers that say "this event is refused", as opposed to "the target is not working":
#: 4xx, except auth (a wrong key refuses every event), timeouts and rate limiting.
_NOT_REJECTIONS = frozenset({401, 403, 404, 407, 408, 425, 429})


@dataclass(frozen=True, slots=True)
class Target:
    """One forwarding destination: its stable name and the client config it was built from."""

    name: str
    config: dict[str, Any]

    def transport(self) -> Transport:
        """A fresh transport from the client's factory (which consumes ``name``: give a copy)."""
        return get_default_factory().create(copy.deepcopy(self.config))

    def describe(self) -> str:
        """The type and, for HTTP-like targets, the address; never credentials."""
        where = self.config.get("url") or self.config.get("log_file_path") or ""
        return f"{self.config.get('type')} {where}".strip()


def target_from_config(config: dict[str, Any]) -> Target:
    """Name a transport config; raise ``ValueError`` if the client cannot build it."""
    if not isinstance(config, dict) or not isinstance(config.get("type"), str):
        raise ValueError(f"a forwarding target needs a transport 'type': {config!r}")
    name = config.get("name")
    if not isinstance(name, str) or not name:
        canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
        name = f"{config['type']}-{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"
    target = Target(name=name, config=config)
    try:
        target.transport()
    except Exception as exc:  # any transport class may raise anything on bad config
        raise ValueError(f"forwarding target {name!r}: {exc}") from exc
    return target


def targets_from_settings(configs: list[dict[str, Any]]) -> list[Target]:
    """Build every target; duplicate names are a configuration error."""
    targets = [target_from_config(config) for config in configs]
    names = [target.name for target in targets]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"forwarding targets share a name: {', '.join(duplicated)}")
    return targets


def target_for_url_or_config(value: str) -> Target:
    """``--to`` of ``mllineage replay``: a URL (an OpenLineage HTTP endpoint) or a JSON config."""
    if value.lstrip().startswith("{"):
        config = json.loads(value)
    else:
        config = {"type": "http", "url": value, "endpoint": "api/v1/lineage"}
    return target_from_config(config)


def is_rejection(exc: BaseException) -> bool:
    """True when the target refused this event (retrying cannot help), False for an outage.

    Refusals are HTTP 4xx answers (bar auth, 404, timeouts, rate limits) and events the
    transport cannot serialise; everything else (connection refused, 5xx, broker down) is the
    target not working, which is retried without limit.
    """
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        return 400 <= status < 500 and status not in _NOT_REJECTIONS
    return isinstance(exc, TypeError | ValueError | UnicodeError) and not isinstance(
        exc, requests.RequestException
    )
