"""Benchmarks of the orders flow (not a test). Runs against the database and broker in the
environment (use PostgreSQL and Redis for meaningful numbers):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mgm_h5 REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/orders_bench.py [--hooks 3000] [--orders 1000] [--stored 100000] [--changed 0]

1. hook: the VTEX hook endpoint (store raw + enqueue to the broker) against a bare Django view,
   through the full middleware stack, in the same run: requests/s and p99.
2. e2e: notifications processed end to end (fetch from a fake VTEX answering in 20 ms, reconcile,
   commissions, ledger) by a pool of worker threads: orders/s.
3. reprocess: `orders_reprocess_stored` over N stored orders (`--changed K` more that differ
   from their VTEX document and are re-applied): seconds, and changed orders re-applied per
   second. `--fan-out N` re-applies them as the back office's job does (plan, then chunks of
   one lane) over N forked worker processes instead of in this one.

It creates its own database (test_<name>_bench) and drops nothing else.
"""

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def setup_django() -> None:
    import django
    from django.conf import settings

    django.setup()
    db = settings.DATABASES["default"]
    db["NAME"] = f"{db['NAME']}_bench" if db["ENGINE"].endswith("postgresql") else str(ROOT / "var" / "bench.sqlite3")
    db["TEST"] = {
        "NAME": f"test_{Path(str(db['NAME'])).name}",
        "CHARSET": None,
        "COLLATION": None,
        "TEMPLATE": None,
        "MIRROR": None,
        "MIGRATE": True,
        "SERIALIZE": False,
    }
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, keepdb=True, autoclobber=True)
    from config.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.ALLOWED_HOSTS = ["*"]


def bench_hook(n: int) -> dict[str, Any]:
    from django.http import HttpResponse
    from django.test import Client
    from django.urls import clear_url_caches, path
    from django.views.decorators.csrf import csrf_exempt

    import config.urls
    from tests.factories import BrandFactory

    @csrf_exempt
    def bare(request: Any) -> HttpResponse:
        return HttpResponse(b'{"ok": true}', content_type="application/json")

    config.urls.urlpatterns.append(path("bench/bare/", bare))
    clear_url_caches()
    brand = BrandFactory(slug=f"bench-{int(time.time())}", vtex_account=f"bench{int(time.time())}")
    token = str(brand.hook_token)
    client = Client()
    results: dict[str, Any] = {}
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "8"))
    from django.db import connections

    for name, url in (("bare", "/bench/bare/"), ("hook", f"/api/v1/webhooks/vtex/{brand.slug}/orders/")):
        latencies: list[float] = []
        for _i in range(50):  # warm up
            client.post(url, data="{}", content_type="application/json")

        def one(i: int, url: str = url, latencies: list[float] = latencies) -> None:
            body = json.dumps(
                {
                    "Domain": "Marketplace",
                    "OrderId": f"B{i}-01",
                    "State": "payment-approved",
                    "LastChange": "2024-02-04T20:15:12.7010747Z",
                    "CurrentChange": f"2024-02-04T20:15:{i % 60:02d}.{i:07d}Z",
                    "Origin": {"Account": brand.vtex_account, "Key": "k"},
                }
            )
            t0 = time.perf_counter()
            response = Client().post(url, data=body, content_type="application/json", HTTP_X_HOOK_TOKEN=token)
            latencies.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.content

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(one, range(n)))
        elapsed = time.perf_counter() - started
        connections.close_all()
        results[name] = {
            "concurrency": concurrency,
            "rps": round(n / elapsed),
            "p50_ms": round(percentile(latencies, 0.5), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
        }
    results["hook_vs_bare"] = f"{100 * results['hook']['rps'] / results['bare']['rps']:.0f}%"
    return results


def _defer_rollups() -> list[tuple[int, Any]]:
    """Replace the per-commit rollup refresh (reports.rollups) by a recorder, to measure the
    order flow with the refresh coalesced (run once at the end, timed on its own)."""
    from core import events

    recorded: list[tuple[int, Any]] = []

    def record(*, points: Any) -> None:
        recorded.extend(points)

    events._subscribers["facts.changed"] = [record]
    return recorded


def _process_chunk(event_ids: list[int], threads: int) -> None:
    """One worker process (forked after setup, like a Celery prefork child) processing its share
    of the notifications with `threads` threads."""
    from django.db import connections

    from orders.services import hook_event_process

    def run(event_id: int) -> None:
        hook_event_process(event_id=event_id)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(run, event_ids))
    connections.close_all()


def bench_e2e(n: int, workers: int, *, defer_rollups: bool = False, processes: int = 1) -> dict[str, Any]:
    from decimal import Decimal

    from django.db import connections
    from django.test import override_settings

    from campaigns.models import CommissionRule
    from codes.models import Code
    from orders.models import HookEvent
    from orders.services import hook_event_process
    from tests.factories import BrandFactory, CampaignFactory, InfluencerFactory, UserFactory
    from tests.fake_vtex import FakeVTEX, load_sample

    class SlowVTEX(FakeVTEX):
        def route(self, method: str, path: str, query: Any, body: Any) -> Any:
            time.sleep(0.02)
            return super().route(method, path, query, body)

    stamp = int(time.time())
    # The sample orders are in BRL: a brand in another currency would skip the commissions.
    brand = BrandFactory(slug=f"e2e-{stamp}", vtex_account=f"e2e{stamp}", currency="BRL")
    campaign = CampaignFactory(brand=brand)
    CommissionRule.objects.create(campaign=campaign, name="10%", kind="percentage", rate_percent=Decimal(10))
    influencers = [InfluencerFactory(user=UserFactory(email=f"e2e{stamp}-{i}@bench.example")) for i in range(20)]
    for i, influencer in enumerate(influencers):
        Code.objects.create(brand=brand, campaign=campaign, influencer=influencer, text=f"E2E{stamp}C{i}")
    fake = SlowVTEX().start()
    sample = load_sample("oms-order-coupon-3-items.json")
    events = []
    for i in range(n):
        doc = json.loads(json.dumps(sample))
        doc["orderId"] = f"E{stamp}{i}-01"
        doc["marketingData"]["coupon"] = f"E2E{stamp}C{i % 20}"
        doc["ratesAndBenefitsData"]["rateAndBenefitsIdentifiers"][0]["matchedParameters"]["couponCode@Marketing"] = doc[
            "marketingData"
        ]["coupon"]
        fake.add_order(doc)
        events.append(
            HookEvent(
                brand=brand,
                vtex_order_id=doc["orderId"],
                state="payment-approved",
                change_key="x",
                payload={},
                received_at=doc["creationDate"],
            )
        )
    ids = [e.pk for e in HookEvent.objects.bulk_create(events)]
    deferred = _defer_rollups() if defer_rollups else None

    def work(event_id: int) -> None:
        try:
            hook_event_process(event_id=event_id)
        finally:
            pass

    with override_settings(VTEX_API_BASE_URL=fake.url, VTEX_RATE_LIMIT_PER_MINUTE=10**9):
        local = threading.local()

        def run(event_id: int) -> None:
            local.used = True
            work(event_id)

        started = time.perf_counter()
        if processes > 1:
            import multiprocessing

            connections.close_all()  # each forked process opens its own
            chunks = [ids[i::processes] for i in range(processes)]
            with multiprocessing.get_context("fork").Pool(processes) as procs:
                procs.starmap(_process_chunk, [(chunk, max(1, workers // processes)) for chunk in chunks])
        else:
            with ThreadPoolExecutor(max_workers=workers, initializer=lambda: None) as pool:
                list(pool.map(run, ids))
        elapsed = time.perf_counter() - started
    fake.stop()
    connections.close_all()
    processed = HookEvent.objects.filter(pk__in=ids, status="processed").count()
    result: dict[str, Any] = {
        "orders": n,
        "processed": processed,
        "workers": workers,
        "processes": processes,
        "seconds": round(elapsed, 2),
        "orders_per_s": round(n / elapsed),
        "rollups": "deferred" if deferred is not None else "per commit",
    }
    if deferred is not None:
        from reports.rollups import _days_by_brand, rollup_refresh

        started = time.perf_counter()
        for brand_id, days in _days_by_brand(deferred).items():
            rollup_refresh(brand_id=brand_id, days=days)
        result["coalesced_rollup_refresh_s"] = round(time.perf_counter() - started, 2)
    return result


def bench_reprocess(n: int, changed: int = 0, fan_out: int = 0) -> dict[str, Any]:
    """`orders_reprocess_stored` over `n` stored orders, of which `changed` no longer match
    their stored VTEX document (status and lines behind it, as after a bug fix): those are
    re-applied through the batch path (lanes, attribution, commissions, ledger); the others
    are only compared. `fan_out` N: the back office job's way instead, its chunks over N
    forked worker processes."""
    from bench._orders_data import bench_brand, order_documents, statistics_current
    from orders.models import Order, OrderLine
    from orders.services import orders_reprocess_stored

    stamp = int(time.time())
    target = bench_brand("rep")
    brand = target.brand
    template = {
        "orderId": "",
        "status": "invoiced",
        "value": 5922,
        "lastChange": "2024-02-05T10:00:00+00:00",
        "creationDate": "2024-02-04T20:09:43+00:00",
        "items": [{"id": "18", "quantity": 2, "sellingPrice": 2961, "priceDefinition": {"total": 5922}}],
    }
    made = time.perf_counter()
    batch = 5000
    for start in range(0, n, batch):
        orders = []
        for i in range(start, min(n, start + batch)):
            snap = dict(template, orderId=f"R{stamp}-{i}-01")
            orders.append(
                Order(
                    brand=brand,
                    vtex_order_id=snap["orderId"],
                    status="invoiced",
                    value_cents=5922,
                    snapshot=snap,
                    snapshot_hash="h",
                )
            )
        created = Order.objects.bulk_create(orders, batch_size=batch)
        OrderLine.objects.bulk_create(
            [OrderLine(order=o, item_index=0, sku_id="18", quantity=2, total_cents=5922) for o in created],
            batch_size=batch,
        )
    # The changed ones: a coupon order of one of the brand's influencers, stored as paid with
    # no lines while its document says invoiced with three.
    Order.objects.bulk_create(
        [
            Order(
                brand=brand,
                vtex_order_id=doc["orderId"],
                status="payment-approved",
                value_cents=int(doc["value"]),
                snapshot=dict(doc, status="invoiced"),
                snapshot_hash="h",
            )
            for doc in order_documents(target, changed, tag="c")
        ],
        batch_size=batch,
    )
    statistics_current()
    setup_seconds = time.perf_counter() - made
    started = time.perf_counter()
    if fan_out:
        report, plan_seconds = _reprocess_fanned_out(brand, processes=fan_out)
    else:
        report, plan_seconds = orders_reprocess_stored(brand=brand, batch_size=5000), None
    elapsed = time.perf_counter() - started
    result = {
        "orders": n + changed,
        "checked": report.checked,
        "differing": report.differing,
        "reapplied": report.reapplied,
        "failed": report.failed,
        "seconds": round(elapsed, 2),
        "changed_orders_per_s": round(report.reapplied / elapsed, 1) if report.reapplied else None,
        "setup_seconds": round(setup_seconds, 1),
    }
    if fan_out:
        result |= {"fan_out_processes": fan_out, "plan_seconds": plan_seconds}
    return result


def _chunk_apply(job: tuple[int, int, list[int]]) -> tuple[int, int]:
    """One chunk in a forked worker, as `backoffice.tasks.operator_job_chunk_task` applies it."""
    from brands.models import Brand
    from orders.services import orders_reprocess_chunk

    brand_id, lane, order_ids = job
    return orders_reprocess_chunk(brand=Brand.objects.get(pk=brand_id), lane=lane, order_ids=order_ids)


def _reprocess_fanned_out(brand: Any, *, processes: int) -> tuple[Any, float]:
    """The back office's "re-apply stored orders" job without the broker: the plan in this
    process, its chunks over `processes` forked workers (Celery prefork children would take
    them from the `orders` queue the same way, one at a time)."""
    import multiprocessing

    from django.db import connections

    from orders.services import orders_reprocess_plan

    started = time.perf_counter()
    report, chunks = orders_reprocess_plan(brand=brand, chunk_size=200)
    plan_seconds = round(time.perf_counter() - started, 2)
    connections.close_all()  # each child opens its own
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for reapplied, failed in pool.imap_unordered(
            _chunk_apply, [(brand.pk, chunk.lane, chunk.order_ids) for chunk in chunks]
        ):
            report.reapplied += reapplied
            report.failed += failed
    return report, plan_seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hooks", type=int, default=3000)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument(
        "--changed", type=int, default=0, help="of the reprocess, orders that differ from VTEX's document"
    )
    parser.add_argument("--only", choices=["hook", "e2e", "reprocess"])
    parser.add_argument("--processes", type=int, default=1, help="forked worker processes sharing --workers threads")
    parser.add_argument("--defer-rollups", action="store_true", help="coalesce the rollup refresh (see _defer_rollups)")
    parser.add_argument(
        "--fan-out", type=int, default=0, help="reprocess as the back-office job does, over N forked worker processes"
    )
    args = parser.parse_args()
    setup_django()
    from django.conf import settings

    print("database:", settings.DATABASES["default"]["ENGINE"], "broker:", settings.CELERY_BROKER_URL.split("@")[-1])
    if args.only in (None, "hook"):
        print("hook:", json.dumps(bench_hook(args.hooks)))
    if args.only in (None, "e2e"):
        print(
            "e2e:",
            json.dumps(
                bench_e2e(args.orders, args.workers, defer_rollups=args.defer_rollups, processes=args.processes)
            ),
        )
    if args.only in (None, "reprocess"):
        print("reprocess:", json.dumps(bench_reprocess(args.stored, args.changed, args.fan_out)))


if __name__ == "__main__":
    main()
