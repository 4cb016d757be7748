"""The ``mllineage`` command line: one click group; each command family lives in its own module.

Server-side commands (``serve``, ``db``, ``import``) need the ``collector`` extra and import it
lazily, so ``pip install mllineage`` alone still gives a working CLI for the read commands.
"""

from __future__ import annotations

import click

from mllineage.client import cli_server


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mllineage")
def main() -> None:
    """mllineage: OpenLineage lineage for machine learning."""


cli_server.register(main)

try:  # the read commands arrive with the query client
    from mllineage.client import cli_queries
except ImportError:  # pragma: no cover - only while the query client is absent
    pass
else:
    cli_queries.register(main)

from mllineage.client import cli_sync  # noqa: E402 - after the group it extends

cli_sync.register(main)
