"""A hand-built reference graph, as the OpenLineage events that produce it (times in minutes).

    S1 customers ─┐                                                  (S1.email tagged pii)
                  ├─ fp_customers ─ FG_C ─┐
    S2 orders ────┤                       ├─ trainset ─ TS ─ train(run 1, t8-10) ─ MODEL v1
        │         └─ fp_activity ── FG_A ─┘                  train(run 2, t20-22): FG_A ─ MODEL v2
    HIVE web.clicks ┘   ▲   │                                (retrained on other features)
    (= S3 raw/clicks by symlink, as is GLUE; S3 written by ingest_clicks, which has no inputs;
     S3 tagged gdpr; S2 tagged pii=false)
                        │   └─ (current edge of train since run 2)
    MODEL ─ deploy(t12-13, reads v1) ─ ENDPOINT ─ log_predictions ─ PRED ─ feedback ─ FG_A   (cycle)
    S2 ─ report_1..report_5 ─ R1..R5                                                   (fan-out hub)

Diamond: S2 reaches TS through FG_C and through FG_A. Column lineage: FG_C.email_domain <- S1.email,
FG_C.age <- S1.age, FG_C.total_spend <- S2.amount, FG_A.order_count <- S2.id,
FG_A.clicks_7d <- HIVE.url, TS.email_domain <- FG_C.email_domain, TS.order_count <- FG_A.order_count.
"""

from __future__ import annotations

from typing import Any

from tests.collector.events import dataset, facet, run_event

PG = "postgres://db.example.com:5432"
LAKE = "s3://lake"
HIVE_NS = "hive://metastore:9083"
FEAST = "feast://prod"
MODELS = "mlflow://tracking:5000"
SERVING = "sagemaker://us-east-1"
JOBS = "pipelines"

S1 = (PG, "public.customers")
S2 = (PG, "public.orders")
S3 = (LAKE, "raw/clicks/2024")
HIVE = (HIVE_NS, "web.clicks")
GLUE = ("glue://catalog", "lake.clicks")  # a symlink only: no dataset is stored under it
FG_C = (FEAST, "customer_features")
FG_A = (FEAST, "activity_features")
TS = (LAKE, "training/churn.parquet")
MODEL = (MODELS, "models/churn")
ENDPOINT = (SERVING, "churn-endpoint")
PRED = (LAKE, "predictions/churn")
REPORTS = [(LAKE, f"reports/r{i}") for i in range(1, 6)]

RUN = {
    "ingest": "00000000-0000-4000-8000-000000000001",
    "fp_customers": "00000000-0000-4000-8000-000000000002",
    "fp_activity": "00000000-0000-4000-8000-000000000003",
    "trainset": "00000000-0000-4000-8000-000000000004",
    "train_1": "00000000-0000-4000-8000-000000000005",
    "deploy": "00000000-0000-4000-8000-000000000006",
    "log": "00000000-0000-4000-8000-000000000007",
    "feedback": "00000000-0000-4000-8000-000000000008",
    "train_2": "00000000-0000-4000-8000-000000000009",
}
REPORT_RUNS = [f"00000000-0000-4000-8000-00000000001{i}" for i in range(1, 6)]


def ds(key: tuple[str, str], **facets: Any) -> dict[str, Any]:
    return dataset(key[0], key[1], **facets)


def dataset_id(key: tuple[str, str], version: str | None = None) -> str:
    text = f"dataset:{key[0]}:{key[1]}"
    return text if version is None else f"{text}#{version}"


def job_id(name: str) -> str:
    return f"job:{JOBS}:{name}"


def field_id(key: tuple[str, str], field: str) -> str:
    return f"datasetField:{key[0]}:{key[1]}:{field}"


def _schema(*names: str) -> dict[str, Any]:
    return facet(fields=[{"name": n, "type": "string"} for n in names])


def _lineage(**fields: list[tuple[tuple[str, str], str]]) -> dict[str, Any]:
    return facet(
        fields={
            out: {
                "inputFields": [
                    {
                        "namespace": key[0],
                        "name": key[1],
                        "field": name,
                        "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION"}],
                    }
                    for key, name in sources
                ]
            }
            for out, sources in fields.items()
        }
    )


def _owners(*names: str) -> dict[str, Any]:
    return facet(owners=[{"name": n, "type": "team"} for n in names])


def _code(version: str) -> dict[str, Any]:
    return facet(type="git", url="https://github.com/acme/churn", path="train.py", version=version)


def _job(name: str, start: float, end: float, run: str, **kwargs: Any) -> list[dict[str, Any]]:
    """START at ``start`` with the inputs, COMPLETE at ``end`` with inputs and outputs."""
    job = (JOBS, name)
    begin = run_event(
        "START",
        start,
        run_id=run,
        job=job,
        inputs=kwargs.get("inputs"),
        job_facets=kwargs.get("job_facets"),
    )
    done = run_event("COMPLETE", end, run_id=run, job=job, **kwargs)
    return [begin, done]


def model_facets(version: str, features: list[str]) -> dict[str, Any]:
    return {
        "mllineage_model": facet(
            name="churn",
            version=version,
            framework="sklearn",
            features=features,
            hyperparameters={"max_depth": int(version) + 3},
            metrics={"auc": 0.8 + int(version) / 100},
        ),
        "datasetType": facet(datasetType="MODEL"),
        "ownership": _owners("ml-platform"),
    }


def events() -> list[dict[str, Any]]:
    """All events of the reference graph, in time order."""
    s1 = ds(
        S1,
        schema=_schema("id", "email", "age"),
        version=facet(datasetVersion="v100"),
        tags=facet(tags=[{"key": "pii", "value": "true", "field": "email", "source": "manual"}]),
        ownership=_owners("crm"),
    )
    s2 = ds(
        S2,
        schema=_schema("id", "customer_id", "amount"),
        tags=facet(tags=[{"key": "pii", "value": "false", "source": "review"}]),
    )
    hive = ds(HIVE, schema=_schema("user_id", "url"))
    s3 = ds(
        S3,
        symlinks=facet(
            identifiers=[
                {"namespace": HIVE[0], "name": HIVE[1], "type": "TABLE"},
                {"namespace": GLUE[0], "name": GLUE[1], "type": "TABLE"},
            ]
        ),
        tags=facet(tags=[{"key": "gdpr", "value": "consent-required"}]),
    )
    fg_c = ds(
        FG_C,
        schema=_schema("customer_id", "email_domain", "age", "total_spend"),
        mllineage_featureGroup=facet(
            name="customer_features",
            featureStore="feast",
            features=[{"name": n} for n in ("email_domain", "age", "total_spend")],
        ),
        columnLineage=_lineage(
            email_domain=[(S1, "email")], age=[(S1, "age")], total_spend=[(S2, "amount")]
        ),
        ownership=_owners("features"),
    )
    fg_a = ds(
        FG_A,
        schema=_schema("customer_id", "order_count", "clicks_7d"),
        feast_featureView=facet(name="activity_features", features=[{"name": "order_count"}]),
        columnLineage=_lineage(order_count=[(S2, "id")], clicks_7d=[(HIVE, "url")]),
    )
    ts = ds(
        TS,
        schema=_schema("email_domain", "order_count"),
        columnLineage=_lineage(
            email_domain=[(FG_C, "email_domain")], order_count=[(FG_A, "order_count")]
        ),
    )
    model_v1 = ds(MODEL, **model_facets("1", ["email_domain", "order_count"]))
    model_v2 = ds(MODEL, **model_facets("2", ["order_count"]))
    endpoint = ds(
        ENDPOINT,
        mllineage_endpoint=facet(name="churn-endpoint", modelVersion="1", status="InService"),
    )
    training = {
        "mllineage_training": facet(hyperparameters={"lr": 0.1}, metrics={"loss": 0.3}),
    }
    result: list[dict[str, Any]] = []
    result += _job("ingest_clicks", 0, 1, RUN["ingest"], outputs=[s3])
    result += _job("fp_customers", 2, 3, RUN["fp_customers"], inputs=[s1, s2], outputs=[fg_c])
    result += _job("fp_activity", 4, 5, RUN["fp_activity"], inputs=[hive, s2], outputs=[fg_a])
    result += _job("trainset", 6, 7, RUN["trainset"], inputs=[ds(FG_C), ds(FG_A)], outputs=[ts])
    result += _job(
        "train",
        8,
        10,
        RUN["train_1"],
        inputs=[ds(TS)],
        outputs=[model_v1],
        run_facets=training,
        job_facets={"sourceCodeLocation": _code("abc123"), "ownership": _owners("data-science")},
    )
    result += _job(
        "deploy",
        12,
        13,
        RUN["deploy"],
        inputs=[ds(MODEL, mllineage_model=model_facets("1", [])["mllineage_model"])],
        outputs=[endpoint],
    )
    result += _job("log_predictions", 14, 15, RUN["log"], inputs=[ds(ENDPOINT)], outputs=[ds(PRED)])
    result += _job("feedback", 16, 17, RUN["feedback"], inputs=[ds(PRED)], outputs=[ds(FG_A)])
    result += _job(
        "train",
        20,
        22,
        RUN["train_2"],
        inputs=[ds(FG_A)],
        outputs=[model_v2],
        job_facets={"sourceCodeLocation": _code("def456")},
    )
    for index, (report, run) in enumerate(zip(REPORTS, REPORT_RUNS, strict=True)):
        result += _job(f"report_{index + 1}", 30, 31, run, inputs=[ds(S2)], outputs=[ds(report)])
    return result
