"""The quality question from Python and the CLI, against a live collector."""

from __future__ import annotations

from mllineage.client import LineageClient
from tests.client.test_cli import run, table
from tests.queries import test_quality as scenario


def test_models_on_failing_data_from_the_client_and_the_cli(server_url: str) -> None:
    with LineageClient(server_url) as client:
        client.post_events(scenario.events())
        rows = client.get_models_with_failing_checks(as_frame=False)
    assert [(r["node_id"], r["checked_node_id"], r["depth"]) for r in rows] == [
        (scenario.node(scenario.FRAUD), scenario.node(scenario.PAYMENTS), 2),
        (scenario.node(scenario.LTV), scenario.node(scenario.CUSTOMERS), 2),
        (scenario.node(scenario.ENDPOINT), scenario.node(scenario.CUSTOMERS), 4),
    ]
    lines = table(run("quality", "--status", "warning", "--kinds", "model", url=server_url))
    assert lines[0].split() == ["KIND", "NODE", "CHECKED", "STATUS", "FAILING", "DEPTH", "PATH"]
    assert [line.split()[3:5] for line in lines[1:]] == [
        ["failed", "distinct_check(payment_id)"],
        ["failed", "not_null_customers_email(email),"],
        ["warning", "assert_positive_amount"],
    ]
