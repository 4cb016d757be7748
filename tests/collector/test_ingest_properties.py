"""Hypothesis properties of ingestion, on SQLite and PostgreSQL.

- Any valid generated event is accepted (201) and readable back.
- Any mutation of a valid event is accepted or refused with a 4xx, never a 5xx.
- A batch mixing good and bad items stores exactly the good ones.

Bounded and derandomised (a fixed number of examples each) so the suite stays fast and stable.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from tests.collector.events import PRODUCER, SCHEMA_URL, facet

LINEAGE, BATCH = "/api/v1/lineage", "/api/v1/lineage/batch"


def bounded(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# Text a producer may send: any character but U+0000 (refused: PostgreSQL cannot store it) and
# lone surrogates (not valid JSON text).
names = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=40
)
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | names
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=12,
)
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
event_times = st.builds(
    lambda when, zone: when.replace(tzinfo=UTC).astimezone(zone).isoformat(),
    st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1)),
    offsets,
)
custom_facets = st.dictionaries(
    names.map(lambda n: "x_" + n), json_value.map(lambda v: facet(value=v)), max_size=3
)
datasets = st.builds(
    lambda ns, name, facets: {"namespace": ns, "name": name, "facets": facets},
    names,
    names,
    custom_facets,
)


@st.composite
def run_events(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "eventType": draw(st.sampled_from(["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"])),
        "eventTime": draw(event_times),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))), "facets": draw(custom_facets)},
        "job": {"namespace": draw(names), "name": draw(names), "facets": draw(custom_facets)},
        "inputs": draw(st.lists(datasets, max_size=3)),
        "outputs": draw(st.lists(datasets, max_size=3)),
    }  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    """``event`` with one value somewhere replaced, removed, or added to (any JSON value,
    including extremes: deep nesting, huge numbers, U+0000, out-of-range times)."""
    extremes = st.sampled_from(
        ["", "\x00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "x" * 3000, 2**64, -(2**63), 1e308]
    ) | st.recursive(json_leaf, lambda inner: st.lists(inner, min_size=1, max_size=1), max_leaves=300)  # fmt: skip
    replacement = draw(json_value | extremes)
    path: list[Any] = []
    node: Any = event
    while isinstance(node, dict | list) and node and draw(st.integers(0, 3)) > 0:
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        path.append(key)
        node = node[key]
    if not path:
        return replacement
    parent = event
    for key in path[:-1]:
        parent = parent[key]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[path[-1]] = replacement
    elif action == "remove":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[draw(names)] = replacement
    else:
        parent.append(replacement)
    return event


def stored_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM lineage_events")).scalar_one())


def test_valid_events_are_accepted_and_readable_back(client: TestClient) -> None:
    @bounded(25)
    @given(event=run_events())
    def accepted(event: dict[str, Any]) -> None:
        response = client.post(LINEAGE, json=event)
        assert response.status_code == 201, response.text
        job = event["job"]
        read = client.get(
            f"/api/v1/namespaces/{quote(job['namespace'], safe='')}/jobs/{quote(job['name'], safe='')}"
        )
        assert read.status_code == 200, read.text
        assert read.json()["id"] == {"namespace": job["namespace"], "name": job["name"]}
        for item in event["inputs"] + event["outputs"]:
            path = f"/api/v1/namespaces/{quote(item['namespace'], safe='')}/datasets/{quote(item['name'], safe='')}"
            assert client.get(path).status_code == 200, path  # fmt: skip

    accepted()


def test_mutated_events_get_201_or_a_4xx_never_a_5xx(client: TestClient) -> None:
    @bounded(60)
    @given(data=st.data())
    def never_5xx(data: st.DataObject) -> None:
        body = data.draw(mutated(data.draw(run_events())))
        response = client.post(LINEAGE, json=body)
        assert response.status_code == 201 or 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"] == "application/json"

    never_5xx()


def test_a_batch_stores_exactly_its_good_items(client: TestClient, engine: Engine) -> None:
    bad_items = st.sampled_from(
        [
            {"not": "an event"},
            [],
            "text",
            {"eventTime": "yesterday", "producer": PRODUCER, "run": {"runId": "r"}, "job": {"namespace": "n", "name": "j"}},
            {"eventTime": "0001-01-01T00:00:00+01:00", "producer": PRODUCER, "run": {"runId": "r"}, "job": {"namespace": "n", "name": "j"}},
            {"eventTime": "2024-01-01T00:00:00Z", "producer": PRODUCER, "run": {"runId": "r" * 300}, "job": {"namespace": "n", "name": "j"}},
            {"eventTime": "2024-01-01T00:00:00Z", "producer": PRODUCER, "run": {"runId": "r", "facets": {"x": {"v": {"a": [[[[[]]]]] * 1}}}}, "job": {"namespace": "\x00", "name": "j"}},
        ]
    )  # fmt: skip

    @bounded(10)
    @given(
        items=st.lists(st.tuples(st.booleans(), run_events(), bad_items), min_size=1, max_size=6)
    )
    def exactly_the_good(items: list[tuple[bool, dict[str, Any], Any]]) -> None:
        before = stored_events(engine)
        for _, good, _ in items:  # a fresh run id: no good item repeats an earlier example's
            good["run"]["runId"] = str(uuid.uuid4())
        batch = [good if is_good else bad for is_good, good, bad in items]
        response = client.post(BATCH, json=batch)
        assert response.status_code == 200, response.text
        failed = {f["index"] for f in response.json()["failed_events"]}
        assert failed == {i for i, (is_good, _, _) in enumerate(items) if not is_good}
        assert stored_events(engine) - before == len(batch) - len(failed)

    exactly_the_good()
