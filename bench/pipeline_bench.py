"""End-to-end order pipeline: N hook notifications stored → orders fetched from a fake VTEX
answering in 20 ms → orders, attribution, commissions and ledger committed. Prints orders/s of
the one-notification-at-a-time path (`hook_event_process`, what `order_sync_task` runs) beside
the batched drain (`hook_events_process_task` → `hook_events_process_batch`) in the same run,
with load averages. Not a test; use PostgreSQL and Redis:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mgm REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/pipeline_bench.py [--orders 600] [--processes 2] [--threads 1] [--runs 3] [--brands 4]

Workers are forked processes, like Celery's prefork pool (`--processes`, compose runs 2;
`--threads` threads each for the single path). Our own VTEX budget is off
(VTEX_ORDER_READS_PER_MINUTE=0) so the figure is our cost, not VTEX's limit; `--budget 6000`
runs the batched path under a per-brand budget instead (one brand is then capped at budget/60
orders/s). `--brands N` spreads the orders over N brands, interleaved: a brand's batches take
turns, so several brands let the workers apply at once. A run counts as done when every
notification is processed and every order has its three commissions (the sample order has
three items). Each run prints CPU per order (the workers', PostgreSQL's when it runs here, and
this process's, which serves the fake VTEX). The workers fork from a process warmed up as a
Celery worker's main process is (`--cold`: not).

`--arrival 100 --seconds 30` measures latency instead: notifications are stored one by one at
100 per second while the workers drain as the hook's kicks make them, and it prints how long
each took from stored to committed with its commissions (p50, p95, p99, max).
"""

import argparse
import json
import multiprocessing
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._orders_data import (  # noqa: E402
    bench_brand,
    loadavg,
    order_documents,
    postgres_cpu_seconds,
    statistics_current,
)
from bench.orders_bench import setup_django  # noqa: E402

VTEX_LATENCY = 0.02


def _worker(mode: str, event_ids: list[int], threads: int) -> None:
    """One forked worker process (a Celery prefork child)."""
    from django.db import connections

    if mode == "single":
        from orders.services import hook_event_process

        def run(event_id: int) -> None:
            try:
                hook_event_process(event_id=event_id)
            finally:
                connections.close_all()  # pragma: no cover - thread exit

        if threads == 1:
            for event_id in event_ids:
                hook_event_process(event_id=event_id)
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(run, event_ids))
    else:
        from orders.tasks import hook_events_process_task

        while hook_events_process_task(max_seconds=600.0):
            pass
    connections.close_all()


def _arrival_worker(stop_at: float) -> None:
    """A worker while notifications keep arriving: it drains as `hook_events_process_task`
    does, and when a drain comes back caught up it waits for the next kick, which the hook
    publishes at most every VTEX_HOOK_DRAIN_SECONDS (orders.drain). It stops after `stop_at`
    once nothing is pending."""
    from django.conf import settings
    from django.db import connections

    from orders.models import HookEvent
    from orders.tasks import hook_events_process_task

    kick = float(settings.VTEX_HOOK_DRAIN_SECONDS)
    while True:
        if hook_events_process_task(max_seconds=50.0) < int(settings.ORDERS_BATCH_SIZE):
            if time.monotonic() >= stop_at and not HookEvent.objects.filter(status=HookEvent.Status.PENDING).exists():
                break
            time.sleep(kick)
    connections.close_all()


def run_arrival(*, fake: Any, rate: float, seconds: float, processes: int, influencers: int) -> dict[str, Any]:
    """Notifications stored at `rate` per second for `seconds` (as the hook stores them, one
    by one) while the workers drain; how long each took from stored to committed with its
    commissions (the event's processed_at, set in the transaction that writes them)."""
    from django.db import connections
    from django.db.models import F
    from django.utils import timezone

    from bench._common import percentile
    from commissions.models import Commission
    from orders.models import HookEvent

    target = bench_brand("ar", influencers=influencers)
    n = int(rate * seconds)
    docs = order_documents(target, n, tag="a")
    for doc in docs:
        fake.add_order(doc)
    statistics_current()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    load_before = loadavg()
    started = time.monotonic()
    # The workers stop once the last notification is stored and nothing is left pending.
    workers = [context.Process(target=_arrival_worker, args=(started + seconds,)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for i, doc in enumerate(docs):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        HookEvent.objects.create(
            brand=target.brand,
            vtex_order_id=doc["orderId"],
            state="payment-approved",
            change_key="arrival",
            payload={},
            received_at=timezone.now(),
        )
    offered = n / (time.monotonic() - started)
    for worker in workers:
        worker.join()
    events = HookEvent.objects.filter(brand=target.brand)
    waits = [
        delta.total_seconds()
        for delta in events.filter(status=HookEvent.Status.PROCESSED)
        .annotate(wait=F("processed_at") - F("received_at"))
        .values_list("wait", flat=True)
    ]
    commissions = Commission.objects.filter(order__brand=target.brand).count()
    return {
        "mode": "arrival",
        "orders": n,
        "influencers": influencers,
        "offered_per_s": round(offered, 1),
        "processed": len(waits),
        "complete": len(waits) == n and commissions == 3 * n,
        "stored_to_commissions_s": {
            "p50": round(percentile(waits, 0.5), 3),
            "p95": round(percentile(waits, 0.95), 3),
            "p99": round(percentile(waits, 0.99), 3),
            "max": round(max(waits), 3),
        }
        if waits
        else None,
        "load_before": load_before,
        "load_after": loadavg(),
    }


def run_once(mode: str, *, fake: Any, n: int, processes: int, threads: int, brands: int = 1) -> dict[str, Any]:
    from django.db import connections
    from django.utils import timezone

    from commissions.models import Commission
    from orders.models import HookEvent

    targets = [bench_brand(f"pl{k}") for k in range(brands)]
    # The orders of the brands interleaved, as notifications of several stores arrive.
    per_brand = [
        order_documents(target, n // brands + (k < n % brands), tag=mode[0]) for k, target in enumerate(targets)
    ]
    docs = [
        (targets[k], per_brand[k][i])
        for i in range(max(map(len, per_brand)))
        for k in range(brands)
        if i < len(per_brand[k])
    ]
    for _target, doc in docs:
        fake.add_order(doc)
    now = timezone.now()
    events = HookEvent.objects.bulk_create(
        HookEvent(
            brand=target.brand,
            vtex_order_id=doc["orderId"],
            state="payment-approved",
            change_key="bench",
            payload={},
            received_at=now,
        )
        for target, doc in docs
    )
    ids = [event.pk for event in events]
    statistics_current()
    pg_before = postgres_cpu_seconds()
    connections.close_all()  # each forked worker opens its own
    load_before = loadavg()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    own_before = resource.getrusage(resource.RUSAGE_SELF)
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    workers = [context.Process(target=_worker, args=(mode, ids[i::processes], threads)) for i in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    own = resource.getrusage(resource.RUSAGE_SELF)
    fake_cpu = (own.ru_utime + own.ru_stime) - (own_before.ru_utime + own_before.ru_stime)
    pg_after = postgres_cpu_seconds()
    processed = HookEvent.objects.filter(pk__in=ids, status=HookEvent.Status.PROCESSED).count()
    commissions = Commission.objects.filter(order__brand__in=[target.brand for target in targets]).count()
    return {
        "mode": mode,
        "brands": brands,
        "orders": n,
        "processed": processed,
        "commissions": commissions,
        "complete": processed == n and commissions == 3 * n,
        "seconds": round(elapsed, 2),
        "orders_per_s": round(n / elapsed, 1),
        # CPU per order: the workers' (the whole process, fetch threads included) and, when
        # PostgreSQL runs here, the server's; two cores serve 300 orders/s at <= 6.7 ms together.
        "cpu_ms_per_order": {
            "workers": round(1000 * workers_cpu / n, 2),
            "postgres": None if pg_before is None or pg_after is None else round(1000 * (pg_after - pg_before) / n, 2),
            "fake_vtex": round(1000 * fake_cpu / n, 2),  # this process, which serves the fake VTEX
        },
        "load_before": load_before,
        "load_after": loadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--single-orders", type=int, default=0, help="orders of the single path (default --orders)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--budget", type=int, default=0, help="VTEX order reads per minute per brand (0: none)")
    parser.add_argument("--only", choices=["single", "batched"])
    parser.add_argument("--brands", type=int, default=1, help="spread the orders over this many brands")
    parser.add_argument(
        "--arrival",
        type=float,
        default=0,
        help="instead: notifications arrive at this rate per second for --seconds while the workers drain",
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--influencers", type=int, default=20, help="of --arrival: the brand's influencers (codes)")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="fork the workers from a process that has not warmed up (no worker_init warm-up)",
    )
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.test import override_settings

    settings.DEBUG = False
    if not args.cold:
        # What a Celery worker's main process does before it forks its pool (config.celery's
        # worker_init): URLconf, catalogues and templates loaded once, not in every child's
        # first batch.
        from config.warmup import process_warm

        process_warm()

    from tests.fake_vtex import FakeVTEX

    class SlowVTEX(FakeVTEX):
        def route(self, method: str, path: str, query: Any, body: Any) -> Any:
            time.sleep(VTEX_LATENCY)
            return super().route(method, path, query, body)

    fake = SlowVTEX().start()
    print(
        "database:",
        settings.DATABASES["default"]["ENGINE"],
        f"fake VTEX latency {VTEX_LATENCY * 1000:.0f} ms, processes {args.processes}, brands {args.brands},",
        f"budget {args.budget or 'none'},",
        "cold workers" if args.cold else "workers warmed as Celery warms them",
    )
    results: dict[str, list[float]] = {}
    if args.arrival:
        with override_settings(
            VTEX_API_BASE_URL=fake.url, VTEX_RATE_LIMIT_REQUESTS=10**9, VTEX_ORDER_READS_PER_MINUTE=0
        ):
            for _run in range(args.runs):
                print(
                    "arrival:",
                    json.dumps(
                        run_arrival(
                            fake=fake,
                            rate=args.arrival,
                            seconds=args.seconds,
                            processes=args.processes,
                            influencers=args.influencers,
                        )
                    ),
                    flush=True,
                )
        fake.stop()
        return
    with override_settings(
        VTEX_API_BASE_URL=fake.url,
        VTEX_RATE_LIMIT_REQUESTS=10**9,
        VTEX_ORDER_READS_PER_MINUTE=args.budget,
    ):
        for _run in range(args.runs):
            for mode in ("single", "batched"):
                if args.only not in (None, mode):
                    continue
                n = args.single_orders or args.orders if mode == "single" else args.orders
                outcome = run_once(
                    mode, fake=fake, n=n, processes=args.processes, threads=args.threads, brands=args.brands
                )
                print(f"{mode}:", json.dumps(outcome), flush=True)
                results.setdefault(mode, []).append(outcome["orders_per_s"])
    fake.stop()
    for mode, rates in results.items():
        print(f"{mode} orders/s over {len(rates)} run(s): min {min(rates)}, median {statistics.median(rates)}")


if __name__ == "__main__":
    main()
