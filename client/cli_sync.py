"""``mllineage sync mlflow``: pull MLflow runs, datasets and registered models into the collector.

Needs the ``mlflow`` package (``pip install mlflow``); everything else of the CLI works without
it. Exit codes: 0 synced, 1 MLflow or the collector failed (the message says which and where),
2 bad usage.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from mllineage.client import mlflow_sync  # imports mlflow only when it reads
from mllineage.client.cli_progress import progress_bar, spinner
from mllineage.client.lineage_client import DEFAULT_URL, URL_ENVVARS
from mllineage.client.mlflow_sync import SyncCursor, SyncPlan
from mllineage.emitter import EmissionError, Emitter


def register(group: click.Group) -> None:
    group.add_command(sync)


@click.group()
def sync() -> None:
    """Pull lineage from the tools ML teams already run (MLflow)."""


@sync.command("mlflow")
@click.option(
    "--tracking-uri",
    envvar="MLFLOW_TRACKING_URI",
    required=True,
    help="MLflow tracking URI: a folder (mlruns), a database (sqlite:///mlflow.db) or "
    "http(s)://server (env MLFLOW_TRACKING_URI).",
)
@click.option(
    "--experiment", "experiments", multiple=True, help="Only this experiment (repeatable)."
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
    default=None,
    help="Only runs started and models updated at or after this time (UTC unless zoned).",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Cursor file: read it to continue where the last sync stopped, write it after.",
)
@click.option("--follow", is_flag=True, help="Keep syncing what changes, every --interval.")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between syncs.")
@click.option(
    "--namespace",
    default=None,
    help="Namespace of MLflow jobs and models [default: mlflow://HOST:PORT of an http tracking "
    "URI, else mlflow://local].",
)
@click.option(
    "--feast-namespace",
    default="feast",
    show_default=True,
    help="Feast's openlineage.namespace (feature_store.yaml), to find its feature views.",
)
@click.option(
    "--url",
    envvar=list(URL_ENVVARS),
    default=DEFAULT_URL,
    show_default=True,
    help="Collector base URL (env MLLINEAGE_URL, else OPENLINEAGE_URL).",
)
@click.option("--api-key", envvar="MLLINEAGE_API_KEY", default=None, help="Bearer API key.")
def sync_mlflow_command(
    tracking_uri: str,
    experiments: tuple[str, ...],
    since: datetime | None,
    state: Path | None,
    follow: bool,
    interval: float,
    namespace: str | None,
    feast_namespace: str,
    url: str,
    api_key: str | None,
) -> None:
    """Send MLflow runs, dataset inputs, logged models and registered model versions to the
    collector as OpenLineage events. Safe to repeat: a second sync stores nothing twice."""
    try:
        import mlflow  # noqa: F401 - fail early, with the install hint
    except ImportError as exc:  # pragma: no cover - depends on the installed packages
        raise click.ClickException("sync mlflow needs MLflow: pip install mlflow") from exc

    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    cursor = SyncCursor.load(state) if state is not None else None
    options: dict[str, Any] = {
        "experiments": experiments,
        "namespace": namespace,
        "feast_namespace": feast_namespace,
    }
    emitter = mlflow_sync.http_emitter(url, api_key)
    try:
        while True:
            plan = _sync_once(emitter, tracking_uri, url, since, cursor, options)
            cursor, since = plan.cursor, None
            if state is not None:
                cursor.save(state)
            if not follow:
                return
            time.sleep(interval)
    finally:
        emitter.close()


def _sync_once(
    emitter: Emitter,
    tracking_uri: str,
    url: str,
    since: datetime | None,
    cursor: SyncCursor | None,
    options: dict[str, Any],
) -> SyncPlan:
    """Read, send, print the one-line summary; MLflow and collector failures exit 1."""
    from mlflow.exceptions import MlflowException

    try:
        with spinner(f"reading MLflow at {tracking_uri}"):
            plan = mlflow_sync.plan_mlflow_sync(tracking_uri, since=since, cursor=cursor, **options)
        with progress_bar(len(plan.events), f"sending to {url}") as advance:
            mlflow_sync.send_events(plan.events, emitter, advance)
    except (MlflowException, LookupError) as exc:
        raise click.ClickException(f"MLflow at {tracking_uri}: {exc}") from exc
    except EmissionError as exc:
        raise click.ClickException(f"collector at {url}: {exc}") from exc
    skipped = (
        f" ({plan.skipped_deleted} deleted in MLflow, skipped)" if plan.skipped_deleted else ""
    )
    click.echo(
        f"synced {plan.runs} runs, {plan.model_versions} model versions, "
        f"{plan.logged_models} logged models: {len(plan.events)} events to {url}{skipped}",
        err=True,
    )
    return plan
