"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, a free port,
its unix socket in the same folder, stopped and deleted afterwards.

initdb refuses to run as root, so as root it runs as the `postgres` user (which then owns the
folder). `.ci/run` does the same in bash; this is for a developer running plain `pytest`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class ClusterUnavailable(Exception):
    """No PostgreSQL server can be started here (not installed, or initdb failed)."""


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    on_path = shutil.which("initdb")
    if found:
        return Path(found[-1]).parent
    if on_path:
        return Path(on_path).parent
    raise ClusterUnavailable("PostgreSQL (initdb, pg_ctl) is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self) -> None:
        self.bin = _binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="policybot-pg-"))
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise ClusterUnavailable(f"{args[0]} failed: {done.stderr.strip()[-300:]}")

    def start(self) -> Cluster:
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        data = str(self.folder / "data")
        try:
            self._run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--no-sync")
            self._run("pg_ctl", "-D", data, "-l", str(self.folder / "log"), "-w", "-o",
                      f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                      "-c fsync=off", "start")
        except (ClusterUnavailable, OSError, subprocess.TimeoutExpired) as exc:
            self.stop()
            raise ClusterUnavailable(str(exc)) from exc
        return self

    def stop(self) -> None:
        data = self.folder / "data"
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(ClusterUnavailable):  # already gone: nothing to stop
                self._run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
