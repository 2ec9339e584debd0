"""Start Shift Lab for a class (`make class`): listening on the local network, with the teacher secret printed
where the teacher started it.

    python -m scripts.class_server [--port 8501]

The secret is SHIFTLAB_TEACHER_SECRET when it is set, otherwise a new one for this start. Students open the
*Network URL* Streamlit prints; the teacher opens the same address with /teacher at its end and types the secret.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from ui.teacher_view import TEACHER_SECRET_ENV

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--port", type=int, default=8501, help="the port students open (default 8501)")
    args = parser.parse_args()
    secret = os.environ.get(TEACHER_SECRET_ENV) or secrets.token_urlsafe(9)
    print(
        f"\n  Teacher secret: {secret}\n"
        f"  Teacher page: the Network URL below with /teacher at its end (port {args.port}); students open the URL.\n",
        flush=True,
    )
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "serve.py",
        "--server.address=0.0.0.0",
        f"--server.port={args.port}",
    ]
    os.chdir(ROOT)
    os.execve(sys.executable, command, os.environ | {TEACHER_SECRET_ENV: secret})


if __name__ == "__main__":
    main()
