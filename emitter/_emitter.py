"""The emitter: hands events to ``openlineage.client.OpenLineageClient`` and never crashes the job.

All transport configuration is the OpenLineage client's own (``openlineage.yml``,
``OPENLINEAGE_CONFIG``, ``OPENLINEAGE_URL``/``OPENLINEAGE_API_KEY``,
``OPENLINEAGE__TRANSPORT__...`` variables, or ``config=``), so HTTP, Kafka, file, console,
composite and custom transports all work. By default a failed emission (unreachable backend,
misconfigured transport) is logged as a warning on the ``mllineage.emitter`` logger and the
job carries on; ``strict=True`` turns it into :class:`EmissionError`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Unpack

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Dataset, DatasetEvent, JobEvent, RunEvent, StaticDataset

from mllineage.emitter._producer import PRODUCER
from mllineage.emitter._run import LineageRun, RunOptions

if TYPE_CHECKING:
    from mllineage.emitter._chain import ChainArguments, LineageSummary

__all__ = ["EmissionError", "Emitter"]

log = logging.getLogger("mllineage.emitter")

Event = RunEvent | DatasetEvent | JobEvent


class EmissionError(RuntimeError):
    """A strict emitter could not configure its client or hand an event to the transport."""


class Emitter:
    """Emits mllineage events through an ``OpenLineageClient``.

    ``client``: an injected client (tests, custom transports); by default one is created on
    first use from the OpenLineage configuration, or from ``config`` (the same dictionary an
    ``openlineage.yml`` holds). ``namespace``: job namespace of the runs it creates (default:
    ``OPENLINEAGE_NAMESPACE``, else ``"default"``). ``strict``: raise :class:`EmissionError`
    instead of logging a warning when emission fails. ``source_code``: whether runs look up
    their git ``sourceCodeLocation`` (each run can override it).
    """

    def __init__(
        self,
        client: OpenLineageClient | None = None,
        *,
        namespace: str | None = None,
        strict: bool = False,
        config: Mapping[str, Any] | None = None,
        source_code: bool = True,
    ) -> None:
        if client is not None and config is not None:
            raise ValueError("pass either a client or a client config, not both")
        self._client = client
        self._config = dict(config) if config is not None else None
        self._client_unavailable = False
        self._lock = threading.Lock()
        self.namespace = namespace or os.environ.get("OPENLINEAGE_NAMESPACE") or "default"
        self.strict = strict
        self.source_code = source_code

    @property
    def client(self) -> OpenLineageClient | None:
        """The OpenLineage client, created on first use; ``None`` if it cannot be configured."""
        if self._client is None and not self._client_unavailable:
            with self._lock:
                if self._client is None and not self._client_unavailable:
                    self._client = self._create_client()
        return self._client

    def _create_client(self) -> OpenLineageClient | None:
        try:
            return OpenLineageClient(config=self._config)
        # The client raises whatever its config parsing or transport constructor raises.
        except Exception as exc:
            if self.strict:
                raise EmissionError(f"cannot configure the OpenLineage client: {exc}") from exc
            log.warning(
                "mllineage: cannot configure the OpenLineage client, lineage is off: %s", exc
            )
            self._client_unavailable = True
            return None

    def emit(self, event: Event) -> bool:
        """Hand ``event`` to the client's transport; ``True`` when it was accepted.

        A failure returns ``False`` after a warning, or raises :class:`EmissionError` when
        strict. Transports raise arbitrary exceptions (HTTP errors, Kafka errors, ``OSError``),
        so every ``Exception`` from the client counts as a failed emission.
        """
        client = self.client
        if client is None:
            return False
        try:
            client.emit(event)
        except Exception as exc:
            what = _describe(event)
            if self.strict:
                raise EmissionError(f"could not emit {what}: {exc}") from exc
            log.warning("mllineage: could not emit %s: %s", what, exc)
            log.debug("mllineage: emission failure details", exc_info=True)
            return False
        return True

    def run(self, job_name: str, **options: Unpack[RunOptions]) -> LineageRun:
        """A :class:`LineageRun` of ``job_name`` in this emitter's namespace (see its options)."""
        return LineageRun(self, job_name, **options)

    def emit_dataset(self, ds: Dataset) -> bool:
        """Emit a static DatasetEvent: metadata of ``ds`` outside any run (e.g. new tags)."""
        event = DatasetEvent(
            eventTime=datetime.now(UTC).isoformat(),
            dataset=StaticDataset(namespace=ds.namespace, name=ds.name, facets=ds.facets),
            producer=PRODUCER,
        )
        return self.emit(event)

    def create_ml_lineage(self, **arguments: Unpack[ChainArguments]) -> LineageSummary:
        """:func:`mllineage.emitter.create_ml_lineage` through this emitter."""
        from mllineage.emitter._chain import create_ml_lineage

        return create_ml_lineage(self, **arguments)

    def close(self, timeout: float = -1.0) -> bool:
        """Flush and close the client's transport (``timeout`` as in ``OpenLineageClient.close``)."""
        if self._client is None:
            return True
        try:
            return self._client.close(timeout)
        except Exception as exc:
            if self.strict:
                raise EmissionError(f"could not close the OpenLineage transport: {exc}") from exc
            log.warning("mllineage: could not close the OpenLineage transport: %s", exc)
            return False


def _describe(event: Event) -> str:
    if isinstance(event, RunEvent):
        state = event.eventType.value if event.eventType else "RunEvent"
        return f"{state} of {event.job.namespace}/{event.job.name} run {event.run.runId}"
    if isinstance(event, JobEvent):
        return f"JobEvent of {event.job.namespace}/{event.job.name}"
    return f"DatasetEvent of {event.dataset.namespace}/{event.dataset.name}"
