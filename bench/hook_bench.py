"""VTEX hook benchmark over real HTTP. One granian server (same workers and threads for both
targets, same middleware stack) answering a bare Django view (floor) and
`POST /api/v1/webhooks/vtex/<slug>/orders/` (stores the raw event in PostgreSQL; the drain
kick publishes at most one `hook_events_process_task` per VTEX_HOOK_DRAIN_SECONDS and process,
orders/drain.py); wrk posts a distinct notification per request (bench/hook_bench.lua). Then
the hook at half its peak rate for p99, and the check that every answered notification was
stored, with far fewer broker messages than notifications. It also prints the CPU per request of
the server and of PostgreSQL in both full-load runs (/proc counters): on a busy machine req/s
moves with the neighbours, CPU per request much less.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mgm_perf_hook REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python bench/hook_bench.py [--duration 10] [--connections 16] [--workers 1] [--serve asgi|wsgi] [--blocking-threads 1]

The broker database in REDIS_URL must be one nobody consumes: the bench fills its queue and
deletes it at the end. Needs wrk and granian.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    command_cpu_seconds,
    database_ensure,
    granian,
    process_tree_cpu_seconds,
    wait_for,
    wrk,
)

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_hook"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mgm_perf_hook")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
PORT = 18083


def prepare() -> tuple[str, str, str]:
    import django

    database_ensure(os.environ["DATABASE_URL"])
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from brands.models import Brand
    from tests.factories import BrandFactory

    brand: Brand = Brand.objects.filter(slug="hookbench").first() or BrandFactory(  # type: ignore[assignment]
        slug="hookbench", vtex_account="hookbench"
    )
    return brand.slug, brand.vtex_account, str(brand.hook_token)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--blocking-threads", type=int, default=1, help="with --serve wsgi")
    parser.add_argument("--serve", choices=["asgi", "wsgi"], default="asgi")
    args = parser.parse_args()
    slug, account, token = prepare()
    import redis
    from django.conf import settings

    from orders.models import HookEvent

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # The drain's own queue (CELERY_TASK_ROUTES: hooks on their own workers).
    queue = str(settings.CELERY_TASK_ROUTES["orders.tasks.hook_events_process_task"]["queue"])
    broker.delete(queue)
    run_id = str(int(time.time()))
    hook_path = f"/api/v1/webhooks/vtex/{slug}/orders/"
    env = {"WRK_RUN": run_id, "WRK_ACCOUNT": account, "WRK_TOKEN": token}
    if args.serve == "asgi":  # as compose serves it: the edge, Django's WSGI handler on WEB_DJANGO_CONCURRENCY threads
        server = granian("config.asgi:application", port=PORT, workers=args.workers, interface="asgi")
    else:
        server = granian(
            "config.wsgi:application", port=PORT, workers=args.workers, blocking_threads=args.blocking_threads
        )
    try:
        wait_for(PORT, "/bench/bare-hook/", method="POST", body=b"{}")
        wrk(
            script="hook_bench.lua",
            port=PORT,
            path="/bench/bare-hook/",
            duration=2,
            connections=args.connections,
            env={**env, "WRK_RUN": run_id + "w"},
        )
        wrk(
            script="hook_bench.lua",
            port=PORT,
            path=hook_path,
            duration=2,
            connections=args.connections,
            env={**env, "WRK_RUN": run_id + "w"},
        )  # warm-up
        loads = [os.getloadavg()[0]]
        # CPU seconds of the server's processes and of PostgreSQL around each full-load run:
        # a cost per request that a busy machine does not inflate the way it inflates req/s.
        cpu = [(process_tree_cpu_seconds(server.pid), command_cpu_seconds("postgres"))]
        floor = wrk(
            script="hook_bench.lua",
            port=PORT,
            path="/bench/bare-hook/",
            duration=args.duration,
            connections=args.connections,
            env=env,
        )
        cpu.append((process_tree_cpu_seconds(server.pid), command_cpu_seconds("postgres")))
        loads.append(os.getloadavg()[0])
        hook = wrk(
            script="hook_bench.lua",
            port=PORT,
            path=hook_path,
            duration=args.duration,
            connections=args.connections,
            env=env,
        )
        cpu.append((process_tree_cpu_seconds(server.pid), command_cpu_seconds("postgres")))
        loads.append(os.getloadavg()[0])
        delay_ms = args.connections * 1000 / (hook["rps"] / 2)
        half = wrk(
            script="hook_bench.lua",
            port=PORT,
            path=hook_path,
            duration=args.duration,
            connections=args.connections,
            env={**env, "WRK_RUN": run_id + "h"},
            delay_ms=delay_ms,
        )
        loads.append(os.getloadavg()[0])
    finally:
        # Let the requests wrk abandoned at the end of the last run finish (stored and queued)
        # before stopping the server: a worker stopped between the commit and the publish
        # leaves its event pending, for the Beat sweep to queue again.
        time.sleep(1)
        server.terminate()
        server.wait(10)
    prefix = f"H{run_id}"
    stored = HookEvent.objects.filter(vtex_order_id__startswith=f"{prefix}-").count()
    stored_half = HookEvent.objects.filter(vtex_order_id__startswith=f"{prefix}h-").count()
    stored_warm = HookEvent.objects.filter(vtex_order_id__startswith=f"{prefix}w-").count()
    queued = int(broker.llen(queue))
    broker.delete(queue)
    threads = settings.WEB_DJANGO_CONCURRENCY if args.serve == "asgi" else args.blocking_threads
    print(
        f"granian {args.serve}: {args.workers} worker(s) x {threads} Django thread(s), {args.connections} connections"
    )
    print(f"load average (1 min) before/after each run: {', '.join(f'{x:.2f}' for x in loads)}")
    print(f"{'target':<30}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, row in (("bare Django POST (floor)", floor), ("hook, full load", hook), ("hook, half load", half)):
        print(f"{name:<30}{row['rps']:>10.0f}{row['p50']:>10.2f}{row['p99']:>10.2f}{row['errors']:>8}")
    print(
        f"hook vs bare: {hook['rps'] / floor['rps']:.0%} (goal ≥ 50%); p99 full load {hook['p99']:.2f} ms, "
        f"half load {half['p99']:.2f} ms (goal ≤ 50 ms)"
    )
    costs = []
    for (name, row), before, after in zip((("bare", floor), ("hook", hook)), cpu[:-1], cpu[1:], strict=True):
        server_ms = (after[0] - before[0]) * 1000 / max(row["requests"], 1)
        postgres_ms = (after[1] - before[1]) * 1000 / max(row["requests"], 1)
        costs.append(server_ms)
        print(f"CPU per request, {name}: server {server_ms:.2f} ms, PostgreSQL {postgres_ms:.2f} ms")
    print(f"server CPU per request, bare / hook: {costs[0] / costs[1]:.0%}")
    answered = int(hook["requests"] - hook["errors"] + half["requests"] - half["errors"])
    total = stored + stored_half + stored_warm
    batched = 0 < queued < total and stored + stored_half >= answered
    print(
        f"stored {stored + stored_half} (wrk saw {answered} answers; in-flight ones at the end of a run are stored "
        f"too); broker messages {queued} for {total} events stored (one drain per window, not one per "
        f"notification): {'OK' if batched else 'MISMATCH'}"
    )


if __name__ == "__main__":
    main()
