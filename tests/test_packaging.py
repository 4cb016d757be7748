"""The distribution as a newcomer gets it: a built wheel in a fresh venv, and the container files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

from mllineage.collector.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def test_compose_runs_postgres_and_the_collector_with_health_checks() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    postgres, collector = compose["services"]["postgres"], compose["services"]["collector"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert collector["build"] == "."
    assert collector["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/ready" in " ".join(collector["healthcheck"]["test"])
    url = collector["environment"]["MLLINEAGE_DATABASE_URL"]
    user, password, db = (
        postgres["environment"][k] for k in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")
    )
    assert url == f"postgresql+psycopg://{user}:{password}@postgres:5432/{db}"
    known = {f"MLLINEAGE_{name.upper()}" for name in Settings.model_fields}
    assert set(collector["environment"]) <= known


def test_dockerfile_builds_from_the_package_and_serves_with_migrations() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    for copied in re.findall(r"^COPY (\w+) ", dockerfile, flags=re.MULTILINE):
        assert (REPO / copied).is_dir(), copied
    assert '"mllineage", "serve"' in dockerfile
    assert "--no-migrate" not in dockerfile
    assert "HEALTHCHECK" in dockerfile


def _run(*command: str | Path, cwd: Path) -> str:
    """Run outside the repository, without the test's PYTHONPATH; return stdout, fail loudly."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_built_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    """Outside the repository: the emitter works without server extras; the collector with them."""
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, REPO, cwd=tmp_path)
    [wheel] = list(dist.glob("mllineage-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python, cli = env_dir / "bin" / "python", env_dir / "bin" / "mllineage"
    pip = (python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check")

    _run(*pip, wheel, cwd=tmp_path)
    probe = "import mllineage.emitter, mllineage.client, mllineage.schemas as s; print(len(s.all_schemas()))"
    assert _run(python, "-c", probe, cwd=tmp_path).strip() == "5", (
        "the facet schemas ship in the wheel"
    )
    no_server = subprocess.run(
        [python, "-c", "import fastapi"], cwd=tmp_path, capture_output=True, check=False
    )
    assert no_server.returncode != 0, "the plain install must not pull server dependencies"

    _run(*pip, f"{wheel}[collector]", cwd=tmp_path)
    upgraded = _run(
        cli, "db", "upgrade", "--database-url", f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path
    )
    assert "up to date" in upgraded
    assert "serve" in _run(cli, "--help", cwd=tmp_path)
    ui_probe = (
        "from mllineage.collector.api.ui import WEB; "
        "print(all((WEB / f).is_file() for f in ('index.html', 'static/app.css', "
        "'static/js/main.js', 'static/js/views/lineage.js', 'static/vendor/dagre.esm.js')))"
    )
    assert _run(python, "-c", ui_probe, cwd=tmp_path).strip() == "True", "the web UI ships"
