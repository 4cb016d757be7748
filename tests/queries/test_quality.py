"""Data quality: latest checks per dataset from every placement, and the models they reach."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from mllineage.collector.schemas.lineage import PagedAnswer
from mllineage.collector.schemas.marquez import Dataset
from mllineage.collector.schemas.ml import ImpactRow, QualityRow
from tests.collector import orchestration as o
from tests.collector.events import dataset, facet, run_event

W = "postgres://warehouse:5432"
CUSTOMERS, ORDERS = (W, "jaffle.customers"), (W, "jaffle.orders")
PAYMENTS, REFUNDS = (W, "jaffle.payments"), (W, "jaffle.refunds")
LTV, FRAUD, REFUND_MODEL = (
    ("mlflow://mlflow:5000", "models/ltv"),
    ("mlflow://mlflow:5000", "models/fraud"),
    ("mlflow://mlflow:5000", "models/refunds"),
)
ENDPOINT = ("sagemaker://us-east-1", "ltv-endpoint")
DBT_TEST_OLD = "0193a000-0000-7000-8000-000000000001"
DBT_TEST_NEW = "0193a000-0000-7000-8000-000000000002"
DBT_TEST_ORDERS = "0193a000-0000-7000-8000-000000000003"
CHECK_PAYMENTS = "0193a000-0000-7000-8000-000000000004"
REFUND_RUN_FACET = "0193a000-0000-7000-8000-000000000005"
REFUND_INPUT_FACET = "0193a000-0000-7000-8000-000000000006"
DBT_INVOCATION = "0193a000-0000-7000-8000-0000000000ff"
CHECK_DAG_RUN = "0193a000-0000-7000-8000-0000000000fe"


def node(key: tuple[str, str]) -> str:
    return f"dataset:{key[0]}:{key[1]}"


def model(key: tuple[str, str]) -> dict[str, Any]:
    return dataset(*key, datasetType=facet(datasetType="MODEL"))


def events() -> list[dict[str, Any]]:
    """dbt tests on customers (yesterday all passed; today ``not_null`` on email fails, and an
    ``accepted_values`` test with ``severity: warn`` warns) and on orders (warns only); an
    Airflow column check on payments (``distinct_check`` fails); refunds checked first by a job
    sending a failing run facet, then by one sending a passing input facet. Models are trained on
    them and ``ltv`` is served by an endpoint. Newest events first: order must not matter."""
    a = o.assertion
    train = [
        run_event(
            "COMPLETE",
            40,
            job=("ml", "ltv.train"),
            inputs=[dataset(*CUSTOMERS), dataset(*ORDERS)],
            outputs=[model(LTV)],
        ),
        run_event(
            "COMPLETE",
            41,
            job=("ml", "ltv.deploy"),
            inputs=[model(LTV)],
            outputs=[dataset(*ENDPOINT, mllineage_endpoint=facet(name="ltv-endpoint"))],
        ),
        run_event(
            "COMPLETE",
            42,
            job=("ml", "fraud.train"),
            inputs=[dataset(*PAYMENTS)],
            outputs=[model(FRAUD)],
        ),
        run_event(
            "COMPLETE",
            43,
            job=("ml", "refunds.train"),
            inputs=[dataset(*REFUNDS)],
            outputs=[model(REFUND_MODEL)],
        ),
    ]
    checks = [
        o.input_facet_checks(
            50,
            job=("checks", "refunds.fresh"),
            run_id=REFUND_INPUT_FACET,
            table=REFUNDS,
            assertions=[a("freshness", True)],
        ),
        o.run_facet_checks(
            33,
            job=("checks", "refunds.stale"),
            run_id=REFUND_RUN_FACET,
            table=REFUNDS,
            assertions=[a("freshness", False)],
        ),
        o.sql_check_task(
            32,
            dag_id="checks",
            task_id="check_payments",
            dag_run_id=CHECK_DAG_RUN,
            run_id=CHECK_PAYMENTS,
            table=PAYMENTS,
            row_count=100,
            assertions=[
                a("null_check", True, column="amount"),
                a("distinct_check", False, column="payment_id"),
                a("row_count_check", True),
            ],
        ),
        o.dbt_test_run(
            "COMPLETE",
            31,
            run_id=DBT_TEST_ORDERS,
            model=ORDERS,
            parent_run_id=DBT_INVOCATION,
            assertions=[a("assert_positive_amount", False, severity="warn")],
        ),
        o.dbt_test_run(
            "COMPLETE",
            30,
            run_id=DBT_TEST_NEW,
            model=CUSTOMERS,
            parent_run_id=DBT_INVOCATION,
            assertions=[
                a("unique_customers_customer_id", True, column="customer_id", severity="error"),
                a("not_null_customers_email", False, column="email", severity="error"),
                a("accepted_values_customers_segment", False, column="segment", severity="warn"),
            ],
        ),
        o.dbt_test_run(
            "COMPLETE",
            10,
            run_id=DBT_TEST_OLD,
            model=CUSTOMERS,
            parent_run_id=DBT_INVOCATION,
            assertions=[a("not_null_customers_email", True, column="email", severity="error")],
        ),
    ]
    return checks + train[::-1]


@pytest.fixture
def checked(client: TestClient) -> TestClient:
    response = client.post("/api/v1/lineage/batch", json=events())
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["failed"] == 0, response.text
    return client


def quality(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/ml/governance/quality", params=params)
    assert response.status_code == 200, response.text
    answer = TypeAdapter(PagedAnswer[QualityRow]).validate_python(response.json())
    assert not answer.truncated
    return [
        {
            "node": row.node_id,
            "checked": row.checked_node_id,
            "status": row.status,
            "failing": [(x.assertion, x.column, x.status) for x in row.failing_assertions],
            "run": row.checked_by_run_id,
            "placement": row.placement,
            "depth": row.depth,
            "path": row.path,
        }
        for row in answer.rows
    ]


CUSTOMERS_FAILING = [
    ("not_null_customers_email", "email", "failed"),
    ("accepted_values_customers_segment", "segment", "warning"),
]
PAYMENTS_FAILING = [("distinct_check", "payment_id", "failed")]
ORDERS_WARNING = [("assert_positive_amount", None, "warning")]


def test_models_and_endpoints_downstream_of_failing_checks(checked: TestClient) -> None:
    # Hand-worked: customers (latest dbt test: not_null fails) reaches ltv at 2 hops and its
    # endpoint at 4; payments (column check fails) reaches fraud. orders only warns; refunds'
    # latest check (an input facet at minute 50) passes, its older failing run facet is stale.
    by_dbt = {"run": DBT_TEST_NEW, "placement": "input", "status": "failed"}
    by_airflow = {"run": CHECK_PAYMENTS, "placement": "dataset", "status": "failed"}
    assert quality(checked) == [
        {
            "node": node(FRAUD),
            "checked": node(PAYMENTS),
            "failing": PAYMENTS_FAILING,
            "depth": 2,
            "path": [node(PAYMENTS), "job:ml:fraud.train", node(FRAUD)],
            **by_airflow,
        },
        {
            "node": node(LTV),
            "checked": node(CUSTOMERS),
            "failing": CUSTOMERS_FAILING,
            "depth": 2,
            "path": [node(CUSTOMERS), "job:ml:ltv.train", node(LTV)],
            **by_dbt,
        },
        {
            "node": node(ENDPOINT),
            "checked": node(CUSTOMERS),
            "failing": CUSTOMERS_FAILING,
            "depth": 4,
            "path": [
                node(CUSTOMERS),
                "job:ml:ltv.train",
                node(LTV),
                "job:ml:ltv.deploy",
                node(ENDPOINT),
            ],
            **by_dbt,
        },
    ]
    warned = quality(checked, status="warning", kinds="model")
    assert [(r["node"], r["checked"], r["status"], r["failing"]) for r in warned] == [
        (node(FRAUD), node(PAYMENTS), "failed", PAYMENTS_FAILING),
        (node(LTV), node(CUSTOMERS), "failed", CUSTOMERS_FAILING),
        (node(LTV), node(ORDERS), "warning", ORDERS_WARNING),
    ]
    bad = checked.get("/api/v1/ml/governance/quality", params={"status": "broken"})
    assert bad.status_code == 400, bad.text  # a located error, not a 5xx
    assert "status" in str(bad.json()["details"])


def test_dataset_details_carry_latest_checks_and_profile(checked: TestClient) -> None:
    def details(key: tuple[str, str]) -> Dataset:
        url = f"/api/v1/namespaces/{quote(key[0], safe='')}/datasets/{quote(key[1], safe='')}"
        response = checked.get(url)
        assert response.status_code == 200, response.text
        return Dataset.model_validate(response.json())

    customers = details(CUSTOMERS).quality
    assert customers is not None
    assert customers.status == "failed"
    assert [(x.assertion, x.status) for x in customers.assertions] == [
        ("unique_customers_customer_id", "passed"),
        ("not_null_customers_email", "failed"),
        ("accepted_values_customers_segment", "warning"),
    ]
    assert customers.checkedByRunId == DBT_TEST_NEW
    payments = details(PAYMENTS).quality
    assert payments is not None
    assert payments.status == "failed"
    assert payments.profile == {"rowCount": 100, "columnMetrics": {}}
    refunds = details(REFUNDS).quality
    assert refunds is not None
    assert (refunds.status, refunds.placement, refunds.checkedByRunId) == (
        "passed",
        "input",
        REFUND_INPUT_FACET,
    )
    assert details(LTV).quality is None


def test_impact_rows_carry_the_quality_of_the_datasets_they_pass(checked: TestClient) -> None:
    response = checked.get(
        "/api/v1/ml/impact", params={"nodeId": node(ORDERS), "kinds": "model,endpoint"}
    )
    assert response.status_code == 200, response.text
    answer = TypeAdapter(PagedAnswer[ImpactRow]).validate_python(response.json())
    # orders (warns) -> ltv.train -> ltv -> ltv.deploy -> endpoint: only orders was checked
    assert [(r.node_id, [(q.node_id, q.status) for q in r.quality]) for r in answer.rows] == [
        (node(LTV), [(node(ORDERS), "warning")]),
        (node(ENDPOINT), [(node(ORDERS), "warning")]),
    ]
