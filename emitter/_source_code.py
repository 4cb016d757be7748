"""Where the running code lives: the standard ``sourceCodeLocation`` job facet from git.

Runs ``git`` as a subprocess with a timeout and never raises: outside a repository, without
``git`` on the PATH, on an empty repository or on any git error the answer is ``None``.
Credentials embedded in a remote URL (``https://user:token@host/...``) never leave the machine.
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from openlineage.client.facet_v2 import source_code_location_job

from mllineage.emitter._producer import PRODUCER

__all__ = ["source_code_location"]

log = logging.getLogger("mllineage.emitter")


def source_code_location(
    path: str | os.PathLike[str] | None = None, *, timeout: float = 2.0
) -> source_code_location_job.SourceCodeLocationJobFacet | None:
    """The git location of ``path`` (default: the running script, else the working directory).

    The facet has ``type="git"``, ``version`` (the HEAD commit), ``branch``, ``tag`` (when
    HEAD is tagged), ``path`` (relative to the repository root), ``repoUrl`` (the ``origin``
    remote without credentials) and ``url``: a browsable link to the file at that commit for
    GitHub/GitLab/Bitbucket-style remotes, the remote's web address for other hosts, or a
    ``file://`` URI when the repository has no remote. ``None`` when there is no commit to
    point at. Results are cached per resolved path.
    """
    target = Path(path) if path is not None else _default_target()
    try:
        resolved = target.expanduser().resolve()
    except OSError:
        return None
    return _location(resolved, timeout)


def _default_target() -> Path:
    script = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c", "-m") else ""
    candidate = Path(script) if script else Path.cwd()
    return candidate if candidate.exists() else Path.cwd()


@functools.lru_cache(maxsize=64)
def _location(
    target: Path, timeout: float
) -> source_code_location_job.SourceCodeLocationJobFacet | None:
    directory = target if target.is_dir() else target.parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(  # noqa: S603  (fixed argv, no shell)
                ["git", "-C", str(directory), *args],  # noqa: S607  (git from PATH)
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            log.debug("mllineage: git %s failed: %s", args, exc)
            return None
        out = done.stdout.strip()
        return out if done.returncode == 0 and out else None

    top = git("rev-parse", "--show-toplevel")
    sha = git("rev-parse", "--verify", "HEAD") if top else None
    if not top or not sha:
        return None
    branch = git("symbolic-ref", "--short", "-q", "HEAD")
    tag = git("describe", "--tags", "--exact-match", "HEAD")
    remote = git("config", "--get", "remote.origin.url")
    if remote is None and (first := git("remote")):
        remote = git("config", "--get", f"remote.{first.splitlines()[0]}.url")
    try:
        relative = target.relative_to(Path(top).resolve()).as_posix()
    except ValueError:
        relative = ""
    repo_url = _without_credentials(remote) if remote else None
    web = _web_url(remote) if remote else None
    return source_code_location_job.SourceCodeLocationJobFacet(
        type="git",
        url=_file_url(web, sha, relative) if web else target.as_uri(),
        repoUrl=repo_url,
        path=relative or None,
        version=sha,
        branch=branch,
        tag=tag,
        producer=PRODUCER,
    )


def _without_credentials(remote: str) -> str:
    parts = urlsplit(remote)
    if parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        if parts.scheme in ("http", "https"):
            return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]  # keep ssh user, drop password
        return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, "", ""))
    return remote


def _web_url(remote: str) -> str | None:
    """The https address of a remote: scp-like, ssh:// and http(s):// remotes; else None."""
    parts = urlsplit(remote)
    if parts.scheme in ("http", "https", "ssh", "git", "git+ssh"):
        host = parts.hostname
        path = parts.path
    elif not parts.scheme and ":" in remote and not remote.startswith(("/", ".")):
        userhost, _, path = remote.partition(":")  # scp-like: git@github.com:org/repo.git
        host = userhost.rsplit("@", 1)[-1]
    else:
        return None  # a local path or an unknown scheme has no web address
    path = path.strip("/").removesuffix(".git")
    if not host or not path:
        return None
    scheme = "http" if parts.scheme == "http" else "https"
    return f"{scheme}://{host}/{path}"


def _file_url(web: str, sha: str, relative: str) -> str:
    if not relative:
        return web
    relative = quote(relative)
    host = urlsplit(web).hostname or ""
    if "gitlab" in host:
        return f"{web}/-/blob/{sha}/{relative}"
    if "bitbucket" in host:
        return f"{web}/src/{sha}/{relative}"
    if "github" in host:
        return f"{web}/blob/{sha}/{relative}"
    return web
