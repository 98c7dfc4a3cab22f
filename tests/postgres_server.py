"""A real, throwaway PostgreSQL server for the tests and benchmarks of the server backend.

Debian's ``postgresql`` package (installed by ``make test`` like chromium, see
scripts/install-postgresql.sh) gives ``initdb`` and ``pg_ctl``; this module makes a cluster in
a temporary folder, serves it on a free loopback port with trust authentication, and can stop
and restart it (the restart test needs that). PostgreSQL refuses to run as root, so as root
the cluster belongs to the ``postgres`` account the package creates and its commands run
through ``runuser``.

pytest-postgresql does the same for an ordinary account but cannot run as root, which is how
CI runs; a server we start ourselves is also one we can stop in the middle of a test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BIN_GLOB = "/usr/lib/postgresql/*/bin"


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl (the newest installed version), or None."""
    found = sorted(Path("/").glob(BIN_GLOB.lstrip("/")), key=lambda p: int(p.parent.name))
    on_path = shutil.which("pg_ctl")
    if found:
        return found[-1]
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """One cluster: ``url`` reaches its ``tracker`` database as the ``tracker`` superuser."""

    folder: Path
    bin: Path
    port: int = field(default_factory=_free_port)
    user: str = "tracker"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/tracker"

    @property
    def data(self) -> Path:
        return self.folder / "cluster"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def create(self) -> Server:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
            "-E", "UTF8", "--no-sync", "--locale=C",
        )  # fmt: skip
        return self.start()

    def start(self) -> Server:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.folder / "server.log"), "-w", "start",
        )  # fmt: skip
        if not self._has_database():
            self._run(
                str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                "-U", self.user, "tracker",
            )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def _has_database(self) -> bool:
        command = [
            str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
            "-d", "postgres", "-tAc", "SELECT 1 FROM pg_database WHERE datname = 'tracker'",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
        return done.stdout.strip() == "1"


def start(folder: Path | None = None) -> Server:
    """A new cluster in ``folder`` (a new temporary one when None), started. As root, the
    folder's parents must let the ``postgres`` account through (pytest's tmp_path does not)."""
    bin_dir = binaries()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL is not installed: run scripts/install-postgresql.sh")
    where = folder or Path(tempfile.mkdtemp(prefix="tracker-pg-"))
    where.mkdir(parents=True, exist_ok=True)
    return Server(where, bin_dir).create()


def wait_until_down(server: Server, seconds: float = 30) -> None:
    """Until nothing listens on the server's port any more."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", server.port)) != 0:
                return
        time.sleep(0.05)
