"""A school on one machine (`make school REPLICAS=N`): N Shift Lab processes, one PostgreSQL store and HAProxy in
front, with the one address students open printed. Ctrl-C stops them all.

    python -m scripts.school [--replicas 2] [--port 8500] [--data DIR]

The store is SHIFTLAB_DATABASE_URL when it is set, otherwise a PostgreSQL server of the school's own with its data
in DIR/postgres (default data/postgres, kept from one start to the next). The teacher secret is
SHIFTLAB_TEACHER_SECRET, or a new one, printed; every replica takes the same one.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from scripts.servers import ROOT, running_postgres, running_school
from ui.teacher_view import TEACHER_SECRET_ENV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--replicas", type=int, default=2, help="app processes (default 2)")
    parser.add_argument("--port", type=int, default=8500, help="the port students open (default 8500)")
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="where the school's store keeps its data")
    args = parser.parse_args()
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    secret = os.environ.get(TEACHER_SECRET_ENV) or secrets.token_urlsafe(9)
    url = os.environ.get("SHIFTLAB_DATABASE_URL")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped from outside: cleanly too
    with running_postgres(args.data / "postgres") if url is None else nullcontext(url) as database:
        env = {TEACHER_SECRET_ENV: secret}
        with running_school(args.replicas, args.port, env, database, address="0.0.0.0") as (_, replicas):
            host = socket.gethostbyname(socket.gethostname())
            print(
                f"\n  Shift Lab for a school: {len(replicas)} replicas behind HAProxy, "
                f"store at {database.split('@')[-1]}\n"
                f"  Students open: http://{host}:{args.port}   (on this machine: http://localhost:{args.port})\n"
                f"  Teacher page:  http://{host}:{args.port}/teacher   secret: {secret}\n"
                "  Ctrl-C stops everything.\n",
                flush=True,
            )
            try:
                watch(replicas)
            except KeyboardInterrupt:
                print("\nStopping…", flush=True)


def watch(replicas: dict[str, subprocess.Popen]) -> None:
    """Say when a replica stops (its students move to the others); return when none is left."""
    stopped: set[str] = set()
    while len(stopped) < len(replicas):
        for name, process in replicas.items():
            if name not in stopped and process.poll() is not None:
                stopped.add(name)
                print(f"Replica {name} stopped; its students move to the others ({len(replicas) - len(stopped)} left).")
        time.sleep(1)
    print("No replica is left; stopping the school.", flush=True)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as error:  # PostgreSQL's own tools refused: their words, not a traceback
        sys.exit(f"PostgreSQL could not be started ({' '.join(error.cmd[-6:])}):\n{(error.stderr or b'').decode()}")
