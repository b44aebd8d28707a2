"""Helpers the benchmark scripts share: wrk runs and their parsing, waiting for a server,
percentiles. Scripts import it as `bench._common` (each puts the repository root on sys.path)."""

import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait_for(port: int, path: str, *, method: str = "GET", body: bytes | None = None, seconds: float = 20) -> None:
    """Wait until something answers HTTP on 127.0.0.1:port (any status), up to about `seconds`."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request(method, path, body=body, headers=headers)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answers on port {port}")


def wrk(
    *,
    script: str,
    port: int,
    path: str,
    duration: int,
    connections: int,
    env: dict[str, str] | None = None,
    delay_ms: float = 0,
) -> dict[str, float]:
    """One wrk run (1 thread, --latency) with a Lua script from bench/; parses req/s, p50/p99
    (ms), requests, non-2xx/3xx answers and, when the script prints it, VALID_SERVED."""
    run = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / script),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {}), "WRK_PATH": path, "WRK_DELAY_MS": str(delay_ms)},
        check=False,
    )
    if run.returncode:
        raise SystemExit(f"wrk failed: {run.stdout}{run.stderr}")
    out = run.stdout

    def latency(label: str) -> float:
        match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    valid = re.search(r"VALID_SERVED (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": latency("50%"),
        "p99": latency("99%"),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "valid": int(valid.group(1)) if valid else 0,
    }


def database_recreate(name: str, *, server: dict[str, Any], drop: bool = True) -> bool:
    """Create the benchmark database `name` on the PostgreSQL `server` (psycopg connection
    keywords: host, port, user, password; None values are left out), dropping it first when
    `drop`. Refuses any name without "bench", so a mistyped URL cannot drop a real database.
    Returns whether the database was created."""
    if "bench" not in name:
        raise SystemExit(f"refusing to use database {name!r}: its name must contain 'bench'.")
    return _database_create(name, server=server, drop=drop)


def database_ensure(url: str) -> None:
    """Create the PostgreSQL database of `url` (a DATABASE_URL) when it does not exist yet, so a
    bench runs on a fresh machine without a manual `createdb`. Never drops anything; any other
    engine is left to Django."""
    import environ

    config = environ.Env.db_url_config(url)
    if str(config.get("ENGINE", "")).endswith("postgresql"):
        server = {"host": config.get("HOST"), "port": config.get("PORT"), "user": config.get("USER")}
        _database_create(str(config["NAME"]), server={**server, "password": config.get("PASSWORD")}, drop=False)


def _database_create(name: str, *, server: dict[str, Any], drop: bool) -> bool:
    import psycopg

    info = {key: value for key, value in {**server, "dbname": "postgres"}.items() if value}
    with psycopg.connect(**info, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    return not exists


def granian(
    app: str, *, port: int, workers: int = 1, blocking_threads: int = 1, interface: str = "wsgi"
) -> subprocess.Popen[bytes]:
    """Start granian (WSGI or ASGI, no websockets, warnings only) serving `app`
    ("module:callable") on 127.0.0.1:port from the repository root, with this process's
    environment. The caller terminates it."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            interface,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(blocking_threads),
            "--no-ws",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env={**os.environ},
    )


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its descendants (Linux /proc): a server's
    own cost per request, which other load on a shared machine does not inflate the way it
    inflates latency."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))  # fields[1]: ppid
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        total += cpu.get(current, 0.0)
        stack.extend(children.get(current, []))
    return total


def command_cpu_seconds(name: str) -> float:
    """User + system CPU seconds of every running process whose command is `name` (PostgreSQL's
    backends, say: a pool keeps them for the whole run, so a difference is their work)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm, fields = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        if comm.split("(", 1)[1] == name:
            parts = fields.split()
            total += (int(parts[11]) + int(parts[12])) / ticks
    return total


def stop(process: "subprocess.Popen[bytes]", *, grace: float = 30) -> None:
    """Terminate a server we started and its worker processes (it must have been started with
    `start_new_session=True`: its process group); kill the group if it has not exited after
    `grace` seconds. Killing only the parent would leave granian's workers serving the port."""
    import signal

    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    except ProcessLookupError:
        pass
