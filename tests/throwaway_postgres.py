"""A private PostgreSQL cluster (initdb + pg_ctl) that a test may stop and start at will.

Tests that break the database use this instead of the shared server. As root, the server
binaries refuse to run, so they run as the ``postgres`` user via ``runuser``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port


def _bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.insert(0, out.stdout.strip())
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


@dataclass
class Cluster:
    bindir: Path
    datadir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.datadir / "server.log"),
            "-o",
            f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop")


def available() -> bool:
    return _bindir() is not None and (os.geteuid() != 0 or shutil.which("runuser") is not None)


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    bindir = _bindir()
    assert bindir is not None, "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    root = Path(tempfile.mkdtemp(prefix="mllineage-pg-"))
    datadir = root / "data"
    datadir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(datadir, "postgres")
    cluster = Cluster(bindir, datadir, free_port())
    cluster._run("initdb", "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def streaming_pair() -> Iterator[tuple[Cluster, Cluster]]:
    """A throwaway primary and a streaming replica of it (``pg_basebackup -R``: hot standby)."""
    with throwaway_cluster() as primary:
        datadir = primary.datadir.parent / "replica"
        replica = Cluster(primary.bindir, datadir, free_port())
        primary._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(datadir),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        replica.start()
        try:
            yield primary, replica
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                replica.stop("immediate")
