"""A real PostgreSQL server for the tests, started in a temporary folder from Debian's package (`make test`
installs it) and stopped afterwards. PostgreSQL refuses to run as root, so as root it runs as the package's
`postgres` user."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.live_server import free_port

BIN = Path("/usr/lib/postgresql/15/bin")


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a fresh PostgreSQL server on a free loopback port; yield the SQLAlchemy URL of its database."""
    folder = Path(tempfile.mkdtemp(prefix="shiftlab-postgres-"))
    data, port = folder / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    run = lambda command: subprocess.run(_as_server_user(command), check=True, capture_output=True)  # noqa: E731
    try:
        run([str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"])
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        run([str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"])
        run([str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "shiftlab"])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/shiftlab"
    finally:
        stop = [str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]
        subprocess.run(_as_server_user(stop), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
