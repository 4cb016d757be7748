"""MLflow connector against a real MLflow store logged the seed's way and a live collector.

After one sync, every seed question is answered for each registered version; a second sync
(from its cursor, and from scratch) stores nothing; a run deleted in MLflow afterwards keeps the
lineage it already had (see ``mllineage.client.mlflow_sync``).
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from mlflow import MlflowClient

from mllineage.client import LineageClient, dataset_id
from mllineage.client.cli import main
from mllineage.client.mlflow_sync import SyncCursor, sync_mlflow
from mllineage.emitter import Emitter, dataset
from tests.connectors.conftest import MlflowStore
from tests.connectors.seed_mlflow import EXPERIMENT, MODEL, SOURCES

NAMESPACE = "mlflow://mlflow.internal:5000"
MODEL_NODE = dataset_id(NAMESPACE, f"models/{MODEL}")


def stored_events(client: LineageClient) -> int:
    count: int = client.query("/api/v1/events/lineage", limit=1)["totalCount"]
    return count


def test_sync_answers_the_seed_questions_per_version(
    server_url: str, mlflow_store: MlflowStore, tmp_path: Path
) -> None:
    tracking_uri = mlflow_store.copy(tmp_path)
    plan = sync_mlflow(tracking_uri, url=server_url, experiments=[EXPERIMENT], namespace=NAMESPACE)
    assert (plan.runs, plan.model_versions, plan.logged_models) == (2, 2, 0)
    assert plan.cursor.open_runs == []
    # The data team tags the 2023 inputs as PII, through our emitter.
    governance = Emitter(config={"transport": {"type": "http", "url": server_url}}, strict=True)
    namespace, name = "file", SOURCES[1]
    governance.emit_dataset(dataset(namespace, name, pii=["hum"]))

    with LineageClient(server_url, as_frame=False) as lc:
        for version, source in SOURCES.items():
            chain = lc.get_model_lineage(MODEL_NODE, version=str(version))
            run = next(r for r in chain if r["type"] == "run")
            # the job: the experiment and the file that ran (here pytest's own entry point)
            assert run["job_node_id"].startswith(f"job:{NAMESPACE}:experiments/{EXPERIMENT}/")
            read = {
                r["name"]: r for r in chain if r["direction"] == "upstream" and r["type"] != "run"
            }
            assert set(read) == {source, source.replace("inputs", "outputs")}
            assert read[source]["version"] != chain[0]["version"]  # MLflow's digest, not the run

            sources = lc.get_data_sources(f"{MODEL_NODE}#{version}")
            assert {s["name"] for s in sources} == set(read)

            [audit] = lc.get_audit(MODEL_NODE, str(version))
            assert audit["parameters"] == {"eta": 0.1 * version, "max_depth": 6}
            assert audit["metrics"] == {"rmse": 100.0 / version}
            assert audit["run_id"] == run["node_id"].removeprefix("run:")
            assert {i["name"] for i in audit["inputs"]} == set(read)

        tagged = lc.get_models_with_tag("pii", scope="versions")
        assert {(r["node_id"], tuple(r["tagged_fields"])) for r in tagged} == {
            (f"{MODEL_NODE}#1", ("hum",))
        }
        assert [r["tagged_node_id"] for r in tagged] == [dataset_id(namespace, name)]

        before = stored_events(lc)
        again = sync_mlflow(
            tracking_uri,
            url=server_url,
            experiments=[EXPERIMENT],
            namespace=NAMESPACE,
            cursor=plan.cursor,
        )
        assert again.events == []  # the cursor: nothing changed, nothing read
        sync_mlflow(tracking_uri, url=server_url, experiments=[EXPERIMENT], namespace=NAMESPACE)
        assert stored_events(lc) == before  # from scratch: every event a duplicate

        # A run deleted in MLflow later: not read again, its lineage stays as it was.
        MlflowClient(tracking_uri).delete_run(mlflow_store.seed_runs[1])
        later = sync_mlflow(
            tracking_uri,
            url=server_url,
            experiments=[EXPERIMENT],
            namespace=NAMESPACE,
            cursor=SyncCursor(),
        )
        assert (later.runs, later.model_versions, later.skipped_deleted) == (1, 1, 1)
        assert stored_events(lc) == before
        assert lc.get_audit(MODEL_NODE, "1")[0]["parameters"]["eta"] == 0.1


def test_cli_sync_continues_from_its_state_file(
    server_url: str, mlflow_store: MlflowStore, tmp_path: Path
) -> None:
    tracking_uri = mlflow_store.copy(tmp_path)
    state = tmp_path / "cursor.json"
    argv = ["sync", "mlflow", "--tracking-uri", tracking_uri, "--experiment", EXPERIMENT]
    argv += ["--state", str(state), "--url", server_url]
    first = CliRunner().invoke(main, argv, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "synced 2 runs, 2 model versions, 0 logged models: 6 events" in first.output
    assert SyncCursor.load(state).since_ms > 0
    second = CliRunner().invoke(main, argv, catch_exceptions=False)
    assert "synced 0 runs, 0 model versions, 0 logged models: 0 events" in second.output
