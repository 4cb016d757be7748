"""mllineage emitter: OpenLineage facets and a Python API for machine-learning lineage.

Datasets (``openlineage.client.event_v2.Dataset`` values) for every node of an ML chain::

    source   = dataset("s3://raw", "crm/customers.csv", owners=["team:crm"], pii=["email"])
    train    = dataset_from_dataframe(df, source="s3://ml/churn/train.parquet",
                                      targets="churned", context="training")
    features = feature_group_dataset("s3://features", "offline/customers",
                                     features=[Feature("customer_id", "string"), ...],
                                     entities=["customer_id"],
                                     column_lineage={"tenure": [(source, "signup_date")]})
    model    = model_dataset("mlflow://mlflow:5000", "churn", version="7", framework="numpy")
    endpoint = endpoint_dataset("sagemaker://eu-west-1", "churn-prod", model_version="7")

Runs emitted through ``openlineage.client.OpenLineageClient`` (configured the OpenLineage way:
``openlineage.yml``, ``OPENLINEAGE_URL``, ``OPENLINEAGE__TRANSPORT__*``; or inject a client)::

    emitter = Emitter(namespace="ml")                 # strict=True raises EmissionError
    with emitter.run("churn.train", job_type=JobType.TRAINING, inputs=[train]) as run:
        run.log_params(learning_rate=0.1)
        ...                                           # START now; FAIL + re-raise on error
        run.log_metrics(auc=0.91)
        run.add_output(model)                         # COMPLETE on exit

Nested runs get the ``parent`` facet automatically; :func:`create_ml_lineage` emits the whole
chain (sources -> feature groups -> training set -> model -> endpoint) in one call;
:func:`operator_lineage` / :func:`airflow_parent` connect to Airflow's OpenLineage provider and
:func:`spark_parent` to the OpenLineage Spark listener.
"""

from mllineage.emitter._chain import JobSpec, LineageSummary, StageSummary, create_ml_lineage
from mllineage.emitter._dataframe import (
    DIGEST_ALGORITHM,
    Digest,
    dataframe_digest,
    dataframe_profile,
    dataframe_schema,
    dataset_from_dataframe,
)
from mllineage.emitter._datasets import (
    DatasetOptions,
    annotate_dataset,
    as_input,
    as_output,
    column_lineage_facet,
    dataset,
    dataset_node_id,
    job_node_id,
    run_node_id,
    schema_facet,
    split_uri,
)
from mllineage.emitter._emitter import EmissionError, Emitter
from mllineage.emitter._producer import PRODUCER, VERSION
from mllineage.emitter._run import (
    INTEGRATION,
    JobType,
    LineageRun,
    ParentRef,
    RunStatus,
    current_run,
)
from mllineage.emitter._source_code import source_code_location
from mllineage.emitter.airflow import OperatorLineageData, airflow_parent, operator_lineage
from mllineage.emitter.endpoint import MLLineageEndpointDatasetFacet, endpoint_dataset
from mllineage.emitter.feature_group import (
    Feature,
    MLLineageFeatureGroupDatasetFacet,
    feature_group_dataset,
)
from mllineage.emitter.ml_dataset import DatasetContext, MLLineageDatasetDatasetFacet
from mllineage.emitter.model import MLLineageModelDatasetFacet, model_dataset
from mllineage.emitter.spark import spark_parent
from mllineage.emitter.training import MLLineageTrainingRunFacet

__all__ = [
    "DIGEST_ALGORITHM",
    "INTEGRATION",
    "PRODUCER",
    "VERSION",
    "DatasetContext",
    "DatasetOptions",
    "Digest",
    "EmissionError",
    "Emitter",
    "Feature",
    "JobSpec",
    "JobType",
    "LineageRun",
    "LineageSummary",
    "MLLineageDatasetDatasetFacet",
    "MLLineageEndpointDatasetFacet",
    "MLLineageFeatureGroupDatasetFacet",
    "MLLineageModelDatasetFacet",
    "MLLineageTrainingRunFacet",
    "OperatorLineageData",
    "ParentRef",
    "RunStatus",
    "StageSummary",
    "airflow_parent",
    "annotate_dataset",
    "as_input",
    "as_output",
    "column_lineage_facet",
    "create_ml_lineage",
    "current_run",
    "dataframe_digest",
    "dataframe_profile",
    "dataframe_schema",
    "dataset",
    "dataset_from_dataframe",
    "dataset_node_id",
    "endpoint_dataset",
    "feature_group_dataset",
    "job_node_id",
    "model_dataset",
    "operator_lineage",
    "run_node_id",
    "schema_facet",
    "source_code_location",
    "spark_parent",
    "split_uri",
]
