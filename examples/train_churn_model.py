"""End-to-end example: a churn model's whole lineage, from raw sources to a serving endpoint.

Generates customer and claims data with numpy, builds two feature groups (``customers`` holds
an ``email`` column tagged PII), queries them into a training set, trains a pure-numpy logistic
regression, registers the model and deploys it to an endpoint. Every step is an mllineage run,
nested under one pipeline run, so the collector receives one connected graph:

    crm.public.customers --[churn.features]--> customers feature group --+
    claims/claims.csv    --[churn.features]--> claims feature group    --+
        --[churn.training_set]--> training set --[churn.train]--> churn_classifier
        --[churn.deploy]--> churn-prod endpoint

Events go wherever the OpenLineage client is configured to send them (``openlineage.yml``,
``OPENLINEAGE_CONFIG`` or ``OPENLINEAGE__TRANSPORT__*``); without such configuration, to the
HTTP collector at ``$OPENLINEAGE_URL`` (default ``http://127.0.0.1:5000``, as started by
``mllineage serve``). An unreachable collector only produces warnings unless ``--strict``.

    python examples/train_churn_model.py [--rows 5000] [--model-version 1] [--strict]

(The raw sources are described as the CRM database and an S3 export the data would come from;
the example generates their content instead of reading it.)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openlineage.client.event_v2 import Dataset

from mllineage.emitter import (
    Emitter,
    Feature,
    JobType,
    LineageRun,
    dataset,
    dataset_from_dataframe,
    endpoint_dataset,
    feature_group_dataset,
    model_dataset,
)

NAMESPACE = "churn-example"
FEATURE_STORE = "s3://acme-features"
FEATURES = ["age", "tenure_months", "monthly_charges", "claim_count", "claim_total"]


def make_emitter(strict: bool) -> Emitter:
    """The client's own configuration when present, else HTTP to ``$OPENLINEAGE_URL``."""
    configured = (
        os.environ.get("OPENLINEAGE_CONFIG")
        or any(key.startswith("OPENLINEAGE__TRANSPORT") for key in os.environ)
        or Path("openlineage.yml").is_file()
        or (Path.home() / ".openlineage" / "openlineage.yml").is_file()
    )
    if configured:
        return Emitter(namespace=NAMESPACE, strict=strict)
    transport: dict[str, object] = {
        "type": "http",
        "url": os.environ.get("OPENLINEAGE_URL", "http://127.0.0.1:5000"),
        "endpoint": "api/v1/lineage",
        "timeout": 5,
        # Fail fast when no collector runs: one retry instead of the client's five.
        "retry": {"total": 1, "connect": 1, "read": 1, "backoff_factor": 0.1},
    }
    if api_key := os.environ.get("OPENLINEAGE_API_KEY"):
        transport["auth"] = {"type": "api_key", "apiKey": api_key}
    return Emitter(config={"transport": transport}, namespace=NAMESPACE, strict=strict)


# -- data ---------------------------------------------------------------------------------------


def generate_sources(rows: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw CRM customers and insurance claims; churn depends on tenure, charges and claims."""
    ids = np.arange(1, rows + 1)
    signup_days = rng.integers(30, 3650, size=rows)
    customers = pd.DataFrame(
        {
            "id": ids,
            "email": [f"customer{i}@example.com" for i in ids],
            "birth_year": rng.integers(1945, 2005, size=rows),
            "signup_days_ago": signup_days,
            "plan_price": np.round(rng.uniform(10, 120, size=rows), 2),
        }
    )
    claim_rows = rows * 2
    claims = pd.DataFrame(
        {
            "customer": rng.choice(ids, size=claim_rows),
            "amount": np.round(rng.gamma(2.0, 150.0, size=claim_rows), 2),
        }
    )
    return customers, claims


def build_feature_groups(
    customers: pd.DataFrame, claims: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``customers`` and ``claims`` feature groups, keyed by ``customer_id``."""
    customer_features = pd.DataFrame(
        {
            "customer_id": customers["id"],
            "email": customers["email"],
            "age": 2024 - customers["birth_year"],
            "tenure_months": customers["signup_days_ago"] // 30,
            "monthly_charges": customers["plan_price"],
        }
    )
    per_customer = claims.groupby("customer")["amount"].agg(["count", "sum"]).reset_index()
    claim_features = pd.DataFrame(
        {
            "customer_id": per_customer["customer"],
            "claim_count": per_customer["count"].astype("int64"),
            "claim_total": per_customer["sum"].round(2),
        }
    )
    return customer_features, claim_features


def query_training_set(
    customer_features: pd.DataFrame, claim_features: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Join the groups on ``customer_id`` and attach the churn label."""
    frame = customer_features.drop(columns=["email"]).merge(
        claim_features, on="customer_id", how="left"
    )
    frame[["claim_count", "claim_total"]] = frame[["claim_count", "claim_total"]].fillna(0)
    frame["claim_count"] = frame["claim_count"].astype("int64")
    logit = (
        -1.0
        - 0.04 * frame["tenure_months"]
        + 0.03 * frame["monthly_charges"]
        + 0.5 * frame["claim_count"]
        - 0.01 * (frame["age"] - 45)
    )
    probability = 1 / (1 + np.exp(-logit))
    frame["churned"] = rng.uniform(size=len(frame)) < probability
    return frame


# -- model --------------------------------------------------------------------------------------


def train_logistic_regression(
    x: np.ndarray, y: np.ndarray, learning_rate: float, epochs: int, l2: float
) -> np.ndarray:
    """Batch gradient descent on standardized features; weights[0] is the intercept."""
    design = np.hstack([np.ones((len(x), 1)), x])
    weights = np.zeros(design.shape[1])
    for _ in range(epochs):
        predictions = 1 / (1 + np.exp(-design @ weights))
        gradient = design.T @ (predictions - y) / len(y) + l2 * np.r_[0.0, weights[1:]]
        weights -= learning_rate * gradient
    return weights


def predict(weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    probabilities: np.ndarray = 1 / (1 + np.exp(-(weights[0] + x @ weights[1:])))
    return probabilities


def auc(y: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U)."""
    ranks = pd.Series(scores).rank().to_numpy()
    positives = int(y.sum())
    negatives = len(y) - positives
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


# -- the pipeline: one mllineage run per step -------------------------------------------------


def describe_sources() -> tuple[Dataset, Dataset]:
    """The raw sources: the CRM customers table (with PII) and an S3 claims export."""
    crm_customers = dataset(
        "postgres://crm-db:5432",
        "crm.public.customers",
        schema={
            "id": "bigint",
            "email": "text",
            "birth_year": "int",
            "signup_days_ago": "int",
            "plan_price": "numeric",
        },
        owners=["team:crm"],
        pii=["email"],
        description="CRM customer master data",
    )
    raw_claims = dataset(
        "s3://acme-raw",
        "claims/claims.csv",
        schema={"customer": "bigint", "amount": "double"},
        owners=["team:claims"],
    )
    return crm_customers, raw_claims


def describe_feature_groups(crm_customers: Dataset, raw_claims: Dataset) -> tuple[Dataset, Dataset]:
    """The two feature groups, with feature <- source column lineage; ``email`` is PII."""
    customers_group = feature_group_dataset(
        FEATURE_STORE,
        "offline/customers",
        features=[
            Feature("customer_id", "int64", "CRM customer id"),
            Feature("email", "str", "Contact address"),
            Feature("age", "int64", "Age in years"),
            Feature("tenure_months", "int64", "Months since signup"),
            Feature("monthly_charges", "float64", "Current plan price"),
        ],
        entities=["customer_id"],
        feature_store="s3-offline-store",
        online_store="redis://features-cache:6379",
        offline_store=f"{FEATURE_STORE}/offline/customers",
        pii=["email"],
        owners=["team:ml-platform"],
        description="Customer profile features",
        column_lineage={
            "customer_id": [(crm_customers, "id", "IDENTITY")],
            "email": [(crm_customers, "email", "IDENTITY")],
            "age": [(crm_customers, "birth_year", "TRANSFORMATION")],
            "tenure_months": [(crm_customers, "signup_days_ago", "TRANSFORMATION")],
            "monthly_charges": [(crm_customers, "plan_price", "IDENTITY")],
        },
    )
    claims_group = feature_group_dataset(
        FEATURE_STORE,
        "offline/claims",
        features=[
            Feature("customer_id", "int64"),
            Feature("claim_count", "int64", "Claims filed"),
            Feature("claim_total", "float64", "Total claimed amount"),
        ],
        entities=["customer_id"],
        feature_store="s3-offline-store",
        offline_store=f"{FEATURE_STORE}/offline/claims",
        owners=["team:ml-platform"],
        description="Claims aggregated per customer",
        column_lineage={
            "customer_id": [(raw_claims, "customer", "IDENTITY")],
            "claim_count": [(raw_claims, "customer", "AGGREGATION")],
            "claim_total": [(raw_claims, "amount", "AGGREGATION")],
        },
    )
    return customers_group, claims_group


TRAINING_SET_SQL = (
    "SELECT c.customer_id, c.age, c.tenure_months, c.monthly_charges, "
    "COALESCE(k.claim_count, 0) AS claim_count, COALESCE(k.claim_total, 0) AS claim_total "
    "FROM customers c LEFT JOIN claims k USING (customer_id)"
)
HYPERPARAMETERS = {"learning_rate": 0.5, "epochs": 300, "l2": 0.001, "holdout": 0.2}


def train_and_register(run: LineageRun, frame: pd.DataFrame, version: str) -> Dataset:
    """Fit on 80% of the training set, evaluate on the rest, log both, return the model."""
    run.set_training(framework="numpy")
    run.log_params(HYPERPARAMETERS)
    x = frame[FEATURES].to_numpy(dtype=float)
    y = frame["churned"].to_numpy(dtype=float)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    split = int(len(x) * (1 - HYPERPARAMETERS["holdout"]))
    weights = train_logistic_regression(
        x[:split],
        y[:split],
        HYPERPARAMETERS["learning_rate"],
        int(HYPERPARAMETERS["epochs"]),
        HYPERPARAMETERS["l2"],
    )
    scores = predict(weights, x[split:])
    metrics = {
        "holdout_auc": round(auc(y[split:], scores), 4),
        "holdout_accuracy": round(float(((scores > 0.5) == y[split:]).mean()), 4),
        "train_rows": split,
    }
    run.log_metrics(metrics)
    print(f"trained churn_classifier v{version}: {metrics}")
    return model_dataset(
        "mlflow://mlflow.acme.internal:5000",
        "churn_classifier",
        version=version,
        framework="numpy",
        framework_version=np.__version__,
        task="binary_classification",
        hyperparameters=HYPERPARAMETERS,
        metrics=metrics,
        features=FEATURES,
        artifact_uri=f"s3://acme-models/churn_classifier/{version}/model.npz",
        registry_uri="http://mlflow.acme.internal:5000",
        stage="Production",
        owners=["team:ml"],
    )


def run_pipeline(emitter: Emitter, rows: int, version: str, seed: int) -> list[LineageRun]:
    """Every step inside its own run, all nested under the ``churn.pipeline`` run."""
    rng = np.random.default_rng(seed)
    crm_customers, raw_claims = describe_sources()
    customers_group, claims_group = describe_feature_groups(crm_customers, raw_claims)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    runs = []
    with emitter.run(
        "churn.pipeline", job_type=JobType.PIPELINE, nominal_start_time=hour
    ) as pipeline:
        runs.append(pipeline)
        with emitter.run(
            "churn.features",
            job_type=JobType.FEATURE_PIPELINE,
            inputs=[crm_customers, raw_claims],
            owners=["team:ml-platform"],
        ) as run:
            runs.append(run)
            customer_features, claim_features = build_feature_groups(*generate_sources(rows, rng))
            run.add_outputs(customers_group, claims_group)

        with emitter.run(
            "churn.training_set",
            job_type=JobType.FEATURE_QUERY,
            inputs=[customers_group, claims_group],
            sql=TRAINING_SET_SQL,
        ) as run:
            runs.append(run)
            frame = query_training_set(customer_features, claim_features, rng)
            training_set = dataset_from_dataframe(
                frame,
                source="s3://acme-ml/churn/training_set.parquet",
                targets="churned",
                context="training",
                owners=["team:ml"],
                column_lineage={
                    "customer_id": [
                        (customers_group, "customer_id", "IDENTITY"),
                        (claims_group, "customer_id", "IDENTITY"),
                    ],
                    **{f: [(customers_group, f, "IDENTITY")] for f in FEATURES[:3]},
                    **{f: [(claims_group, f, "IDENTITY")] for f in FEATURES[3:]},
                },
            )
            run.add_output(training_set)

        with emitter.run("churn.train", job_type=JobType.TRAINING, inputs=[training_set]) as run:
            runs.append(run)
            model = train_and_register(run, frame, version)
            run.add_output(model)

        with emitter.run("churn.deploy", job_type=JobType.DEPLOYMENT, inputs=[model]) as run:
            runs.append(run)
            endpoint = endpoint_dataset(
                "https://ml.acme.internal",
                "churn-prod",
                platform="fastapi",
                url="https://ml.acme.internal/churn-prod/predict",
                model_version=version,
                status="InService",
                traffic_percent=100,
                instance_type="2 vCPU / 4 GiB",
                deployed_at=datetime.now(UTC),
                owners=["team:ml"],
            )
            run.add_output(endpoint)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000, help="customers to generate")
    parser.add_argument("--model-version", default="1", help="registered model version")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--strict", action="store_true", help="fail when an event is not sent")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    emitter = make_emitter(args.strict)
    runs = run_pipeline(emitter, args.rows, args.model_version, args.seed)
    emitter.close()
    print(f"{runs[0].job_node_id}  run:{runs[0].run_id}")
    for run in runs[1:]:
        print(f"  {run.job_node_id}  run:{run.run_id}")
        for ds in run.inputs:
            print(f"      <- dataset:{ds.namespace}:{ds.name}")
        for ds in run.outputs:
            print(f"      -> dataset:{ds.namespace}:{ds.name}")
    print(f"done in {time.perf_counter() - started:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
