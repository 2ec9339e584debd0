"""A school on one machine (`make school REPLICAS=N`): N Shift Lab processes, one PostgreSQL store and HAProxy in
front, with the one address students open printed. Ctrl-C stops them all.

    python -m scripts.school [--replicas 2] [--port 8500]

The store is SHIFTLAB_DATABASE_URL when it is set, otherwise a PostgreSQL server of the school's own with its data
in data/postgres (kept from one start to the next). The teacher secret is SHIFTLAB_TEACHER_SECRET, or a new one,
printed; every replica takes the same one.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import time
from contextlib import nullcontext

from scripts.servers import ROOT, running_postgres, running_school
from ui.teacher_view import TEACHER_SECRET_ENV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--replicas", type=int, default=2, help="app processes (default 2)")
    parser.add_argument("--port", type=int, default=8500, help="the port students open (default 8500)")
    args = parser.parse_args()
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    secret = os.environ.get(TEACHER_SECRET_ENV) or secrets.token_urlsafe(9)
    url = os.environ.get("SHIFTLAB_DATABASE_URL")
    with running_postgres(ROOT / "data" / "postgres") if url is None else nullcontext(url) as database:
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
                while all(process.poll() is None for process in replicas.values()):
                    time.sleep(1)
                print("A replica stopped; stopping the school.", flush=True)
            except KeyboardInterrupt:
                print("\nStopping…", flush=True)


if __name__ == "__main__":
    main()
