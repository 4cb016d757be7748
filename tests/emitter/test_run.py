"""The run context manager: lifecycle events, failures, nesting, and what emission failures do."""

from __future__ import annotations

import json
import logging
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.facet_v2 import source_code_location_job
from openlineage.client.transport.transport import Transport

from mllineage.emitter import (
    PRODUCER,
    EmissionError,
    Emitter,
    JobType,
    MLLineageTrainingRunFacet,
    ParentRef,
    RunStatus,
    current_run,
    dataset,
    model_dataset,
)
from tests.emitter.conftest import FailingTransport, MemoryTransport
from tests.emitter.spec import SpecValidator

SOURCE = dataset("s3://ml-data", "churn/train.parquet", schema={"age": "int64"})
MODEL = model_dataset("mlflow://mlflow:5000", "churn", version="3", framework="numpy")


def _train_that_fails() -> None:
    raise ValueError("bad data: column 'age' is empty")


def test_success_emits_start_then_complete(
    emitter: Emitter, transport: MemoryTransport, spec: SpecValidator
) -> None:
    nominal = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
    with emitter.run(
        "churn.train",
        job_type=JobType.TRAINING,
        inputs=[SOURCE],
        nominal_start_time=nominal,
        description="Trains the churn model",
        owners=["team:ml"],
        training=MLLineageTrainingRunFacet(framework="numpy"),
    ) as run:
        assert current_run() is run
        run.log_params({"learning_rate": 0.1}, epochs=200)
        run.log_metrics(auc=0.91, loss=float("nan"))
        run.set_training(tracking_uri="http://mlflow:5000", external_run_id="abc")
        run.add_output(MODEL)
    assert current_run() is None
    assert run.status is RunStatus.COMPLETE

    start, complete = transport.events
    assert [start["eventType"], complete["eventType"]] == ["START", "COMPLETE"]
    assert start["run"]["runId"] == complete["run"]["runId"] == run.run_id
    assert start["job"] == complete["job"], "job facets do not change within a run"
    assert (complete["job"]["namespace"], complete["job"]["name"]) == ("ml-tests", "churn.train")
    assert start["producer"] == complete["producer"] == PRODUCER
    assert start["eventTime"] <= complete["eventTime"]
    # START knows the inputs given up front; COMPLETE everything added while running.
    assert [(d["namespace"], d["name"]) for d in start["inputs"]] == [
        ("s3://ml-data", "churn/train.parquet")
    ]
    assert start["outputs"] == []
    assert [(d["namespace"], d["name"]) for d in complete["outputs"]] == [
        ("mlflow://mlflow:5000", "churn")
    ]

    job_facets = complete["job"]["facets"]
    assert job_facets["jobType"] | {"_producer": "", "_schemaURL": ""} == {
        "_producer": "",
        "_schemaURL": "",
        "processingType": "BATCH",
        "integration": "MLLINEAGE",
        "jobType": "TRAINING",
    }
    assert job_facets["documentation"]["description"] == "Trains the churn model"
    assert job_facets["ownership"]["owners"] == [{"name": "team:ml"}]
    run_facets = complete["run"]["facets"]
    assert run_facets["nominalTime"]["nominalStartTime"] == "2024-05-01T03:00:00+00:00"
    training = run_facets["mllineage_training"]
    assert training["hyperparameters"] == {"learning_rate": 0.1, "epochs": 200}
    assert training["metrics"] == {"auc": 0.91}
    assert (training["framework"], training["trackingUri"], training["externalRunId"]) == (
        "numpy",
        "http://mlflow:5000",
        "abc",
    )
    assert "errorMessage" not in run_facets
    # The standard facets were checked against their own schemas, not just the core.
    for event in transport.events:
        spec.assert_valid(event)
    assert {"jobType", "documentation", "ownership", "nominalTime", "mllineage_training"} <= (
        spec.checked_keys(complete)
    )


def test_exception_emits_fail_with_stack_trace_and_reraises(
    emitter: Emitter, transport: MemoryTransport, spec: SpecValidator
) -> None:
    with (
        pytest.raises(ValueError, match="bad data") as raised,
        emitter.run("churn.train", inputs=[SOURCE]) as run,
    ):
        _train_that_fails()
    assert run.status is RunStatus.FAIL
    assert [e["eventType"] for e in transport.events] == ["START", "FAIL"]
    error = transport.events[-1]["run"]["facets"]["errorMessage"]
    assert error["message"] == "ValueError: bad data: column 'age' is empty"
    assert error["programmingLanguage"] == "python"
    assert error["stackTrace"].startswith("Traceback (most recent call last):")
    assert "_train_that_fails" in error["stackTrace"]
    assert str(raised.value) in error["stackTrace"]
    assert transport.events[-1]["inputs"][0]["name"] == "churn/train.parquet"
    assert "errorMessage" in spec.checked_keys(transport.events[-1])


def test_a_run_finished_inside_the_block_is_left_alone(
    emitter: Emitter, transport: MemoryTransport
) -> None:
    with emitter.run("churn.validate") as run:
        run.fail("validation: 12 rows without label")
    assert run.status is RunStatus.FAIL
    assert [e["eventType"] for e in transport.events] == ["START", "FAIL"]
    error = transport.events[-1]["run"]["facets"]["errorMessage"]
    assert error["message"] == "validation: 12 rows without label"
    assert "stackTrace" not in error


def test_interrupt_emits_abort_and_reraises(emitter: Emitter, transport: MemoryTransport) -> None:
    with pytest.raises(KeyboardInterrupt), emitter.run("churn.train"):
        raise KeyboardInterrupt
    assert [e["eventType"] for e in transport.events] == ["START", "ABORT"]
    assert transport.events[-1]["run"]["facets"]["errorMessage"]["message"] == "KeyboardInterrupt: "


def _parent(event: dict[str, Any]) -> tuple[str, str, str, str | None] | None:
    facet = event["run"]["facets"].get("parent")
    if facet is None:
        return None
    root = facet.get("root")
    return (
        facet["job"]["namespace"],
        facet["job"]["name"],
        facet["run"]["runId"],
        root["run"]["runId"] if root else None,
    )


def test_nested_runs_get_parent_and_root(
    emitter: Emitter, transport: MemoryTransport, spec: SpecValidator
) -> None:
    with emitter.run("pipeline", job_type=JobType.PIPELINE) as top:
        with (
            emitter.run("features", job_type=JobType.FEATURE_PIPELINE) as middle,
            emitter.run("features.customers") as leaf,
        ):
            pass
        with emitter.run("train", job_type=JobType.TRAINING) as sibling:
            assert current_run() is sibling
        assert current_run() is top
    by_run = {e["run"]["runId"]: e for e in transport.events if e["eventType"] == "START"}
    assert _parent(by_run[top.run_id]) is None
    assert _parent(by_run[middle.run_id]) == ("ml-tests", "pipeline", top.run_id, top.run_id)
    assert _parent(by_run[leaf.run_id]) == ("ml-tests", "features", middle.run_id, top.run_id)
    assert _parent(by_run[sibling.run_id]) == ("ml-tests", "pipeline", top.run_id, top.run_id)
    assert [e["eventType"] for e in transport.events] == [
        "START", "START", "START", "COMPLETE", "COMPLETE", "START", "COMPLETE", "COMPLETE",
    ]  # fmt: skip
    assert "parent" in spec.checked_keys(by_run[leaf.run_id])


def test_explicit_parent_wins_and_nesting_can_be_off(
    emitter: Emitter, transport: MemoryTransport
) -> None:
    airflow_task = ParentRef(
        "airflow",
        "churn_dag.train",
        "01931885-2800-7be7-aa8d-aaa15c337267",
        root=ParentRef("airflow", "churn_dag", "01931885-2800-799d-8041-88a263ffa0d8"),
    )
    with emitter.run("outer"):
        with emitter.run("explicit", parent=airflow_task) as explicit:
            pass
        with emitter.run("detached", inherit_parent=False) as detached:
            pass
    starts = {e["run"]["runId"]: e for e in transport.events if e["eventType"] == "START"}
    assert _parent(starts[explicit.run_id]) == (
        "airflow",
        "churn_dag.train",
        "01931885-2800-7be7-aa8d-aaa15c337267",
        "01931885-2800-799d-8041-88a263ffa0d8",
    )
    assert starts[explicit.run_id]["run"]["facets"]["parent"]["root"]["job"]["name"] == "churn_dag"
    assert _parent(starts[detached.run_id]) is None


def test_a_child_of_an_explicitly_parented_run_keeps_the_root(
    emitter: Emitter, transport: MemoryTransport
) -> None:
    task = ParentRef("airflow", "dag.task", "01931885-2800-7be7-aa8d-aaa15c337267")
    with emitter.run("train", parent=task) as train, emitter.run("evaluate") as evaluate:
        pass
    starts = {e["run"]["runId"]: e for e in transport.events if e["eventType"] == "START"}
    # The task has no known root, so it is the root of everything below it.
    assert _parent(starts[train.run_id]) == ("airflow", "dag.task", task.run_id, None)
    assert _parent(starts[evaluate.run_id]) == ("ml-tests", "train", train.run_id, task.run_id)


def test_runs_in_other_threads_do_not_inherit(emitter: Emitter, transport: MemoryTransport) -> None:
    seen: list[object] = []

    def worker() -> None:
        seen.append(current_run())
        with emitter.run("thread.job"):
            pass

    with emitter.run("main.job"):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen == [None]
    thread_start = next(e for e in transport.events if e["job"]["name"] == "thread.job")
    assert _parent(thread_start) is None


# -- emission failures ------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_config(port: int) -> dict[str, Any]:
    return {
        "transport": {
            "type": "http",
            "url": f"http://127.0.0.1:{port}",
            "timeout": 1,
            "retry": {"total": 0, "connect": 0, "read": 0},
        }
    }


def test_unreachable_backend_does_not_stop_the_job(caplog: pytest.LogCaptureFixture) -> None:
    emitter = Emitter(config=_http_config(_closed_port()), source_code=False)
    trained = False
    with (
        caplog.at_level(logging.WARNING, logger="mllineage.emitter"),
        emitter.run("churn.train") as run,
    ):
        trained = True
    assert trained
    assert run.status is RunStatus.COMPLETE
    warnings = [r.getMessage() for r in caplog.records if r.name == "mllineage.emitter"]
    assert len(warnings) == 2
    assert warnings[0].startswith("mllineage: could not emit START of default/churn.train")
    assert warnings[1].startswith("mllineage: could not emit COMPLETE of default/churn.train")


def test_strict_mode_raises_before_the_job_runs() -> None:
    failing = FailingTransport()
    emitter = Emitter(OpenLineageClient(transport=failing), strict=True, source_code=False)
    body_ran = False
    with (
        pytest.raises(EmissionError, match="could not emit START") as raised,
        emitter.run("churn.train"),
    ):
        body_ran = True
    assert not body_ran
    assert isinstance(raised.value.__cause__, ConnectionError)
    assert failing.attempts == 1


def test_strict_mode_raises_on_a_real_unreachable_backend() -> None:
    emitter = Emitter(config=_http_config(_closed_port()), strict=True, source_code=False)
    with pytest.raises(EmissionError), emitter.run("churn.train"):
        pass


def test_non_strict_emit_reports_failure_by_return_value() -> None:
    failing = FailingTransport()
    emitter = Emitter(OpenLineageClient(transport=failing), source_code=False)
    run = emitter.run("churn.train")
    assert run.start() is False
    assert run.complete() is False
    assert failing.attempts == 2


class FailOnTerminal(Transport):
    """Accepts START, fails every later event."""

    kind = "mllineage_test_fail_on_terminal"

    def __init__(self) -> None:
        self.events: list[str] = []

    def emit(self, event: Any) -> None:
        if event.eventType.value != "START":
            raise ConnectionError("backend went away")
        self.events.append(event.eventType.value)


def test_strict_mode_keeps_the_jobs_own_exception() -> None:
    emitter = Emitter(OpenLineageClient(transport=FailOnTerminal()), strict=True, source_code=False)
    with pytest.raises(ValueError, match="bad data") as raised, emitter.run("churn.train"):
        _train_that_fails()
    notes = getattr(raised.value, "__notes__", [])
    assert any("FAIL event was not emitted" in note for note in notes)


def test_strict_mode_complete_failure_raises() -> None:
    emitter = Emitter(OpenLineageClient(transport=FailOnTerminal()), strict=True, source_code=False)
    with pytest.raises(EmissionError, match="could not emit COMPLETE"), emitter.run("churn.train"):
        pass


def test_misconfigured_client(caplog: pytest.LogCaptureFixture) -> None:
    config = {"transport": {"type": "no_such_module.NoSuchTransport"}}
    lenient = Emitter(config=config, source_code=False)
    with (
        caplog.at_level(logging.WARNING, logger="mllineage.emitter"),
        lenient.run("churn.train") as run,
    ):
        pass
    assert run.status is RunStatus.COMPLETE
    assert lenient.client is None
    assert any("cannot configure the OpenLineage client" in r.getMessage() for r in caplog.records)
    with pytest.raises(EmissionError, match="cannot configure"):
        Emitter(config=config, strict=True, source_code=False).run("churn.train").start()


def test_client_and_config_are_exclusive(transport: MemoryTransport) -> None:
    with pytest.raises(ValueError, match="either"):
        Emitter(OpenLineageClient(transport=transport), config={"transport": {"type": "console"}})


# -- configuration through the OpenLineage client ---------------------------------------------------


def _read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_file_transport_from_client_config(tmp_path: Path, spec: SpecValidator) -> None:
    path = tmp_path / "events.ndjson"
    config = {"transport": {"type": "file", "log_file_path": str(path), "append": True}}
    emitter = Emitter(config=config, namespace="ml", source_code=False)
    with emitter.run("churn.train", outputs=[MODEL]):
        pass
    events = _read_events(path)
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for event in events:
        spec.assert_valid(event)


def test_transport_from_openlineage_environment_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "from-env.ndjson"
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(path))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "from-env")
    emitter = Emitter(source_code=False)
    with emitter.run("churn.train"):
        pass
    events = _read_events(path)
    assert [(e["eventType"], e["job"]["namespace"]) for e in events] == [
        ("START", "from-env"),
        ("COMPLETE", "from-env"),
    ]


# -- other behaviour --------------------------------------------------------------------------------


def test_static_dataset_event(emitter: Emitter, transport: MemoryTransport) -> None:
    assert emitter.emit_dataset(dataset("s3://raw", "crm/customers.csv", pii=["email"]))
    (event,) = transport.events
    assert "run" not in event
    assert "job" not in event
    assert event["dataset"]["facets"]["tags"]["tags"][0]["field"] == "email"


def test_source_code_location_facet_is_attached(
    emitter: Emitter, transport: MemoryTransport
) -> None:
    location = source_code_location_job.SourceCodeLocationJobFacet(
        type="git", url="https://github.com/acme/churn/blob/abc123/train.py", version="abc123"
    )
    with emitter.run("churn.train", source_code=location):
        pass
    assert transport.events[0]["job"]["facets"]["sourceCodeLocation"]["version"] == "abc123"


def test_run_identity_and_state_errors(emitter: Emitter) -> None:
    run = emitter.run("churn.train", run_id="01931885-2800-7be7-aa8d-aaa15c337267")
    assert run.node_id == "run:01931885-2800-7be7-aa8d-aaa15c337267"
    assert run.job_node_id == "job:ml-tests:churn.train"
    with pytest.raises(RuntimeError, match="NEW"):
        run.complete()
    run.start()
    with pytest.raises(RuntimeError, match="RUNNING"):
        run.start()
    run.complete()
    with pytest.raises(RuntimeError, match="COMPLETE"):
        run.fail("late")
    with pytest.raises(ValueError, match="UUID"):
        emitter.run("churn.train", run_id="not-a-uuid")
    with pytest.raises(ValueError, match="timezone"):
        emitter.run("churn.train", nominal_start_time=datetime(2024, 1, 1))
