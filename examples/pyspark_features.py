"""PySpark example: ML facets for a Spark feature job (documentation; not run by the tests).

The OpenLineage Spark listener records the Spark application's reads and writes; this driver
program adds what Spark cannot know: that the output is a *feature group* (entities, features,
PII columns) and how each feature derives from source columns. It reads the parent that the
scheduler passed in ``spark.openlineage.parent*`` / ``rootParent*`` (see
``examples/airflow_dag.py``), so its run sits next to the Spark application's under the same
Airflow task and DAG run. Submit with the listener enabled, e.g.::

    spark-submit \\
      --packages io.openlineage:openlineage-spark_2.12:1.40.0 \\
      --conf spark.extraListeners=io.openlineage.spark.agent.OpenLineageSparkListener \\
      --conf spark.openlineage.transport.type=http \\
      --conf spark.openlineage.transport.url=http://mllineage:5000 \\
      --conf spark.openlineage.namespace=spark \\
      --conf spark.openlineage.appName=churn_features \\
      examples/pyspark_features.py

The Python side sends through the OpenLineage Python client, configured the usual way
(``OPENLINEAGE_URL=http://mllineage:5000`` or ``openlineage.yml``).
"""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F  # noqa: N812

from mllineage.emitter import (
    Emitter,
    Feature,
    JobType,
    dataset,
    feature_group_dataset,
    spark_parent,
)

spark = SparkSession.builder.appName("churn_features").getOrCreate()
source = dataset("s3://acme-raw", "crm/customers", pii=["email"])
customers = spark.read.parquet("s3://acme-raw/crm/customers")
features = customers.select(
    F.col("id").alias("customer_id"),
    F.col("email"),
    (F.datediff(F.current_date(), F.col("signup_date")) / 30).cast("int").alias("tenure_months"),
)
features.write.mode("overwrite").parquet("s3://acme-features/offline/customers")

group = feature_group_dataset(
    "s3://acme-features",
    "offline/customers",
    features=[Feature(f.name, f.dataType.simpleString()) for f in features.schema.fields],
    entities=["customer_id"],
    pii=["email"],
    column_lineage={
        "customer_id": [(source, "id", "IDENTITY")],
        "email": [(source, "email", "IDENTITY")],
        "tenure_months": [(source, "signup_date", "TRANSFORMATION")],
    },
)
# Parent = the Airflow task that launched this application (root = its DAG run). If you know the
# Spark application's own OpenLineage run id, pass application_run_id= to nest under it instead.
with Emitter(namespace="churn").run(
    "churn.features.customers",
    job_type=JobType.FEATURE_PIPELINE,
    parent=spark_parent(spark),
    inputs=[source],
    outputs=[group],
):
    pass
spark.stop()
