"""Queries and time per applied order, one order at a time (`order_apply`, what
`hook_event_process` does) beside the batched path (`orders_apply_batch`, what the drain does),
in the same run, with load averages. Not a test; use PostgreSQL for meaningful numbers:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mgm REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/order_queries.py [--orders 200] [--batch 100] [--top 15] [--profile]

Each path applies fresh orders (new order, lines, attribution, commissions, ledger accruals,
audit) and then the same orders again with a changed document (status → invoiced), so both the
first apply and a change are counted; each prints queries, time and CPU (this process's and
PostgreSQL's) per order. `--top` lists the most frequent SQL shapes of the batched
path; `--profile` prints a cProfile of it (cumulative time), `--profile-out FILE` also
dumps it to FILE.batched for pstats.
"""

import argparse
import cProfile
import json
import os
import pstats
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._orders_data import bench_brand, loadavg, order_documents, statistics_current  # noqa: E402


def _backend_cpu_seconds() -> float | None:
    """CPU seconds this connection's PostgreSQL backend has used, when the server runs on this
    machine (its /proc entry is readable); None otherwise."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            fields = stat_file.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


from bench.orders_bench import setup_django  # noqa: E402


def _shape(sql: str) -> str:
    sql = re.sub(r'SAVEPOINT "[^"]*"', "SAVEPOINT ?", sql)
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    sql = re.sub(r"\((\?, )+\?\)", "(…)", sql)
    sql = re.sub(r"(\(…\), )+\(…\)", "(…)…", sql)
    return sql[:160]


def _changed(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for doc in docs:
        doc = json.loads(json.dumps(doc))
        doc["status"] = "invoiced"
        doc["lastChange"] = "2024-02-06T10:00:00.0000000+00:00"
        out.append(doc)
    return out


def run_path(name: str, *, n: int, batch: int, top: int, profile: bool, profile_out: str = "") -> dict[str, Any]:
    from django.db import connection

    from commissions.models import Commission
    from orders.services import order_apply, orders_apply_batch

    target = bench_brand(name[:3])
    first = order_documents(target, n)
    statistics_current()
    phases: dict[str, Any] = {}
    shapes: Counter[str] = Counter()
    profiler = cProfile.Profile() if profile else None
    for phase, docs in (("new", first), ("changed", _changed(first))):
        seen: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any, seen: list[str] = seen) -> Any:
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            pg_before = _backend_cpu_seconds()
            cpu_before = time.process_time()
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            if name == "single":
                for doc in docs:
                    order_apply(brand=target.brand, data=doc, source="bench")
            else:
                for start in range(0, len(docs), batch):
                    chunk = [(doc, "bench") for doc in docs[start : start + batch]]
                    results = orders_apply_batch(brand=target.brand, documents=chunk)
                    bad = [r for r in results.values() if isinstance(r, Exception)]
                    assert not bad, bad[:3]
            if profiler:
                profiler.disable()
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_before
            pg_after = _backend_cpu_seconds()
        shapes.update(_shape(sql) for sql in seen)
        phases[phase] = {
            "queries_per_order": round(len(seen) / n, 1),
            "ms_per_order": round(1000 * elapsed / n, 2),
            "orders_per_s": round(n / elapsed, 1),
            # CPU, less noisy than time: this process's, and PostgreSQL's when it runs here.
            "cpu_ms_per_order": round(1000 * cpu / n, 2),
            "postgres_cpu_ms_per_order": (
                round(1000 * (pg_after - pg_before) / n, 2) if pg_before is not None and pg_after is not None else None
            ),
        }
    commissions = Commission.objects.filter(order__brand=target.brand).count()
    result = {"path": name, "orders": n, **phases, "commissions": commissions}
    if name != "single":
        result["batch"] = batch
    if top:
        result["top_shapes"] = [f"{count / (2 * n):5.2f}/order  {shape}" for shape, count in shapes.most_common(top)]
    if profiler:
        stats = pstats.Stats(profiler)
        if profile_out:
            stats.dump_stats(f"{profile_out}.{name}")
        stats.sort_stats("cumulative").print_stats(40)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-out", default="", help="also dump the stats to FILE.<path> (pstats format)")
    parser.add_argument("--only", choices=["single", "batched"])
    args = parser.parse_args()
    setup_django()
    from django.conf import settings

    settings.DEBUG = False
    print("database:", settings.DATABASES["default"]["ENGINE"], "load average before:", loadavg())
    for name in ("single", "batched"):
        if args.only in (None, name):
            result = run_path(
                name,
                n=args.orders,
                batch=args.batch,
                top=args.top,
                profile=args.profile or bool(args.profile_out),
                profile_out=args.profile_out,
            )
            shapes = result.pop("top_shapes", [])
            print(f"{name}:", json.dumps(result), "load:", loadavg())
            for line in shapes:
                print("   ", line)


if __name__ == "__main__":
    main()
