"""Events as orchestrators and test frameworks send them: the Airflow provider, dbt-ol, SQL checks.

Shapes follow the real events in ``../shared/conformance/events/airflow`` (provider 1.14: the
``airflow`` run facet with ``dag``, ``dagRun``, ``task`` whose ``upstream_task_ids`` /
``downstream_task_ids`` are Python list reprs, ``taskInstance``, ``taskUuid``; a ``parent`` facet
naming the DAG run; DAG runs with ``airflowDagRun`` / ``airflowState``) and ``events/dbt`` (test
jobs whose input carries ``dataQualityAssertions`` in both ``facets`` and ``inputFacets``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.collector.events import at, dataset, facet, run_event

AIRFLOW_PRODUCER = "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0"
DBT_PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.40.0/integration/dbt"
ASSERTIONS_URL = (
    "https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json"
    "#/$defs/DataQualityAssertionsDatasetFacet"
)


def _producer(event: dict[str, Any], producer: str) -> dict[str, Any]:
    event["producer"] = producer
    return event


def airflow_dag_run(
    event_type: str, minutes: float, *, dag_id: str, run_id: str, namespace: str = "airflow"
) -> dict[str, Any]:
    """A DAG run event as the provider sends it (job = the DAG)."""
    run_facets = {
        "airflowDagRun": facet(
            dag={"dag_id": dag_id, "owner": "airflow"},
            dagRun={"dag_id": dag_id, "run_id": f"scheduled__{at(minutes)}"},
        )
    }
    job_facets = {"jobType": facet(integration="AIRFLOW", jobType="DAG", processingType="BATCH")}
    event = run_event(
        event_type,
        minutes,
        run_id=run_id,
        job=(namespace, dag_id),
        run_facets=run_facets,
        job_facets=job_facets,
    )
    return _producer(event, AIRFLOW_PRODUCER)


def airflow_task_run(
    event_type: str,
    minutes: float,
    *,
    dag_id: str,
    task_id: str,
    dag_run_id: str,
    run_id: str,
    upstream: Sequence[str] = (),
    downstream: Sequence[str] = (),
    operator: str = "PythonOperator",
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    as_lists: bool = False,
    namespace: str = "airflow",
) -> dict[str, Any]:
    """A task instance event as the provider sends it: job ``<dag_id>.<task_id>``, the
    ``airflow`` run facet (task ids as Python list reprs, or JSON lists with ``as_lists``) and
    a ``parent`` facet naming the DAG run."""
    upstream_ids: Any = list(upstream) if as_lists else repr(list(upstream))
    downstream_ids: Any = list(downstream) if as_lists else repr(list(downstream))
    airflow = facet(
        dag={"dag_id": dag_id, "fileloc": f"/opt/airflow/dags/{dag_id}.py", "owner": "airflow"},
        dagRun={"dag_id": dag_id, "run_id": f"scheduled__{dag_run_id}"},
        task={
            "task_id": task_id,
            "operator_class": operator,
            "upstream_task_ids": upstream_ids,
            "downstream_task_ids": downstream_ids,
            "inlets": "[]",
            "outlets": "[]",
        },
        taskInstance={"try_number": 1, "pool": "default_pool"},
        taskUuid=run_id,
    )
    parent = facet(job={"namespace": namespace, "name": dag_id}, run={"runId": dag_run_id})
    job_facets = {"jobType": facet(integration="AIRFLOW", jobType="TASK", processingType="BATCH")}
    event = run_event(
        event_type,
        minutes,
        run_id=run_id,
        job=(namespace, f"{dag_id}.{task_id}"),
        inputs=inputs,
        outputs=outputs,
        run_facets={"airflow": airflow, "parent": parent},
        job_facets=job_facets,
    )
    return _producer(event, AIRFLOW_PRODUCER)


def nested_run(
    event_type: str,
    minutes: float,
    *,
    job: tuple[str, str],
    run_id: str,
    parent: tuple[str, str, str],
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A run nested under another (``parent`` = namespace, job name, run id), e.g. our emitter
    inside an Airflow task."""
    parent_facet = facet(job={"namespace": parent[0], "name": parent[1]}, run={"runId": parent[2]})
    return run_event(
        event_type,
        minutes,
        run_id=run_id,
        job=job,
        inputs=inputs,
        outputs=outputs,
        run_facets={"parent": parent_facet},
    )


def assertion(
    name: str, success: bool, *, column: str | None = None, severity: str | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {"assertion": name, "success": success}
    if column is not None:
        item["column"] = column
    if severity is not None:
        item["severity"] = severity
    return item


def assertions_facet(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "_producer": DBT_PRODUCER,
        "_schemaURL": ASSERTIONS_URL,
        "assertions": list(items),
    }


def dbt_test_run(
    event_type: str,
    minutes: float,
    *,
    run_id: str,
    model: tuple[str, str],
    assertions: list[dict[str, Any]],
    parent_run_id: str,
) -> dict[str, Any]:
    """A dbt-ol test job: the tested model is an input carrying the assertions in ``facets``
    and ``inputFacets`` (as dbt-ol 1.40 sends them), under the dbt invocation's run."""
    checked = assertions_facet(*assertions)
    tested = dataset(model[0], model[1], dataQualityAssertions=checked)
    tested["inputFacets"] = {"dataQualityAssertions": checked}
    parent = facet(
        job={"namespace": "dbt", "name": "dbt-run-jaffle_shop"}, run={"runId": parent_run_id}
    )
    job_facets = {"jobType": facet(integration="DBT", jobType="TEST", processingType="BATCH")}
    event = run_event(
        event_type,
        minutes,
        run_id=run_id,
        job=("dbt", f"dbt_test.{model[1]}.test"),
        inputs=[tested],
        run_facets={"parent": parent},
        job_facets=job_facets,
    )
    return _producer(event, DBT_PRODUCER)


# -- a training DAG whose Python task reads through a database hook -------------------------------

CRM = "postgres://crm-db:5432"
CUSTOMERS = (CRM, "crm.public.customers")
ORDERS = (CRM, "crm.public.orders")
FEATURES = (CRM, "crm.features.churn_features")
REPORT = (CRM, "crm.reports.weekly")
MODEL = ("mlflow://mlflow:5000", "models/churn")
DAG_ID = "churn_training"
DAG_RUN = "01936898-5bd1-70bf-9ca2-000000000001"
FEATURES_RUN = "01936898-5bd1-7215-b04d-000000000002"
TRAIN_RUN = "01936898-5bd1-7215-b04d-000000000003"
REPORT_RUN = "01936898-5bd1-7215-b04d-000000000004"
FIT_RUN = "01936898-5bd1-7215-b04d-000000000005"
FIT_JOB = ("ml", "churn.fit")


def churn_dag() -> list[dict[str, Any]]:
    """One run of DAG ``churn_training``: ``build_features`` (SQL operator: customers ->
    churn_features) >> [``train``, ``report``]. ``train`` is a PythonOperator reading through a
    PostgresHook, so the provider reports it with no inputs and no outputs; our emitter runs
    ``churn.fit`` inside it (``parent`` = the task run), which writes the model and declares no
    inputs. ``report`` declares its own input (orders) and output.
    """
    task: dict[str, Any] = {"dag_id": DAG_ID, "dag_run_id": DAG_RUN}
    model = dataset(*MODEL, datasetType=facet(datasetType="MODEL"))
    return [
        airflow_dag_run("START", 0, dag_id=DAG_ID, run_id=DAG_RUN),
        airflow_task_run(
            "START",
            1,
            task_id="build_features",
            run_id=FEATURES_RUN,
            downstream=["train", "report"],
            operator="SQLExecuteQueryOperator",
            **task,
        ),
        airflow_task_run(
            "COMPLETE",
            5,
            task_id="build_features",
            run_id=FEATURES_RUN,
            downstream=["train", "report"],
            operator="SQLExecuteQueryOperator",
            inputs=[dataset(*CUSTOMERS)],
            outputs=[dataset(*FEATURES)],
            **task,
        ),
        airflow_task_run(
            "START", 6, task_id="train", run_id=TRAIN_RUN, upstream=["build_features"], **task
        ),
        nested_run(
            "START",
            7,
            job=FIT_JOB,
            run_id=FIT_RUN,
            parent=("airflow", f"{DAG_ID}.train", TRAIN_RUN),
        ),
        nested_run(
            "COMPLETE",
            19,
            job=FIT_JOB,
            run_id=FIT_RUN,
            parent=("airflow", f"{DAG_ID}.train", TRAIN_RUN),
            outputs=[model],
        ),
        airflow_task_run(
            "COMPLETE", 20, task_id="train", run_id=TRAIN_RUN, upstream=["build_features"], **task
        ),
        airflow_task_run(
            "COMPLETE",
            8,
            task_id="report",
            run_id=REPORT_RUN,
            upstream=["build_features"],
            inputs=[dataset(*ORDERS)],
            outputs=[dataset(*REPORT)],
            as_lists=True,
            **task,
        ),
        airflow_dag_run("COMPLETE", 21, dag_id=DAG_ID, run_id=DAG_RUN),
    ]


# -- data-quality checks, in each placement producers use ----------------------------------------


def sql_check_task(
    minutes: float,
    *,
    dag_id: str,
    task_id: str,
    dag_run_id: str,
    run_id: str,
    table: tuple[str, str],
    assertions: list[dict[str, Any]],
    row_count: int,
) -> dict[str, Any]:
    """An Airflow SQL check operator's COMPLETE (``SQLColumnCheckOperator``): the checked table
    is an input carrying ``dataQualityAssertions`` and its profile (``dataQualityMetrics``) as
    dataset facets, as the OpenLineage SQL check extractors build them."""
    metrics = facet(rowCount=row_count, columnMetrics={})
    checked = dataset(
        *table, dataQualityAssertions=assertions_facet(*assertions), dataQualityMetrics=metrics
    )
    return airflow_task_run(
        "COMPLETE",
        minutes,
        dag_id=dag_id,
        task_id=task_id,
        dag_run_id=dag_run_id,
        run_id=run_id,
        operator="SQLColumnCheckOperator",
        inputs=[checked],
    )


def run_facet_checks(
    minutes: float,
    *,
    job: tuple[str, str],
    run_id: str,
    table: tuple[str, str],
    assertions: list[dict[str, Any]],
) -> dict[str, Any]:
    """A check job that sends its assertions as a *run* facet, about the table it read."""
    return run_event(
        "COMPLETE",
        minutes,
        run_id=run_id,
        job=job,
        inputs=[dataset(*table)],
        run_facets={"dataQualityAssertions": assertions_facet(*assertions)},
    )


def input_facet_checks(
    minutes: float,
    *,
    job: tuple[str, str],
    run_id: str,
    table: tuple[str, str],
    assertions: list[dict[str, Any]],
) -> dict[str, Any]:
    """A check job that sends its assertions as an input facet only."""
    checked = dataset(*table)
    checked["inputFacets"] = {"dataQualityAssertions": assertions_facet(*assertions)}
    return run_event("COMPLETE", minutes, run_id=run_id, job=job, inputs=[checked])
