"""sourceCodeLocation from git: a real repository, remotes of every shape, and no way to fail."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mllineage.emitter import source_code_location
from mllineage.emitter._source_code import _location


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "churn"
    (root / "jobs").mkdir(parents=True)
    (root / "jobs" / "train model.py").write_text("print('train')\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@e", "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "init")
    _location.cache_clear()
    return root


def test_github_remote_gives_a_link_to_the_file_at_the_commit(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://ci-bot:s3cr3t@github.com/acme/churn.git")
    git(repo, "tag", "v1.2")
    facet = source_code_location(repo / "jobs" / "train model.py")
    assert facet is not None
    sha = git(repo, "rev-parse", "HEAD")
    assert facet.type == "git"
    assert facet.version == sha
    assert facet.branch == "main"
    assert facet.tag == "v1.2"
    assert facet.path == "jobs/train model.py"
    assert facet.url == f"https://github.com/acme/churn/blob/{sha}/jobs/train%20model.py"
    assert facet.repoUrl == "https://github.com/acme/churn.git"
    assert "s3cr3t" not in f"{facet.url} {facet.repoUrl}"


@pytest.mark.parametrize(
    ("remote", "web"),
    [
        ("git@github.com:acme/churn.git", "https://github.com/acme/churn/blob/{sha}/jobs"),
        (
            "ssh://git@gitlab.example.com:2222/ml/churn.git",
            "https://gitlab.example.com/ml/churn/-/blob/{sha}/jobs",
        ),
        ("https://bitbucket.org/acme/churn", "https://bitbucket.org/acme/churn/src/{sha}/jobs"),
        ("https://git.internal/acme/churn.git", "https://git.internal/acme/churn"),
    ],
)
def test_remote_shapes(repo: Path, remote: str, web: str) -> None:
    git(repo, "remote", "add", "origin", remote)
    facet = source_code_location(repo / "jobs")
    assert facet is not None
    assert facet.url == web.format(sha=git(repo, "rev-parse", "HEAD"))


def test_without_a_remote_the_url_is_the_local_file(repo: Path) -> None:
    facet = source_code_location(repo / "jobs" / "train model.py")
    assert facet is not None
    assert facet.url == (repo / "jobs" / "train model.py").resolve().as_uri()
    assert facet.repoUrl is None


def test_outside_a_repository_there_is_no_location(tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text("")
    assert source_code_location(tmp_path / "script.py") is None


def test_a_repository_without_commits_has_no_location(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    assert source_code_location(tmp_path) is None


def test_missing_git_never_fails(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    assert source_code_location(repo) is None


def test_a_hanging_git_never_fails(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired(cmd="git", timeout=0.01)

    monkeypatch.setattr(subprocess, "run", hang)
    assert source_code_location(repo, timeout=0.01) is None
