"""Log to MLflow exactly as the first seed's training job does (``../shared/seeds/``, "Lineage").

Its ``ParquetReader.lineage`` is ``mlflow.data.from_pandas(df=data, name=name, source=self.path,
targets=targets, predictions=predictions)`` and its ``TrainingJob`` calls
``mlflow.log_input(dataset=lineage, context=run_config.name)`` for the inputs and the targets,
then logs and registers the model. Version 1 is trained on the 2023 bikes data, version 2 on the
2024 data (different content, so a different MLflow digest), each evaluated on its predictions.

Run it as a script to create a store by hand: ``python -m tests.connectors.seed_mlflow URI DIR``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.data.pandas_dataset as lineage
import numpy as np
import pandas as pd
from mlflow.pyfunc.model import PythonModel

EXPERIMENT = "bikes"
MODEL = "bikes"
SOURCES = {1: "/data/bikes/2023/inputs.parquet", 2: "/data/bikes/2024/inputs.parquet"}


@dataclass(frozen=True)
class ParquetReader:
    """The seed's reader, minus the file read (the frame is generated)."""

    path: str

    def lineage(
        self,
        name: str,
        data: pd.DataFrame,
        targets: str | None = None,
        predictions: str | None = None,
    ) -> Any:
        return lineage.from_pandas(
            df=data, name=name, source=self.path, targets=targets, predictions=predictions
        )


class MeanModel(PythonModel):
    """A model small enough to log in a test: predicts the training mean."""

    def __init__(self, mean: float) -> None:
        self.mean = mean

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        return np.full(len(model_input), self.mean)


def log_seed_runs(tracking_uri: str, artifacts: Path) -> dict[int, str]:
    """Two training runs and two registered versions of ``bikes``; returns version -> run id."""
    mlflow.set_tracking_uri(tracking_uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        mlflow.create_experiment(EXPERIMENT, artifact_location=artifacts.as_uri())
    mlflow.set_experiment(EXPERIMENT)
    runs = {}
    for version, path in SOURCES.items():
        rng = np.random.default_rng(version)
        inputs = pd.DataFrame({"temp": rng.random(24), "hum": rng.random(24)})
        targets = pd.DataFrame({"cnt": rng.integers(0, 500, 24)})
        reader = ParquetReader(path)
        with mlflow.start_run(run_name=f"training-{version}") as run:
            mlflow.log_input(dataset=reader.lineage(name="inputs", data=inputs), context="training")
            targets_lineage = reader.lineage(name="targets", data=targets, targets="cnt")
            mlflow.log_input(dataset=targets_lineage, context="training")
            model = MeanModel(float(targets["cnt"].mean()))
            outputs = targets.assign(prediction=model.predict(None, inputs))
            outputs_lineage = ParquetReader(path.replace("inputs", "outputs")).lineage(
                name="outputs", data=outputs, targets="cnt", predictions="prediction"
            )
            mlflow.log_input(dataset=outputs_lineage, context="evaluation")
            mlflow.log_params({"max_depth": 6, "eta": 0.1 * version})
            mlflow.log_metric("rmse", 100.0 / version)
            info = mlflow.pyfunc.log_model(
                name="model", python_model=model, pip_requirements=["numpy", "pandas"]
            )
        mlflow.register_model(info.model_uri, MODEL)
        runs[version] = run.info.run_id
    return runs


if __name__ == "__main__":
    print(log_seed_runs(sys.argv[1], Path(sys.argv[2]).absolute()))
