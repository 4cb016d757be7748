"""Connector fixtures: a live collector per backend, and one real MLflow store per test session
(a SQLite database, the backend MLflow recommends) logged by the seed's own calls; tests copy it
(creating an MLflow database costs seconds) and may log more into their copy."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from mllineage.collector.app import create_app
from mllineage.collector.settings import Settings
from tests.servers import running_server


@pytest.fixture(autouse=True)
def _openlineage_producer() -> Iterator[None]:
    """Feast's OpenLineage client calls ``openlineage.client.set_producer("feast")``, a
    process-wide default: put the client's own back, or later tests in this worker would emit
    facets produced by "feast"."""
    from openlineage.client.generated import base

    v1 = sys.modules.get("openlineage.client.facet")  # the deprecated facets, if loaded
    producers = (base.PRODUCER, getattr(v1, "PRODUCER", None))
    yield
    base.set_producer(producers[0])
    v1 = sys.modules.get("openlineage.client.facet")
    if v1 is not None and producers[1] is not None:
        v1.set_producer(producers[1])


@pytest.fixture
def server_url(engine: Engine, database_url: str) -> Iterator[str]:
    """Base URL of a running collector (uvicorn) on an empty database."""
    app = create_app(Settings(database_url=database_url), engine=engine)
    with running_server(app) as url:
        yield url


@dataclass(frozen=True)
class MlflowStore:
    """The session's MLflow store: ``path`` of its SQLite file; what was logged into it."""

    path: Path
    seed_runs: dict[int, str]  # registered version of ``bikes`` -> MLflow run id

    def copy(self, directory: Path) -> str:
        """A private copy (tests that edit MLflow must not change other tests' store)."""
        target = directory / "mlflow.db"
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> MlflowStore:
    from tests.connectors.seed_mlflow import log_seed_runs

    root = tmp_path_factory.mktemp("mlflow")
    path = root / "mlflow.db"
    tracking_uri = f"sqlite:///{path}"
    seed_runs = log_seed_runs(tracking_uri, root / "artifacts")
    return MlflowStore(path, seed_runs)
