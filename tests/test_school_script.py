"""`make school` (scripts.school): it prints the one address students open and the teacher secret, serves through
HAProxy, keeps serving when a replica dies, and stops everything it started, PostgreSQL too, when told to."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from scripts.servers import ROOT, free_port


def health(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
        return response.status


def test_make_school_prints_its_address_serves_survives_a_replica_and_stops_cleanly():
    data = Path(tempfile.mkdtemp(prefix="shiftlab-school-"))
    data.chmod(0o755)  # PostgreSQL runs as its own user, which must reach its folder in here
    port = free_port()
    command = [sys.executable, "-m", "scripts.school", "--replicas", "2", f"--port={port}", f"--data={data}"]
    school = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not any("Teacher page" in line for line in lines):
            line = school.stdout.readline()
            assert line, "the school stopped before printing its address: " + "".join(lines)[-2000:]
            lines.append(line)
        printed = "".join(lines)
        assert f"(on this machine: http://localhost:{port})" in printed
        assert re.search(r"secret: \S{6,}", printed)
        url = f"http://127.0.0.1:{port}"
        assert health(url) == 200
        started = psutil.Process(school.pid).children(recursive=True)
        replicas = [p for p in started if "streamlit" in " ".join(p.cmdline())]
        assert len(replicas) == 2 and any("haproxy" in p.name() for p in started)
        replicas[0].kill()
        time.sleep(4)  # two failed health checks, a second apart
        assert all(health(url) == 200 for _ in range(6))  # the proxy sends everyone to the replica left
        school.send_signal(signal.SIGTERM)
        school.wait(timeout=60)
        assert not [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert not (data / "postgres" / "data" / "postmaster.pid").exists()  # PostgreSQL stopped
        assert (data / "postgres" / "data" / "PG_VERSION").exists()  # and its data kept for the next start
    finally:
        if school.poll() is None:
            school.kill()
        shutil.rmtree(data, ignore_errors=True)
