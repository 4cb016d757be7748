"""Server-side commands: ``serve``, ``db upgrade``. They need the ``collector`` extra."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mllineage.collector.settings import Settings

log = logging.getLogger("mllineage.cli")


def _settings(database_url: str | None) -> Settings:
    try:
        from mllineage.collector.settings import Settings
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise click.ClickException(
            "the collector is not installed: pip install 'mllineage[collector]'"
        ) from exc
    return Settings(database_url=database_url) if database_url else Settings()


def apply_migrations(settings: Settings, *, wait_seconds: float = 0.0) -> None:
    """Apply migrations, retrying while the database is not reachable yet (containers)."""
    from sqlalchemy.exc import OperationalError

    from mllineage.collector.db.engine import make_engine
    from mllineage.collector.db.migrate import upgrade

    engine = make_engine(settings.database_url, pool_size=1)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                upgrade(engine)
                return
            except OperationalError as exc:
                if time.monotonic() >= deadline:
                    raise click.ClickException(f"cannot migrate the database: {exc.orig}") from exc
                log.warning("database not reachable yet, retrying: %s", exc.orig)
                time.sleep(1.0)
    finally:
        engine.dispose()


def register(group: click.Group) -> None:
    group.add_command(serve)
    group.add_command(db)
    group.add_command(import_events)
    group.add_command(replay)


_DB_OPTION = click.option(
    "--database-url",
    envvar="MLLINEAGE_DATABASE_URL",
    help="SQLAlchemy URL (default sqlite:///./mllineage.db; postgresql+psycopg://... for Postgres).",
)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="uvicorn worker processes.")
@click.option(
    "--migrate/--no-migrate", default=True, show_default=True, help="Upgrade the schema first."
)
@click.option(
    "--wait-for-db",
    default=30.0,
    show_default=True,
    help="Seconds to keep retrying an unreachable database at start-up.",
)
@click.option(
    "--insecure",
    is_flag=True,
    envvar="MLLINEAGE_ALLOW_INSECURE",
    help="Serve a non-loopback address without API keys (anyone who can connect may read and "
    "write). Also MLLINEAGE_ALLOW_INSECURE=true.",
)
@_DB_OPTION
def serve(
    host: str,
    port: int,
    workers: int,
    migrate: bool,
    wait_for_db: float,
    insecure: bool,
    database_url: str | None,
) -> None:
    """Run the collector (HTTP API at /api/v1, OpenAPI at /docs).

    Secure by default: on an address other than loopback it refuses to start without API keys
    (``MLLINEAGE_API_KEYS``) unless ``--insecure`` is given.
    """
    import os

    import uvicorn

    from mllineage.collector.logs import configure_logging

    settings = _settings(database_url)
    configure_logging(settings.log_level, as_json=settings.log_json)
    if not settings.auth_enabled and not _is_loopback(host):
        if not (insecure or settings.allow_insecure):
            raise click.ClickException(
                f"refusing to serve {host} without API keys: anyone who can reach it could read "
                "and write lineage. Add keys, e.g. MLLINEAGE_API_KEYS="
                '\'{"<write-key>": ["write"], "<read-key>": ["read"]}\' (or '
                '{"<key>": {"write": ["team-a*"], "read": ["*"]}} to limit a key to namespaces), '
                "or pass --insecure (MLLINEAGE_ALLOW_INSECURE=true) to serve without them."
            )
        log.warning(
            "serving %s without API keys (--insecure): anyone who can connect may read and write",
            host,
        )
    if migrate:
        apply_migrations(settings, wait_seconds=wait_for_db)
    if database_url:
        os.environ["MLLINEAGE_DATABASE_URL"] = database_url  # worker processes rebuild Settings
    click.echo(f"mllineage collector on http://{host}:{port} using {_redacted(settings)}", err=True)
    uvicorn.run(
        "mllineage.collector.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and ``localhost``; any other name or address may be reachable."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.group()
def db() -> None:
    """Database administration."""


@db.command("retention")
@click.option(
    "--keep-days", required=True, type=click.IntRange(min=0), help="Keep raw events this recent."
)
@_DB_OPTION
def db_retention(keep_days: int, database_url: str | None) -> None:
    """Delete raw events older than --keep-days (whole monthly partitions on Postgres).

    The lineage graph derived from them stays; duplicates of pruned events are still recognised.
    """
    from datetime import UTC, datetime, timedelta

    from mllineage.collector.db.engine import make_engine
    from mllineage.collector.db.partitions import apply_retention

    settings = _settings(database_url)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with engine.begin() as conn:
            removed = apply_retention(conn, datetime.now(UTC) - timedelta(days=keep_days))
    finally:
        engine.dispose()
    click.echo(f"removed {removed} raw events older than {keep_days} days")


@db.command("upgrade")
@_DB_OPTION
def db_upgrade(database_url: str | None) -> None:
    """Apply all migrations (idempotent)."""
    settings = _settings(database_url)
    apply_migrations(settings)
    click.echo(f"database at {_redacted(settings)} is up to date")


def _redacted(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--batch-size", default=2000, show_default=True, help="Events per load transaction.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Report invalid lines and go on (default: stop at the first, storing the events before "
    "it).",
)
@click.option(
    "--migrate/--no-migrate", default=True, show_default=True, help="Upgrade the schema first."
)
@_DB_OPTION
def import_events(
    files: tuple[str, ...],
    batch_size: int,
    skip_invalid: bool,
    migrate: bool,
    database_url: str | None,
) -> None:
    """Bulk-import NDJSON files of OpenLineage events straight into the database (idempotent).

    Events are loaded into the raw log (COPY on PostgreSQL) while the projector builds the graph
    beside the load. Exit code 0: every line stored or a duplicate; 1: an invalid line stopped
    the import (or, with --skip-invalid, some lines were rejected)."""
    from pathlib import Path

    from mllineage.client.cli_progress import ImportDisplay
    from mllineage.collector.db.engine import make_engine
    from mllineage.collector.ingest.bulk import import_ndjson

    settings = _settings(database_url)
    if migrate:
        apply_migrations(settings)
    engine = make_engine(settings.database_url, pool_size=2)  # the loader and the projector
    failed = False
    try:
        for name in files:
            path = Path(name)
            with ImportDisplay(path.name, path.stat().st_size) as display:
                report = import_ndjson(
                    path,
                    engine,
                    batch_size=batch_size,
                    skip_invalid=skip_invalid,
                    on_loaded=display.loaded,
                    on_projected=display.projected,
                )
            for line, reason in report.rejected[:20]:
                click.echo(f"{name}:{line}: rejected: {reason}", err=True)
            if len(report.rejected) > 20:
                click.echo(
                    f"{name}: ... and {len(report.rejected) - 20} more rejected lines", err=True
                )
            click.echo(
                f"{name}: {report.read} events read, {report.stored} stored, "
                f"{report.duplicates} duplicates, {len(report.rejected)} rejected"
                f" in {report.seconds:.1f}s ({report.events_per_second:,.0f} events/s)"
            )
            click.echo(
                f"{name}: load {report.load_seconds:.1f}s ({report.load_rate:,.0f} events/s), "
                f"projection of {report.projected} events {report.projection_seconds:.1f}s "
                f"({report.projection_rate:,.0f} events/s)"
            )
            if report.stopped is not None:
                line, reason = report.stopped
                click.echo(
                    f"{name}:{line}: error: {reason}; stopped there: the {report.read} events "
                    "before it are imported, none after (fix the line and import again; what "
                    "is imported is skipped)",
                    err=True,
                )
                failed = True
                break
            failed = failed or bool(report.rejected)
    finally:
        engine.dispose()
    if failed:
        raise SystemExit(1)


@click.command()
@click.option(
    "--to",
    "to",
    required=True,
    help="Where to: an OpenLineage HTTP URL (events POSTed to <url>/api/v1/lineage) or an "
    'openlineage-python transport config as JSON, e.g. \'{"type": "file", "log_file_path": '
    '"events.ndjson", "append": true}\'.',
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
    help="Only events whose eventTime is at or after this time (UTC unless an offset is given).",
)
@click.option("--namespace", help="Only events of jobs in this namespace.")
@click.option("--retries", default=5, show_default=True, help="Retries of a send that fails.")
@_DB_OPTION
def replay(
    to: str, since: datetime | None, namespace: str | None, retries: int, database_url: str | None
) -> None:
    """Re-send stored events, in log order, to another OpenLineage backend (e.g. a new Marquez)."""
    from datetime import UTC

    from mllineage.collector.db.engine import make_engine
    from mllineage.collector.forward.replay import replay as replay_events
    from mllineage.collector.forward.targets import target_for_url_or_config

    settings = _settings(database_url)
    try:
        target = target_for_url_or_config(to)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from exc
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        report = replay_events(engine, target, since=since, namespace=namespace, retries=retries)
    finally:
        engine.dispose()
    for event_id, error in report.refused[:20]:
        click.echo(f"event {event_id}: refused by {target.describe()}: {error}", err=True)
    click.echo(
        f"{report.sent} events sent to {target.describe()}, {len(report.refused)} refused"
        f" in {report.seconds:.1f}s"
    )
    if report.aborted is not None:
        raise click.ClickException(f"replay stopped, the target is not answering: {report.aborted}")
    if report.refused:
        raise SystemExit(1)
