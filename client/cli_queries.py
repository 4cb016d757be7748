"""Read commands: ask a running collector the lineage questions, load the demo, export events.

Every command talks HTTP to ``--url`` (else env ``MLLINEAGE_URL``, else ``OPENLINEAGE_URL``, else
http://127.0.0.1:5000) with
``--api-key`` (env ``MLLINEAGE_API_KEY``), prints an aligned table (evidence paths shortened to
names, ``>`` between hops) or, with ``--json``, the server's full answer.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import click

from mllineage.client.cli_progress import progress_bar
from mllineage.client.lineage_client import (
    DEFAULT_URL,
    URL_ENVVARS,
    LineageClient,
    LineageClientError,
)

F = TypeVar("F", bound=Callable[..., Any])


def register(group: click.Group) -> None:
    for command in (
        lineage,
        sources,
        feature_groups,
        models,
        model_lineage,
        impact,
        tagged,
        quality,
        audit,
        feature_lineage,
        export,
        demo,
    ):
        group.add_command(command)


# -- shared options and output -----------------------------------------------------------------


def _server_options(func: F) -> F:
    func = click.option(
        "--json", "as_json", is_flag=True, help="Print the full JSON answer (rows, graph)."
    )(func)
    func = click.option(
        "--api-key", envvar="MLLINEAGE_API_KEY", default=None, help="Bearer API key."
    )(func)
    return _url_option(func)


def _url_option(func: F) -> F:
    return click.option(
        "--url",
        envvar=list(URL_ENVVARS),
        default=DEFAULT_URL,
        show_default=True,
        help="Collector base URL (else env MLLINEAGE_URL, else OPENLINEAGE_URL).",
    )(func)


def _walk_options(func: F) -> F:
    func = click.option(
        "--as-of", default=None, help="Answer on the graph as it stood then (ISO 8601)."
    )(func)
    return click.option("--depth", default=20, show_default=True, help="Hops to walk.")(func)


def _page_options(func: F) -> F:
    func = click.option(
        "--offset", default=0, show_default=True, help="Rows to skip (the next page)."
    )(func)
    return click.option(
        "--limit", default=1000, show_default=True, help="Rows to show (one page)."
    )(func)


_SCOPE = click.option(
    "--scope",
    type=click.Choice(["current", "graph", "versions"]),
    default="current",
    show_default=True,
    help="current: today's graph (or --as-of; 'graph' is its old name); versions: every model "
    "version and deployment ever built.",
)


def _ask(url: str, api_key: str | None, path: str, **params: Any) -> dict[str, Any]:
    with LineageClient(url, api_key) as client:
        try:
            return client.query(path, **_clean(params))
        except LineageClientError as exc:
            raise click.ClickException(str(exc)) from exc


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _emit(
    body: dict[str, Any],
    as_json: bool,
    columns: Sequence[tuple[str, str]],
    empty: str,
    *,
    offset: int = 0,
) -> None:
    if as_json:
        click.echo(json.dumps(body, indent=2, default=str))
        return
    rows = body["rows"]
    if not rows:
        click.echo(empty)
    else:
        click.echo(format_table(rows, columns))
    if body.get("truncated"):
        click.echo("(truncated: the node cap was reached; raise --max-nodes or lower --depth)")
    total = body.get("total_count")
    if rows and total is not None and offset + len(rows) < total:
        click.echo(
            f"(rows {offset + 1:,}-{offset + len(rows):,} of {total:,}; "
            f"--offset {offset + len(rows)} for the next page)"
        )


def format_table(rows: list[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Plain aligned text: one header line, one line per row."""
    cells = [[_cell(key, row.get(key)) for _, key in columns] for row in rows]
    headers = [header for header, _ in columns]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "path":
        return " > ".join(short_name(node) for node in value)
    if key == "endpoints":
        return ", ".join(f"{e['name']} (v{e['model_version']})" for e in value) or "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def short_name(node_id: str) -> str:
    """A readable label for a node id in a path (display only)."""
    if node_id.startswith("run:"):
        return "run:" + node_id[4:12]
    if node_id.startswith("datasetField:"):
        return ".".join(node_id.rsplit(":", 2)[-2:])
    return node_id.rsplit(":", 1)[-1]


# -- the questions -----------------------------------------------------------------------------


@click.command()
@click.argument("node")
@click.option(
    "--direction",
    type=click.Choice(["upstream", "downstream", "both"]),
    default="both",
    show_default=True,
)
@click.option("--kinds", default=None, help="Only these kinds, e.g. model,endpoint.")
@_SCOPE
@_walk_options
@_server_options
def lineage(
    node: str,
    direction: str,
    kinds: str | None,
    depth: int,
    as_of: str | None,
    scope: str,
    url: str,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Everything upstream/downstream of NODE (dataset:<ns>:<name>, job:…, run:<uuid>)."""
    body = _ask(
        url,
        api_key,
        "/api/v1/ml/lineage",
        nodeId=node,
        direction=direction,
        kinds=kinds,
        depth=depth,
        asOf=as_of,
        scope=scope,
    )
    columns = [
        ("DIR", "direction"),
        ("DEPTH", "depth"),
        ("KIND", "kind"),
        ("NODE", "node_id"),
        ("RUN", "run_id"),
        ("PATH", "path"),
    ]
    _emit(body, as_json, columns, "no lineage found")


@click.command()
@click.argument("node")
@_SCOPE
@_walk_options
@_server_options
def sources(
    node: str,
    depth: int,
    as_of: str | None,
    scope: str,
    url: str,
    api_key: str | None,
    as_json: bool,
) -> None:
    """The raw data sources NODE (a feature group, a model…) is built from."""
    body = _ask(
        url, api_key, "/api/v1/ml/sources", nodeId=node, depth=depth, asOf=as_of, scope=scope
    )
    columns = [("DEPTH", "depth"), ("KIND", "kind"), ("SOURCE", "node_id"), ("PATH", "path")]
    _emit(body, as_json, columns, "no raw sources upstream")


@click.command("feature-groups")
@click.argument("node")
@click.option(
    "--direction",
    type=click.Choice(["upstream", "downstream", "both"]),
    default="both",
    show_default=True,
    help="downstream: built from NODE; upstream: NODE depends on them.",
)
@_SCOPE
@_walk_options
@_server_options
def feature_groups(
    node: str,
    direction: str,
    depth: int,
    as_of: str | None,
    scope: str,
    url: str,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Feature groups built from NODE (a source) or that NODE (a model) depends on."""
    body = _ask(
        url,
        api_key,
        "/api/v1/ml/feature-groups",
        nodeId=node,
        direction=direction,
        depth=depth,
        asOf=as_of,
        scope=scope,
    )
    columns = [
        ("DIR", "direction"),
        ("DEPTH", "depth"),
        ("FEATURE GROUP", "feature_group"),
        ("FEATURES", "features"),
        ("OWNERS", "owners"),
        ("PATH", "path"),
    ]
    _emit(body, as_json, columns, "no feature groups found")


@click.command()
@click.argument("node")
@_SCOPE
@_walk_options
@_server_options
def models(
    node: str,
    depth: int,
    as_of: str | None,
    scope: str,
    url: str,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Models (with versions) downstream of NODE and the endpoints serving them."""
    body = _ask(
        url, api_key, "/api/v1/ml/models", nodeId=node, depth=depth, asOf=as_of, scope=scope
    )
    columns = [
        ("MODEL", "model_name"),
        ("VERSION", "current_version"),
        ("ALL VERSIONS", "versions"),
        ("ENDPOINTS", "endpoints"),
        ("TRAINED BY RUN", "run_id"),
        ("UNTIL", "until"),
        ("PATH", "path"),
    ]
    _emit(body, as_json, columns, "no models downstream")


@click.command("model-lineage")
@click.argument("node")
@click.option("--version", default=None, help="Model version (default: newest).")
@click.option("--depth", default=20, show_default=True, help="Hops to walk.")
@_server_options
def model_lineage(
    node: str, version: str | None, depth: int, url: str, api_key: str | None, as_json: bool
) -> None:
    """The whole chain of one model version, source to endpoint, pinned to exact versions."""
    body = _ask(url, api_key, "/api/v1/ml/model-lineage", nodeId=node, version=version, depth=depth)
    columns = [
        ("DIR", "direction"),
        ("DEPTH", "depth"),
        ("KIND", "kind"),
        ("NODE", "node_id"),
        ("JOB", "job_node_id"),
        ("STATE", "run_state"),
    ]
    _emit(body, as_json, columns, "no lineage recorded")


@click.command()
@click.argument("node")
@click.option("--kinds", default=None, help="Only these kinds, e.g. model,endpoint.")
@_SCOPE
@_walk_options
@_page_options
@_server_options
def impact(
    node: str,
    kinds: str | None,
    depth: int,
    as_of: str | None,
    scope: str,
    limit: int,
    offset: int,
    url: str,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Everything downstream of NODE, grouped by kind, with owners and last run."""
    body = _ask(
        url,
        api_key,
        "/api/v1/ml/impact",
        nodeId=node,
        kinds=kinds,
        depth=depth,
        asOf=as_of,
        scope=scope,
        limit=limit,
        offset=offset,
    )
    columns = [
        ("KIND", "kind"),
        ("DEPTH", "depth"),
        ("NODE", "node_id"),
        ("OWNERS", "owners"),
        ("LAST RUN", "last_run_id"),
        ("STATE", "last_run_state"),
        ("AT", "last_run_at"),
        ("UNTIL", "until"),
    ]
    _emit(body, as_json, columns, "nothing downstream", offset=offset)


@click.command()
@click.option(
    "--status",
    type=click.Choice(["failed", "warning"]),
    default="failed",
    show_default=True,
    help="failed: failing checks; warning: failing or warning checks.",
)
@_SCOPE
@click.option("--kinds", default=None, help="Default: model,endpoint.")
@click.option("--depth", default=50, show_default=True, help="Hops to walk.")
@click.option("--as-of", default=None, help="Answer on the graph as it stood then (ISO 8601).")
@_page_options
@_server_options
def quality(
    status: str,
    scope: str,
    kinds: str | None,
    depth: int,
    as_of: str | None,
    limit: int,
    offset: int,
    url: str,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Models and endpoints downstream of datasets whose latest quality checks fail."""
    body = _ask(
        url,
        api_key,
        "/api/v1/ml/governance/quality",
        status=status,
        scope=scope,
        kinds=kinds,
        depth=depth,
        asOf=as_of,
        limit=limit,
        offset=offset,
    )
    for row in body["rows"]:
        row["failing"] = [
            f"{a['assertion']}({a['column']})" if a["column"] else a["assertion"]
            for a in row["failing_assertions"]
        ]
    columns = [
        ("KIND", "kind"),
        ("NODE", "node_id"),
        ("CHECKED", "checked_node_id"),
        ("STATUS", "status"),
        ("FAILING", "failing"),
        ("DEPTH", "depth"),
        ("PATH", "path"),
    ]
    _emit(body, as_json, columns, f"no model or endpoint consumes {status} data", offset=offset)


@click.command()
@click.argument("tag", default="pii")
@_SCOPE
@click.option("--kinds", default=None, help="Default: model,endpoint.")
@click.option("--depth", default=50, show_default=True, help="Hops to walk.")
@click.option("--as-of", default=None, help="Answer on the graph as it stood then (ISO 8601).")
@_page_options
@_server_options
def tagged(
    tag: str,
    scope: str,
    kinds: str | None,
    depth: int,
    as_of: str | None,
    limit: int,
    offset: int,
    url: str,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Models and endpoints with data tagged TAG (key or key:value, default pii) upstream."""
    body = _ask(
        url,
        api_key,
        "/api/v1/ml/governance/tagged",
        tag=tag,
        scope=scope,
        kinds=kinds,
        depth=depth,
        asOf=as_of,
        limit=limit,
        offset=offset,
    )
    columns = [
        ("KIND", "kind"),
        ("NODE", "node_id"),
        ("TAGGED SOURCE", "tagged_node_id"),
        ("FIELDS", "tagged_fields"),
        ("EVIDENCE", "evidence"),
        ("DEPTH", "depth"),
        ("PATH", "path"),
    ]
    _emit(body, as_json, columns, f"no model or endpoint has {tag!r} data upstream", offset=offset)


@click.command()
@click.argument("node")
@click.option("--version", default=None, help="Model version (default: #version or newest).")
@_server_options
def audit(node: str, version: str | None, url: str, api_key: str | None, as_json: bool) -> None:
    """The audit record of a model version: run, inputs, code, parameters, metrics, events."""
    body = _ask(url, api_key, "/api/v1/ml/audit", nodeId=node, version=version)
    if as_json:
        click.echo(json.dumps(body, indent=2, default=str))
        return
    [record] = body["rows"]
    fields = [
        ("version", record["node_id"]),
        ("created", record["created_at"]),
        ("run", f"{record['run_id']} ({record['run_state']})"),
        ("job", record["job_node_id"]),
        ("started / ended", f"{record['started_at']} / {record['ended_at']}"),
        ("code", _cell("code", record["code_location"])),
        ("parameters", _cell("parameters", record["parameters"])),
        ("metrics", _cell("metrics", record["metrics"])),
        ("owners", _cell("owners", record["owners"])),
        ("raw events", str(len(record["events"]))),
    ]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        click.echo(f"{key.ljust(width)}  {value}")
    click.echo("inputs:")
    click.echo(
        format_table(
            record["inputs"],
            [
                ("KIND", "kind"),
                ("DATASET", "node_id"),
                ("CREATED", "created_at"),
                ("PRODUCED BY", "producing_run_id"),
            ],
        )
    )


@click.command("feature-lineage")
@click.argument("field_node")
@_walk_options
@_server_options
def feature_lineage(
    field_node: str, depth: int, as_of: str | None, url: str, api_key: str | None, as_json: bool
) -> None:
    """Source columns behind a feature (datasetField:<ns>:<dataset>:<field>) and its models."""
    body = _ask(
        url, api_key, "/api/v1/ml/feature-lineage", nodeId=field_node, depth=depth, asOf=as_of
    )
    columns = [
        ("ROLE", "role"),
        ("DEPTH", "depth"),
        ("KIND", "kind"),
        ("NODE", "node_id"),
        ("EVIDENCE", "evidence"),
        ("PATH", "path"),
    ]
    _emit(body, as_json, columns, "no column lineage recorded")


# -- export and demo ---------------------------------------------------------------------------


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    show_default=True,
    help="NDJSON file (- for stdout).",
)
@click.option(
    "--database-url",
    default=None,
    help="Read the events straight from this database instead of over HTTP.",
)
@click.option("--page-size", default=500, show_default=True, help="Events per HTTP page.")
@_url_option
@click.option("--api-key", envvar="MLLINEAGE_API_KEY", default=None)
def export(
    output: str, database_url: str | None, page_size: int, url: str, api_key: str | None
) -> None:
    """Write every stored raw OpenLineage event as NDJSON, oldest first."""
    stream = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
    count = 0
    try:
        with progress_bar(None, "exporting events") as advance:
            for event in _events(database_url, url, api_key, page_size):
                stream.write(json.dumps(event, separators=(",", ":"), sort_keys=True) + "\n")
                count += 1
                advance(1)
    finally:
        if stream is not sys.stdout:
            stream.close()
    click.echo(f"exported {count} events", err=True)


def _events(database_url: str | None, url: str, api_key: str | None, page_size: int) -> Any:
    if database_url is None:
        with LineageClient(url, api_key) as client:
            try:
                yield from client.iter_events(page_size=page_size)
            except LineageClientError as exc:
                raise click.ClickException(str(exc)) from exc
        return
    try:
        from mllineage.collector.db.engine import make_engine
        from mllineage.collector.queries.events import iter_events
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise click.ClickException(
            "--database-url needs the collector: pip install 'mllineage[collector]'"
        ) from exc
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            yield from iter_events(conn)
    finally:
        engine.dispose()


@click.command()
@_url_option
@click.option("--api-key", envvar="MLLINEAGE_API_KEY", default=None)
def demo(url: str, api_key: str | None) -> None:
    """Load a realistic ML workflow into the collector at --url (idempotent)."""
    from mllineage.client.demo import BEFORE_RETRAINING, NODES, demo_events

    events = demo_events()
    with LineageClient(url, api_key) as client:
        try:
            client.post_events(events)
        except LineageClientError as exc:
            raise click.ClickException(str(exc)) from exc
    as_of = BEFORE_RETRAINING.isoformat().replace("+00:00", "Z")
    click.echo(f"loaded {len(events)} OpenLineage events into {url}.")
    click.echo(
        f"Explore it in the browser: {url.rstrip('/')}/ui/lineage?nodeId={quote(NODES['model'])}"
    )
    click.echo("Or ask from the command line:")
    for line in (
        f"mllineage sources '{NODES['feature_group']}'",
        f"mllineage feature-groups '{NODES['model']}' --direction upstream",
        f"mllineage models '{NODES['feature_group']}' --as-of {as_of}",
        f"mllineage model-lineage '{NODES['model']}' --version 1",
        f"mllineage impact '{NODES['source']}'",
        "mllineage tagged pii --scope versions",
        f"mllineage tagged pii --as-of {as_of}",
        f"mllineage audit '{NODES['model_v1']}'",
        f"mllineage feature-lineage '{NODES['feature']}' --as-of {as_of}",
        f"mllineage lineage '{NODES['hive_table']}' --direction downstream",
    ):
        click.echo(f"  {line}")
