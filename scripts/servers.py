"""The processes a school runs on one machine, each started and stopped cleanly: Shift Lab replicas, Debian's
PostgreSQL server and HAProxy in front (scripts.school; the tests and benchmarks use the same functions).

HAProxy keeps each browser on one replica with a cookie (Streamlit keeps a session, and its uploads, in one
process's memory), passes websockets through, checks each replica's /_stcore/health every second, and sends the
students of a replica that is down to another one, where their saved work waits for them in PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
HAPROXY = "/usr/sbin/haproxy"
AFFINITY_COOKIE = "SHIFTLAB_REPLICA"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log: BinaryIO, timeout_s: float) -> None:
    """Wait until `url`/_stcore/health answers 200; raise with the end of `log` if `process` ends or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            raise RuntimeError(f"{url} did not start: {log.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.3)


@contextmanager
def running(
    command: list[str], env: dict[str, str] | None = None, log: BinaryIO | None = None
) -> Iterator[subprocess.Popen]:
    """`command` started in the project folder, its output to `log` (default: a temporary file); stopped on exit."""
    log = log or tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the process, closed below
    process = subprocess.Popen(command, cwd=ROOT, env=os.environ | (env or {}), stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def serving(
    command: list[str], url: str, env: dict[str, str] | None = None, log: BinaryIO | None = None, timeout_s: float = 60
) -> Iterator[subprocess.Popen]:
    """`command`, which serves `url`, started (see running) and waited for until its /_stcore/health answers."""
    log = log or tempfile.TemporaryFile()  # noqa: SIM115 -- closed by running()
    with running(command, env, log) as process:
        wait_healthy(url, process, log, timeout_s)
        yield process


def app_command(port: int, address: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "serve.py",
        "--server.headless=true",
        f"--server.port={port}",
        f"--server.address={address}",
    ]


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root, so as root it runs as the package's `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def running_postgres(folder: Path | None = None) -> Iterator[str]:
    """A PostgreSQL server from Debian's package on a free loopback port, its data in `folder` (made and kept:
    a school's store outlives a restart) or, without one, in a temporary folder removed afterwards. Yields the
    SQLAlchemy URL of its database `shiftlab`."""
    temporary = folder is None
    folder = Path(tempfile.mkdtemp(prefix="shiftlab-postgres-")) if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    data, port = folder / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    run = lambda command: subprocess.run(_as_postgres_user(command), check=True, capture_output=True)  # noqa: E731
    try:
        fresh = not data.exists()
        if fresh:
            run([str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"])
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1" + (" -c fsync=off" if temporary else "")
        run([str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"])
        if fresh:
            run([str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "shiftlab"])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/shiftlab"
    finally:
        stop = [str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]
        subprocess.run(_as_postgres_user(stop), capture_output=True)
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)


def haproxy_config(port: int, replicas: dict[str, int], address: str = "0.0.0.0") -> str:
    """HAProxy's configuration: `address`:`port` in front of the replicas (name -> loopback port)."""
    servers = "\n".join(f"    server {name} 127.0.0.1:{p} check cookie {name}" for name, p in replicas.items())
    return f"""global
    log stdout format raw local0 info  # info: the request lines too

defaults
    mode http
    log global
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h  # a student's websocket stays open all lesson
    retries 2
    option redispatch  # a replica that does not answer: the request goes to another one

frontend students
    bind {address}:{port}
    option httplog  # one line per request: which replica served it
    http-request capture req.hdr(User-Agent) len 64
    default_backend replicas

backend replicas
    balance roundrobin
    cookie {AFFINITY_COOKIE} insert indirect nocache httponly
    option httpchk GET /_stcore/health
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
{servers}
"""


@contextmanager
def running_school(
    replicas: int,
    port: int | None = None,
    env: dict[str, str] | None = None,
    database_url: str | None = None,
    address: str = "127.0.0.1",
    proxy_log: BinaryIO | None = None,
) -> Iterator[tuple[str, dict[str, subprocess.Popen]]]:
    """`replicas` app processes sharing one PostgreSQL store (`database_url`, or a server of its own) and one
    cookie secret, behind HAProxy on `address`:`port` (its log, a line per request, to `proxy_log`). Yields the
    proxy's URL and the replicas by name."""
    port = port or free_port()
    with ExitStack() as stack:
        url = database_url or stack.enter_context(running_postgres())
        shared = (env or {}) | {
            "SHIFTLAB_DATABASE_URL": url,
            # Streamlit signs its XSRF cookie with this: a student sent to another replica keeps a valid one.
            "STREAMLIT_SERVER_COOKIE_SECRET": (env or {}).get("STREAMLIT_SERVER_COOKIE_SECRET") or os.urandom(24).hex(),
        }
        ports = {f"r{n}": free_port() for n in range(1, replicas + 1)}
        processes = {}
        for name, replica_port in ports.items():
            replica = serving(app_command(replica_port), f"http://127.0.0.1:{replica_port}", shared, timeout_s=120)
            processes[name] = stack.enter_context(replica)
        config = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".cfg"))
        config.write(haproxy_config(port, ports, address))
        config.flush()
        proxy_url = f"http://127.0.0.1:{port}"
        stack.enter_context(serving([HAPROXY, "-db", "-f", config.name], proxy_url, log=proxy_log, timeout_s=30))
        yield proxy_url, processes
