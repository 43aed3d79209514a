"""A private three-node Redis Cluster for one test run: started, used, stopped.

``python -m tests.redis_cluster [pytest arguments]`` starts three
``redis-server --cluster-enabled yes`` (no persistence) on free ports in a
temporary directory, joins them with ``redis-cli --cluster create`` (three
primaries, no replicas), waits until the cluster answers ``cluster_state:ok``,
runs pytest with ``REDIS_URL=redis+cluster://127.0.0.1:<port>`` and stops the
nodes whatever the outcome; its exit status is pytest's. The cluster is the
run's own, so the suite flushes it freely (a cluster has only database 0:
nothing is leased).

Exit status 3 when ``redis-server`` or ``redis-cli`` is missing or the cluster
does not form.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

NODES = 3
MISSING = 3


class ClusterUnavailable(Exception):
    """The cluster cannot be started here."""


def _free_port() -> int:
    """A port free on loopback whose cluster bus port (+10000) is free too."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise ClusterUnavailable("no free port pair for a cluster node")


def _answers(cli: str, port: int) -> bool:
    done = subprocess.run(
        [cli, "-p", str(port), "ping"], capture_output=True, text=True, timeout=5, check=False
    )
    return done.stdout.strip() == "PONG"


def _cluster_ok(cli: str, port: int) -> bool:
    done = subprocess.run(
        [cli, "-p", str(port), "cluster", "info"],
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    )
    return "cluster_state:ok" in done.stdout


@contextlib.contextmanager
def redis_cluster(nodes: int = NODES) -> Iterator[str]:
    """Start a cluster of ``nodes`` primaries; yield its ``redis+cluster://`` URL; stop it."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        raise ClusterUnavailable("redis-server and redis-cli are needed on PATH")
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="rtel-cluster-") as tmp:
        directory = Path(tmp)
        try:
            ports = []
            for n in range(nodes):
                port = _free_port()
                node_dir = directory / str(n)
                node_dir.mkdir()
                args = [server, "--port", str(port), "--bind", "127.0.0.1"]
                args += ["--cluster-enabled", "yes"]
                args += ["--cluster-config-file", str(node_dir / "nodes.conf")]
                args += ["--save", "", "--appendonly", "no", "--dir", str(node_dir)]
                with (node_dir / "redis.log").open("ab") as log:
                    processes.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT))
                ports.append(port)
            deadline = time.monotonic() + 15
            while not all(_answers(cli, port) for port in ports):
                if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                    raise ClusterUnavailable(f"cluster nodes did not start (logs in {tmp})")
                time.sleep(0.1)
            create = [cli, "--cluster", "create", *(f"127.0.0.1:{port}" for port in ports)]
            create += ["--cluster-replicas", "0", "--cluster-yes"]
            done = subprocess.run(create, capture_output=True, text=True, timeout=60, check=False)
            if done.returncode != 0:
                raise ClusterUnavailable(f"redis-cli --cluster create failed: {done.stdout}")
            deadline = time.monotonic() + 30
            while not all(_cluster_ok(cli, port) for port in ports):
                if time.monotonic() > deadline:
                    raise ClusterUnavailable("the cluster did not reach cluster_state:ok")
                time.sleep(0.2)
            yield f"redis+cluster://127.0.0.1:{ports[0]}"
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


def main(argv: list[str]) -> int:
    try:
        with redis_cluster() as url:
            print(f"Redis Cluster of {NODES} primaries at {url}", flush=True)
            env = {**os.environ, "REDIS_URL": url}
            return subprocess.call([sys.executable, "-m", "pytest", *argv], env=env)
    except ClusterUnavailable as exc:
        print(f"Redis Cluster not started: {exc}", file=sys.stderr)
        return MISSING


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
