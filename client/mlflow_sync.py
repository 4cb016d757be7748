"""Sync an MLflow tracking server / registry into the collector: read, convert, send.

``sync_mlflow(tracking_uri, url=...)`` reads runs, their dataset inputs, MLflow 3 logged models
and registered model versions through MLflow's own ``MlflowClient`` (so a local ``mlruns``
folder, a database URI such as ``sqlite:///mlflow.db`` and an ``http(s)://`` tracking server all
work), turns them into OpenLineage events (:mod:`mllineage.client.mlflow_events`) and sends them
through the emitter's HTTP transport. ``mlflow`` is imported only here, on call.

Incremental: a :class:`SyncCursor` remembers the newest MLflow timestamp read and the runs that
were still running; the next sync reads only runs started since, versions and logged models
updated since, and those open runs again. Idempotent: the events are deterministic, so anything
read twice is a duplicate the collector stores once. What happens to MLflow-side changes:

- a run deleted in MLflow is not read again; what an earlier sync sent stays in the collector
  (it did train what it trained), and a version registered from a deleted run is not sent;
- a run still running is sent as START; its terminal event follows on the first sync after it
  ended (the cursor keeps its id);
- a version whose stage, aliases or tags change gets a new ``last_updated_timestamp`` in MLflow
  and is sent again as a newer event, whose ``mllineage_model`` then wins;
- MLflow parameters are immutable; tags or metrics added to a run after a sync read it are picked
  up by a sync whose ``since`` reaches back to the run's start (``--since``), and arrive with the
  run's own end time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from openlineage.client.event_v2 import RunEvent

from mllineage.client.mlflow_events import (
    MlflowNaming,
    logged_model_event,
    model_version_event,
    run_events,
)
from mllineage.emitter import Emitter

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModel, Run
    from mlflow.entities.model_registry import ModelVersion

__all__ = ["SyncCursor", "SyncPlan", "plan_mlflow_sync", "send_events", "sync_mlflow"]

_PAGE = 1000


@dataclass
class SyncCursor:
    """Where the last sync stopped: MLflow timestamps (ms) at or after ``since_ms`` are read
    next time, and ``open_runs`` (MLflow run ids still running then) are read again."""

    since_ms: int = 0
    open_runs: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> SyncCursor:
        """The cursor saved at ``path``, or a fresh one when the file does not exist."""
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(int(data.get("since_ms", 0)), [str(r) for r in data.get("open_runs", [])])

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


@dataclass
class SyncPlan:
    """What one sync read from MLflow and the events it implies, in sending order."""

    events: list[RunEvent]
    cursor: SyncCursor
    runs: int = 0
    model_versions: int = 0
    logged_models: int = 0
    skipped_deleted: int = 0


def default_namespace(tracking_uri: str) -> str:
    """``mlflow://host:port`` for a tracking server, else ``mlflow://local``."""
    parts = urlsplit(tracking_uri)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"mlflow://{parts.netloc}"
    return "mlflow://local"


def sync_mlflow(
    tracking_uri: str,
    *,
    url: str | None = None,
    api_key: str | None = None,
    experiments: Sequence[str] = (),
    since: datetime | None = None,
    cursor: SyncCursor | None = None,
    namespace: str | None = None,
    feast_namespace: str = "feast",
    emitter: Emitter | None = None,
) -> SyncPlan:
    """Read what changed in MLflow since ``since`` (or ``cursor``) and send it, through
    ``emitter`` or else a strict HTTP emitter to ``url`` (closed after); the plan's cursor is
    where the next sync starts. Raises ``EmissionError`` when an event cannot be delivered
    (nothing is skipped silently)."""
    plan = plan_mlflow_sync(
        tracking_uri,
        experiments=experiments,
        since=since,
        cursor=cursor,
        namespace=namespace,
        feast_namespace=feast_namespace,
    )
    if emitter is not None:
        send_events(plan.events, emitter)
        return plan
    own = http_emitter(url, api_key)
    try:
        send_events(plan.events, own)
    finally:
        own.close()
    return plan


def http_emitter(url: str | None, api_key: str | None) -> Emitter:
    """A strict emitter posting to the collector at ``url`` (default: the OpenLineage
    client's own configuration, e.g. ``OPENLINEAGE_URL``)."""
    if url is None:
        return Emitter(strict=True, source_code=False)
    transport: dict[str, Any] = {"type": "http", "url": url, "endpoint": "api/v1/lineage"}
    if api_key:
        transport["auth"] = {"type": "api_key", "apiKey": api_key}
    return Emitter(config={"transport": transport}, strict=True, source_code=False)


def send_events(
    events: Sequence[RunEvent], emitter: Emitter, advance: Callable[[int], None] | None = None
) -> None:
    """Emit ``events`` in order (``advance(1)`` after each); the caller closes the emitter."""
    for event in events:
        emitter.emit(event)
        if advance is not None:
            advance(1)


def plan_mlflow_sync(
    tracking_uri: str,
    *,
    experiments: Sequence[str] = (),
    since: datetime | None = None,
    cursor: SyncCursor | None = None,
    namespace: str | None = None,
    feast_namespace: str = "feast",
) -> SyncPlan:
    """Read MLflow (see the module doc) and build the events, sending nothing."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    start = cursor or SyncCursor()
    since_ms = int(since.timestamp() * 1000) if since is not None else start.since_ms
    found = _experiments(client, experiments)
    naming = MlflowNaming(
        namespace or default_namespace(tracking_uri), tracking_uri, feast_namespace, dict(found)
    )
    reader = _Reader(client, naming, SyncPlan([], SyncCursor(since_ms)), since_ms)
    reader.read_runs(start.open_runs)
    logged = {m.model_id: m for m in _logged_models(client, list(naming.experiment_names))}
    registered = reader.read_versions(logged)
    reader.read_logged_models(logged, registered)
    reader.plan.cursor.since_ms = reader.newest + 1
    return reader.plan


@dataclass
class _Reader:
    """One sync's reading state: the runs read so far and the newest timestamp seen."""

    client: MlflowClient
    naming: MlflowNaming
    plan: SyncPlan
    since_ms: int
    runs: dict[str, Run] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.newest = self.since_ms - 1

    def read_runs(self, open_runs: Sequence[str]) -> None:
        for run in _runs(self.client, list(self.naming.experiment_names), self.since_ms):
            self.runs[run.info.run_id] = run
        for run_id in open_runs:
            if run_id not in self.runs and (reread := self.run(run_id)) is not None:
                self.runs[run_id] = reread
        for run in sorted(self.runs.values(), key=lambda r: (r.info.start_time, r.info.run_id)):
            self.plan.events += run_events(self.naming, run)
            self.plan.runs += 1
            self.newest = max(self.newest, run.info.start_time)
            if run.info.end_time is None or run.info.status in ("RUNNING", "SCHEDULED"):
                self.plan.cursor.open_runs.append(run.info.run_id)

    def read_versions(self, logged: dict[str, LoggedModel]) -> set[str]:
        """Send versions updated since; returns the ids of every registered logged model."""
        registered: set[str] = set()
        for version in _model_versions(self.client):
            model_id = _logged_model_id(version)
            if model_id:
                registered.add(model_id)
            updated = version.last_updated_timestamp or version.creation_timestamp or 0
            if updated < self.since_ms or not version.run_id:
                continue
            run = self.run(version.run_id)
            if run is None or run.info.experiment_id not in self.naming.experiment_names:
                continue
            model = logged.get(model_id) if model_id else None
            self.plan.events.append(model_version_event(self.naming, version, run, model))
            self.plan.model_versions += 1
            self.newest = max(self.newest, updated)
        return registered

    def read_logged_models(self, logged: dict[str, LoggedModel], registered: set[str]) -> None:
        for model in logged.values():
            updated = model.last_updated_timestamp or model.creation_timestamp or 0
            if model.model_id in registered or updated < self.since_ms:
                continue
            run = self.run(model.source_run_id) if model.source_run_id else None
            if run is not None:
                self.plan.events.append(logged_model_event(self.naming, model, run))
                self.plan.logged_models += 1
                self.newest = max(self.newest, updated)

    def run(self, run_id: str) -> Run | None:
        """The run (read once), or None when it is gone or deleted (counted as skipped)."""
        from mlflow.exceptions import MlflowException

        if run_id in self.runs:
            return self.runs[run_id]
        try:
            run = self.client.get_run(run_id)
        except MlflowException:
            return None
        if run.info.lifecycle_stage == "deleted":
            self.plan.skipped_deleted += 1
            return None
        return run


def follow_mlflow(
    tracking_uri: str,
    *,
    interval: float,
    cursor: SyncCursor,
    on_sync: Callable[[SyncPlan], bool],
    **options: Any,
) -> None:
    """Sync every ``interval`` seconds from ``cursor`` until ``on_sync`` returns False."""
    while True:
        plan = sync_mlflow(tracking_uri, cursor=cursor, **options)
        cursor = plan.cursor
        if not on_sync(plan):
            return
        time.sleep(interval)


# -- reading MLflow ---------------------------------------------------------------------------


def _experiments(client: MlflowClient, names: Sequence[str]) -> list[tuple[str, str]]:
    if not names:
        return [(e.experiment_id, e.name) for e in _pages(client.search_experiments)]
    found = []
    for name in names:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise LookupError(f"no MLflow experiment named {name!r}")
        found.append((experiment.experiment_id, experiment.name))
    return found


def _runs(client: MlflowClient, experiment_ids: list[str], since_ms: int) -> Iterator[Run]:
    if not experiment_ids:
        return
    query = f"attributes.start_time >= {since_ms}" if since_ms > 0 else ""
    yield from _pages(
        lambda **page: client.search_runs(
            experiment_ids, query, order_by=["attributes.start_time ASC"], **page
        )
    )


def _model_versions(client: MlflowClient) -> Iterator[ModelVersion]:
    yield from _pages(client.search_model_versions)


def _logged_models(client: MlflowClient, experiment_ids: list[str]) -> Iterator[LoggedModel]:
    if experiment_ids:
        yield from _pages(lambda **page: client.search_logged_models(experiment_ids, **page))


def _pages(search: Callable[..., Any]) -> Iterator[Any]:
    """Every item of a paged MLflow search (``PagedList`` with ``token``)."""
    token = None
    while True:
        page = search(max_results=_PAGE, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _logged_model_id(version: ModelVersion) -> str | None:
    """MLflow 3: a version registered from a logged model has source ``models:/m-…``."""
    model_id = getattr(version, "model_id", None)
    if model_id:
        return str(model_id)
    source = version.source or ""
    if source.startswith("models:/m-"):
        return source.removeprefix("models:/").split("/")[0]
    return None
