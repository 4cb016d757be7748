"""Spark: attach ML lineage to a Spark application's run from PySpark code.

The OpenLineage Spark listener (``io.openlineage.spark.agent.OpenLineageSparkListener``) emits
the application's events from the JVM; it is configured through ``spark.openlineage.*``
properties, including the parent the scheduler passes down::

    spark.openlineage.namespace                 job namespace of the Spark jobs
    spark.openlineage.appName                   overrides the Spark app name in job names
    spark.openlineage.parentJobNamespace        \\
    spark.openlineage.parentJobName              > the run that launched the application
    spark.openlineage.parentRunId               /  (e.g. the Airflow task)
    spark.openlineage.rootParentJobNamespace    \\
    spark.openlineage.rootParentJobName          > the top of the hierarchy (e.g. the DAG run)
    spark.openlineage.rootParentRunId           /

:func:`spark_parent` reads the same properties from a ``SparkSession``, ``SparkConf``,
``spark.conf`` or a plain dict, so mllineage runs emitted by the driver program join the same
hierarchy::

    parent = spark_parent(spark)                # the Airflow task, with the DAG run as root
    with Emitter().run("churn.features", job_type="FEATURE_PIPELINE", parent=parent) as run:
        ...

The listener generates the application's own run id inside the JVM and does not publish it in
the Spark configuration. When you know it (for example from the listener's START event, or
because your platform records it), pass ``application_run_id=`` and the mllineage run becomes
a child of the Spark application run itself, with the scheduler's run as root. Its job name is
``spark.openlineage.appName`` (set it: then both sides agree by construction), else the Spark
app name normalised to snake_case. Without a run id, the mllineage run is a sibling of the
Spark application under the same parent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

from mllineage.emitter._run import ParentRef

__all__ = [
    "SPARK_APP_NAME",
    "SPARK_NAMESPACE",
    "SPARK_PARENT_JOB_NAME",
    "SPARK_PARENT_JOB_NAMESPACE",
    "SPARK_PARENT_RUN_ID",
    "SPARK_ROOT_PARENT_JOB_NAME",
    "SPARK_ROOT_PARENT_JOB_NAMESPACE",
    "SPARK_ROOT_PARENT_RUN_ID",
    "ConfLike",
    "spark_conf_value",
    "spark_parent",
]

SPARK_NAMESPACE = "spark.openlineage.namespace"
SPARK_APP_NAME = "spark.openlineage.appName"
SPARK_PARENT_JOB_NAMESPACE = "spark.openlineage.parentJobNamespace"
SPARK_PARENT_JOB_NAME = "spark.openlineage.parentJobName"
SPARK_PARENT_RUN_ID = "spark.openlineage.parentRunId"
SPARK_ROOT_PARENT_JOB_NAMESPACE = "spark.openlineage.rootParentJobNamespace"
SPARK_ROOT_PARENT_JOB_NAME = "spark.openlineage.rootParentJobName"
SPARK_ROOT_PARENT_RUN_ID = "spark.openlineage.rootParentRunId"


class ConfLike(Protocol):
    """Anything with ``get(key, default)``: a dict, ``SparkConf``, ``spark.conf``."""

    def get(self, key: str, default: str | None, /) -> str | None: ...


def _conf(source: object) -> ConfLike:
    # A SparkSession: read its runtime conf (spark.conf), which includes the launch properties.
    if hasattr(source, "sparkContext") and hasattr(source, "conf"):
        return source.conf  # type: ignore[no-any-return]
    if isinstance(source, Mapping) or callable(getattr(source, "get", None)):
        return source  # type: ignore[return-value]
    raise TypeError(f"expected a SparkSession, SparkConf, spark.conf or a mapping, got {source!r}")


def spark_conf_value(source: object, key: str) -> str | None:
    """The value of ``key`` in a SparkSession / SparkConf / ``spark.conf`` / dict, or ``None``."""
    value = _conf(source).get(key, None)
    return str(value) if value not in (None, "") else None


def _ref(source: object, namespace_key: str, name_key: str, run_key: str) -> ParentRef | None:
    values = [spark_conf_value(source, k) for k in (namespace_key, name_key, run_key)]
    namespace, name, run_id = values
    if namespace is None or name is None or run_id is None:
        return None
    return ParentRef(namespace, name, run_id)


def spark_parent(
    source: object,
    *,
    application_run_id: str | None = None,
    application_job_name: str | None = None,
) -> ParentRef | None:
    """The parent for mllineage runs of a Spark driver program, from ``spark.openlineage.*``.

    Without ``application_run_id``: the run that launched the application
    (``parentJobNamespace``/``parentJobName``/``parentRunId``) with the root from the
    ``rootParent*`` properties; ``None`` when the parent properties are incomplete.

    With ``application_run_id``: the Spark application run (namespace
    ``spark.openlineage.namespace``, default ``"default"``; job ``application_job_name``, else
    ``spark.openlineage.appName``, else ``spark.app.name`` in snake_case), whose root is the
    configured root, else the configured parent, else the application itself.
    """
    root = _ref(
        source,
        SPARK_ROOT_PARENT_JOB_NAMESPACE,
        SPARK_ROOT_PARENT_JOB_NAME,
        SPARK_ROOT_PARENT_RUN_ID,
    )
    launcher = _ref(source, SPARK_PARENT_JOB_NAMESPACE, SPARK_PARENT_JOB_NAME, SPARK_PARENT_RUN_ID)
    if application_run_id is None:
        if launcher is None:
            return None
        return ParentRef(launcher.namespace, launcher.name, launcher.run_id, root=root)
    job = (
        application_job_name
        or spark_conf_value(source, SPARK_APP_NAME)
        or _snake_case(spark_conf_value(source, "spark.app.name") or "")
    )
    if not job:
        raise ValueError("the Spark application job name is unknown: pass application_job_name=")
    app = ParentRef(spark_conf_value(source, SPARK_NAMESPACE) or "default", job, application_run_id)
    return ParentRef(app.namespace, app.name, app.run_id, root=root or launcher or app)


def _snake_case(name: str) -> str:
    """``"ChurnFeatures app"`` -> ``"churn_features_app"``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^A-Za-z0-9]+", "_", spaced).strip("_").lower()
