"""Column-precise governance: a tagged column reaches only what the producers' column lineage
derives from it, and every ``tagged`` row says which evidence it rests on. Hand-worked answers on
the example's graph, the reference graph (current, ``asOf``, versions), a symlinked dataset, a
cycle and an inferred edge; both databases."""

from __future__ import annotations

import copy
import importlib.util
import itertools
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openlineage.client import OpenLineageClient
from pydantic import TypeAdapter

from mllineage.collector.schemas.lineage import PagedAnswer
from mllineage.collector.schemas.ml import TaggedRow
from mllineage.emitter import Emitter
from tests.collector import orchestration as dag
from tests.collector.events import dataset, facet, run_event
from tests.emitter.conftest import MemoryTransport
from tests.queries import reference_graph as ref_graph
from tests.queries.conftest import ingest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_churn_model.py"
CHURN = "churn-example"
CRM = "dataset:postgres://crm-db:5432:crm.public.customers"
CLAIMS_RAW = "dataset:s3://acme-raw:claims/claims.csv"
CUSTOMERS_FG = "dataset:s3://acme-features:offline/customers"
CLAIMS_FG = "dataset:s3://acme-features:offline/claims"
TRAINING_SET = "dataset:s3://acme-ml:churn/training_set.parquet"
MODEL = "dataset:mlflow://mlflow.acme.internal:5000:churn_classifier"
ENDPOINT = "dataset:https://ml.acme.internal:churn-prod"
FEATURES_JOB = f"job:{CHURN}:churn.features"
QUERY_JOB = f"job:{CHURN}:churn.training_set"
TRAIN_JOB = f"job:{CHURN}:churn.train"
DEPLOY_JOB = f"job:{CHURN}:churn.deploy"
ALL_KINDS = "dataset,feature_group,model,endpoint"


def ask(client: TestClient, **params: Any) -> dict[str, Any]:
    """``GET /ml/governance/tagged`` through HTTP; the body must be a valid paged answer whose
    every path runs along the returned graph's edges."""
    response = client.get("/api/v1/ml/governance/tagged", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    TypeAdapter(PagedAnswer[TaggedRow]).validate_python(body)
    edges = {(e["origin"], e["destination"]) for e in body["graph"]["edges"]}
    for row in body["rows"]:
        assert all(pair in edges for pair in itertools.pairwise(row["path"])), row["path"]
    return body


def rows(body: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """(node, tagged node, evidence, depth) of each row, in answer order."""
    return [(r["node_id"], r["tagged_node_id"], r["evidence"], r["depth"]) for r in body["rows"]]


def paths(body: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    return {(r["node_id"], r["tagged_node_id"]): r["path"] for r in body["rows"]}


# -- the example's graph ----------------------------------------------------------------------


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_churn_model", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example_events() -> list[dict[str, Any]]:
    """The events ``examples/train_churn_model.py`` emits (200 generated customers)."""
    memory = MemoryTransport()
    example = _example()
    emitter = Emitter(OpenLineageClient(transport=memory), namespace=CHURN, source_code=False)
    example.run_pipeline(emitter, 200, "1", 7)
    return memory.events


def _output(events: list[dict[str, Any]], job: str) -> dict[str, Any]:
    [complete] = [e for e in events if e["job"]["name"] == job and e["eventType"] == "COMPLETE"]
    [output] = complete["outputs"]
    assert isinstance(output, dict)
    return output


def _tags(*fields: str) -> dict[str, Any]:
    return facet(tags=[{"key": "pii", "value": "true", "field": f} for f in fields])


def _lineage(**fields: list[tuple[tuple[str, str], str]]) -> dict[str, Any]:
    return facet(
        fields={
            out: {
                "inputFields": [
                    {"namespace": key[0], "name": key[1], "field": name} for key, name in sources
                ]
            }
            for out, sources in fields.items()
        }
    )


def _id(key: tuple[str, str]) -> str:
    return f"dataset:{key[0]}:{key[1]}"


def test_example_email_reaches_only_the_customers_group(
    client: TestClient, example_events: list[dict[str, Any]]
) -> None:
    # churn.features reads the CRM customers (email: pii) and the claims export and writes both
    # feature groups; its column lineage derives offline/customers.email from the CRM email and
    # nothing of offline/claims from it. The training set keeps no email column (the example's
    # query drops it), so no model or endpoint is built on PII at all.
    ingest(client, example_events)
    body = ask(client, tag="pii", kinds=ALL_KINDS)
    assert rows(body) == [
        (CRM, CRM, "column", 0),
        (CUSTOMERS_FG, CUSTOMERS_FG, "column", 0),  # the group's own email is tagged too
        (CUSTOMERS_FG, CRM, "column", 2),
    ]
    assert paths(body)[(CUSTOMERS_FG, CRM)] == [CRM, FEATURES_JOB, CUSTOMERS_FG]
    assert {r["tagged_fields"][0] for r in body["rows"]} == {"email"}
    assert ask(client, tag="pii")["rows"] == []  # models and endpoints: none


def _keeping_email(events: list[dict[str, Any]], *, model_lineage: bool) -> list[dict[str, Any]]:
    """The example's events with a training set that keeps ``email`` (column lineage
    ``email <- offline/customers.email``) and, with ``model_lineage``, a model that declares
    its own column lineage: each model feature (email among them) <- the training-set column."""
    events = copy.deepcopy(events)
    training_set = _output(events, "churn.training_set")
    customers = ("s3://acme-features", "offline/customers")
    lineage = training_set["facets"]["columnLineage"]["fields"]
    lineage["email"] = {
        "inputFields": [{"namespace": customers[0], "name": customers[1], "field": "email"}]
    }
    if model_lineage:
        model = _output(events, "churn.train")
        ts = (training_set["namespace"], training_set["name"])
        model["facets"]["columnLineage"] = _lineage(
            **{f: [(ts, f)] for f in ["email", "age", "claim_count"]}
        )
    return events


def test_a_training_set_keeping_email_reaches_the_model_through_customers_only(
    client: TestClient, example_events: list[dict[str, Any]]
) -> None:
    # The model declares no column lineage: the training job reads email, so the model is
    # reached, at job level, through the customers group; never through the claims group.
    ingest(client, _keeping_email(example_events, model_lineage=False))
    body = ask(client, tag="pii", kinds=ALL_KINDS)
    assert rows(body) == [
        (ENDPOINT, CUSTOMERS_FG, "job", 6),
        (ENDPOINT, CRM, "job", 8),
        (MODEL, CUSTOMERS_FG, "job", 4),
        (MODEL, CRM, "job", 6),
        (CRM, CRM, "column", 0),
        (CUSTOMERS_FG, CUSTOMERS_FG, "column", 0),
        (CUSTOMERS_FG, CRM, "column", 2),
        (TRAINING_SET, CUSTOMERS_FG, "column", 2),
        (TRAINING_SET, CRM, "column", 4),
    ]
    assert paths(body)[(MODEL, CRM)] == [
        CRM, FEATURES_JOB, CUSTOMERS_FG, QUERY_JOB, TRAINING_SET, TRAIN_JOB, MODEL
    ]  # fmt: skip
    assert all(CLAIMS_FG not in r["path"] for r in body["rows"])


def test_a_model_declaring_column_lineage_is_reached_on_column_evidence(
    client: TestClient, example_events: list[dict[str, Any]]
) -> None:
    # The model also says which training-set columns it was built from (email among them):
    # the model's rows rest on column evidence; the endpoint (deployment declares no column
    # lineage) on job evidence.
    ingest(client, _keeping_email(example_events, model_lineage=True))
    body = ask(client, tag="pii")
    assert rows(body) == [
        (ENDPOINT, CUSTOMERS_FG, "job", 6),
        (ENDPOINT, CRM, "job", 8),
        (MODEL, CUSTOMERS_FG, "column", 4),
        (MODEL, CRM, "column", 6),
    ]
    assert paths(body)[(MODEL, CRM)] == [
        CRM, FEATURES_JOB, CUSTOMERS_FG, QUERY_JOB, TRAINING_SET, TRAIN_JOB, MODEL
    ]  # fmt: skip
    assert paths(body)[(ENDPOINT, CRM)][-2:] == [DEPLOY_JOB, ENDPOINT]
    assert all(CLAIMS_FG not in r["path"] for r in body["rows"])


# -- the reference graph ------------------------------------------------------------------------

S1, S3 = _id(ref_graph.S1), _id(ref_graph.S3)
FG_C, FG_A = _id(ref_graph.FG_C), _id(ref_graph.FG_A)
TS, REF_MODEL = _id(ref_graph.TS), _id(ref_graph.MODEL)
REF_ENDPOINT, PRED = _id(ref_graph.ENDPOINT), _id(ref_graph.PRED)
FP_CUSTOMERS = ref_graph.job_id("fp_customers")
TRAINSET = ref_graph.job_id("trainset")


def test_reference_graph_today(ref: TestClient) -> None:
    # S1.email -> FG_C.email_domain -> TS.email_domain: column evidence all the way. Today's
    # train run reads FG_A only, so no model; FG_A derives nothing from S1 (nor reads it).
    body = ask(ref, tag="pii", kinds=ALL_KINDS)
    assert rows(body) == [
        (FG_C, S1, "column", 2),
        (S1, S1, "column", 0),
        (TS, S1, "column", 4),
    ]
    assert paths(body)[(TS, S1)] == [S1, FP_CUSTOMERS, FG_C, TRAINSET, TS]
    # A dataset-level tag (gdpr on S3, read under its Hive name) propagates at job level.
    gdpr = ask(ref, tag="gdpr")
    assert rows(gdpr) == [(REF_MODEL, S3, "job", 4), (REF_ENDPOINT, S3, "job", 6)]


def test_reference_graph_as_of_before_retraining(ref: TestClient) -> None:
    # At t15 the train job's current run is run 1 (reads TS): the model and what is downstream
    # of it are reached at job level (the model declares no column lineage); TS on columns.
    body = ask(ref, tag="pii", kinds=ALL_KINDS, asOf="2024-05-01T12:15:00Z")
    assert rows(body) == [
        (FG_C, S1, "column", 2),
        (REF_MODEL, S1, "job", 6),
        (S1, S1, "column", 0),
        (PRED, S1, "job", 10),
        (TS, S1, "column", 4),
        (REF_ENDPOINT, S1, "job", 8),
    ]
    assert paths(body)[(REF_MODEL, S1)][:5] == [S1, FP_CUSTOMERS, FG_C, TRAINSET, TS]


def test_reference_graph_over_all_versions(ref: TestClient) -> None:
    # Versions: each version's own columnLineage facet. FG_C's and TS's versions on columns;
    # model v1 and all after it (v2 through the feedback loop) on job evidence.
    body = ask(ref, tag="pii", kinds=ALL_KINDS, scope="versions")
    found = {(r["node_id"].split("#")[0], r["evidence"], r["depth"]) for r in body["rows"]}
    assert found == {
        (FG_A, "job", 12),
        (FG_C, "column", 2),
        (REF_MODEL, "job", 6),
        (REF_MODEL, "job", 14),
        (S1, "column", 0),
        (PRED, "job", 10),
        (TS, "column", 4),
        (REF_ENDPOINT, "job", 8),
    }
    [v1] = [r for r in body["rows"] if r["node_id"] == ref_graph.dataset_id(ref_graph.MODEL, "1")]
    assert [step.split("#")[0] for step in v1["path"][:5:2]] == [S1, FG_C, TS]


# -- small graphs: a symlinked dataset, a cycle, an inferred edge ------------------------------

LAKE = ("s3://lake", "raw/users")
TABLE = ("hive://metastore:9083", "db.users")
CONTACTS, GEO, AUDIT = ("pg://w", "contacts"), ("pg://w", "geo"), ("pg://w", "audit")
M_CONTACT, M_GEO, M_AUDIT = (
    ("mlflow://m", "contact"),
    ("mlflow://m", "geo"),
    ("mlflow://m", "audit"),
)


def _run(name: str, minutes: float, inputs: list[Any], outputs: list[Any]) -> list[Any]:
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://mllineage.dev/tests/{name}"))
    job = ("jobs", name)
    return [
        run_event("START", minutes, run_id=run_id, job=job, inputs=inputs),
        run_event("COMPLETE", minutes + 1, run_id=run_id, job=job, inputs=inputs, outputs=outputs),
    ]


def _model(key: tuple[str, str], **facets: Any) -> dict[str, Any]:
    return dataset(*key, datasetType=facet(datasetType="MODEL"), **facets)


def test_a_symlinked_dataset_tagged_under_one_name_read_under_another(
    client: TestClient,
) -> None:
    # The lake path declares the Hive table as its symlink and is tagged (email, phone); ``split``
    # reads the Hive table and names it in its column lineage: contacts.contact <- email,
    # geo.country <- country, audit has no column lineage. One model per output.
    lake = dataset(
        *LAKE,
        symlinks=facet(identifiers=[{"namespace": TABLE[0], "name": TABLE[1], "type": "TABLE"}]),
        tags=_tags("email", "phone"),
    )
    contacts = dataset(*CONTACTS, columnLineage=_lineage(contact=[(TABLE, "email")]))
    geo = dataset(*GEO, columnLineage=_lineage(country=[(TABLE, "country")]))
    events = [
        *_run("land", 0, [], [lake]),
        *_run("split", 2, [dataset(*TABLE)], [contacts, geo, dataset(*AUDIT)]),
        *_run("fit_contact", 4, [dataset(*CONTACTS)], [
            _model(M_CONTACT, columnLineage=_lineage(score=[(CONTACTS, "contact")]))
        ]),
        *_run("fit_geo", 4, [dataset(*GEO)], [
            _model(M_GEO, columnLineage=_lineage(score=[(GEO, "country")]))
        ]),
        *_run("fit_audit", 4, [dataset(*AUDIT)], [_model(M_AUDIT)]),
    ]  # fmt: skip
    ingest(client, events)
    body = ask(client, tag="pii", kinds=ALL_KINDS)
    assert rows(body) == [
        (_id(M_AUDIT), _id(LAKE), "job", 4),
        (_id(M_CONTACT), _id(LAKE), "column", 4),
        (_id(AUDIT), _id(LAKE), "job", 2),
        (_id(CONTACTS), _id(LAKE), "column", 2),
        (_id(LAKE), _id(LAKE), "column", 0),
    ]
    # phone is tagged too, but only the job-level output (audit) is reached through it.
    assert {r["node_id"]: r["tagged_fields"] for r in body["rows"]} == {
        _id(M_AUDIT): ["email", "phone"],
        _id(M_CONTACT): ["email"],
        _id(AUDIT): ["email", "phone"],
        _id(CONTACTS): ["email"],
        _id(LAKE): ["email", "phone"],
    }
    assert paths(body)[(_id(M_CONTACT), _id(LAKE))] == [
        _id(LAKE), "job:jobs:split", _id(CONTACTS), "job:jobs:fit_contact", _id(M_CONTACT)
    ]  # fmt: skip
    # As of before the models were trained (t3.5): the same column evidence, read as of then.
    early = ask(client, tag="pii", kinds=ALL_KINDS, asOf="2024-05-01T12:03:30Z")
    assert rows(early) == [
        (_id(AUDIT), _id(LAKE), "job", 2),
        (_id(CONTACTS), _id(LAKE), "column", 2),
        (_id(LAKE), _id(LAKE), "column", 0),
    ]


def test_a_cycle_is_followed_column_by_column(client: TestClient) -> None:
    # loop: a -> j1 -> b -> j2 -> a, and j2 also writes the model. a.x (pii) -> b.y -> a.w ->
    # b.z -> model.m: the model is reached on columns only on the second time round (8 hops);
    # other -> j1 -> b.v: nothing of x, so b.v never carries it.
    a, b = ("pg://c", "a"), ("pg://c", "b")
    first_a = dataset(*a, tags=_tags("x"))
    b_out = dataset(*b, columnLineage=_lineage(y=[(a, "x")], z=[(a, "w")], v=[(a, "k")]))
    a_out = dataset(*a, columnLineage=_lineage(w=[(b, "y")], k=[(b, "v")]))
    model = _model(("mlflow://c", "m"), columnLineage=_lineage(m=[(b, "z")]))
    other = _model(("mlflow://c", "other"), columnLineage=_lineage(o=[(b, "v")]))
    ingest(
        client,
        [
            *_run("seed", 0, [], [first_a]),
            *_run("j1", 2, [dataset(*a)], [b_out]),
            *_run("j2", 4, [dataset(*b)], [a_out, model, other]),
        ],
    )
    body = ask(client, tag="pii")
    assert rows(body) == [("dataset:mlflow://c:m", _id(a), "column", 8)]
    assert body["rows"][0]["path"] == [
        _id(a), "job:jobs:j1", _id(b), "job:jobs:j2", _id(a),
        "job:jobs:j1", _id(b), "job:jobs:j2", "dataset:mlflow://c:m",
    ]  # fmt: skip


def test_an_inferred_edge_is_job_evidence(client: TestClient) -> None:
    # churn.fit inherits the train task's inputs (inferred: churn_features); even though the
    # model declares score <- churn_features.tenure, the inferred hop carries no column lineage.
    events = dag.churn_dag()
    for event in events:
        for ds in event.get("outputs") or []:
            if (ds["namespace"], ds["name"]) == dag.FEATURES:
                ds.setdefault("facets", {})["tags"] = _tags("tenure")
            if (ds["namespace"], ds["name"]) == dag.MODEL:
                ds["facets"]["columnLineage"] = _lineage(score=[(dag.FEATURES, "tenure")])
    ingest(client, events)
    features, model = _id(dag.FEATURES), _id(dag.MODEL)
    body = ask(client, tag="pii")
    assert [(*r, row["inferred"]) for r, row in zip(rows(body), body["rows"], strict=True)] == [
        (model, features, "job", 2, True)
    ]
    assert body["rows"][0]["path"] == [features, "job:ml:churn.fit", model]
    assert ask(client, tag="pii", edges="declared")["rows"] == []


# -- the CLI and the client ---------------------------------------------------------------------


def test_cli_and_client_show_the_evidence(live_ref_url: str) -> None:
    from click.testing import CliRunner

    from mllineage.client import LineageClient
    from mllineage.client.cli import main

    result = CliRunner().invoke(
        main, ["tagged", "pii", "--kinds", "dataset,feature_group", "--url", live_ref_url]
    )
    assert result.exit_code == 0, result.output
    header, *lines = result.output.strip().splitlines()
    assert "EVIDENCE" in header.split()
    assert [(line.split()[1], line.split()[4]) for line in lines] == [
        (FG_C, "column"), (S1, "column"), (TS, "column")
    ]  # fmt: skip
    frame = LineageClient(live_ref_url).get_models_with_tag("gdpr", as_frame=True)
    assert list(frame["evidence"]) == ["job", "job"]
