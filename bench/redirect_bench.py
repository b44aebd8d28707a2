"""Redirect benchmark (issue #7). One run, same machine: nginx answering a 302 (ceiling), a
bare Django view returning a redirect (floor, same middleware), and `/r/<slug>` with screening
and durable recording (Redis stream). Then a throttled run of `/r/` at half its peak to read p99,
a drain, and the check valid clicks stored == valid clicks served.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mgm_bench REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/redirect_bench.py [--duration 10] [--connections 16]

Needs nginx, wrk and granian (apt-get install nginx wrk).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import granian, wait_for, wrk  # noqa: E402

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_redirect"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mgm_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
DJANGO_PORT, NGINX_PORT = 18081, 18080


def prepare() -> str:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from affiliates.models import Membership
    from campaigns.models import Brand
    from tests.factories import BrandFactory, CampaignFactory, InfluencerFactory, MembershipFactory
    from tracking.buffer import click_buffer
    from tracking.models import Click, Link
    from tracking.services import link_create

    brand = Brand.objects.filter(slug="bench").first() or BrandFactory(slug="bench", vtex_account="bench")
    link = Link.objects.filter(slug="bench-link").first()
    if link is None:
        campaign = CampaignFactory(brand=brand, slug="bench")
        membership = MembershipFactory(brand=brand, influencer=InfluencerFactory(), status=Membership.Status.APPROVED)
        link = link_create(campaign=campaign, influencer=membership.influencer, slug="bench-link")
    buffer = click_buffer()
    buffer.drain()
    Click.objects.filter(link=link).delete()
    return link.slug


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--blocking-threads", type=int, default=1)
    args = parser.parse_args()
    served_file = Path(tempfile.mkdtemp(prefix="mgm-bench-")) / "served"
    os.environ["MGM_BENCH_SERVED_FILE"] = str(served_file)
    slug = prepare()
    nginx = subprocess.Popen(["nginx", "-c", str(ROOT / "bench/nginx_redirect.conf")])
    server = granian(
        "bench.wsgi_redirect:application",
        port=DJANGO_PORT,
        workers=args.workers,
        blocking_threads=args.blocking_threads,
    )
    try:
        wait_for(NGINX_PORT, "/")
        wait_for(DJANGO_PORT, "/bench/bare")
        wrk(
            script="redirect_bench.lua", port=DJANGO_PORT, path=f"/r/{slug}", duration=2, connections=args.connections
        )  # warm-up (cache, connections)
        from tracking.buffer import click_buffer

        click_buffer().drain()
        from tracking.models import Click

        Click.objects.all().delete()
        served_file.write_bytes(b"")
        ceiling = wrk(
            script="redirect_bench.lua", port=NGINX_PORT, path="/", duration=args.duration, connections=args.connections
        )
        floor = wrk(
            script="redirect_bench.lua",
            port=DJANGO_PORT,
            path="/bench/bare",
            duration=args.duration,
            connections=args.connections,
        )
        tracked = wrk(
            script="redirect_bench.lua",
            port=DJANGO_PORT,
            path=f"/r/{slug}",
            duration=args.duration,
            connections=args.connections,
        )
        half_rate = tracked["rps"] / 2
        delay_ms = args.connections * 1000 / half_rate
        half = wrk(
            script="redirect_bench.lua",
            port=DJANGO_PORT,
            path=f"/r/{slug}",
            duration=args.duration,
            connections=args.connections,
            delay_ms=delay_ms,
        )
    finally:
        server.terminate()
        nginx.terminate()
        server.wait(10)
        nginx.wait(10)
    report = click_buffer().drain(max_batches=10_000)
    stored_valid = Click.objects.filter(is_valid=True).count()
    # Counted by the server (bench/wsgi_redirect.py): wrk's own count misses the responses in
    # flight when a run ends, whose clicks are stored all the same.
    served_valid = served_file.stat().st_size
    client_valid = int(tracked["valid"] + half["valid"])
    print(f"granian: {args.workers} worker(s) x {args.blocking_threads} blocking thread(s); load {os.getloadavg()}")
    print(f"{'target':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, row in (
        ("nginx 302 (ceiling)", ceiling),
        ("bare Django redirect (floor)", floor),
        ("/r/<slug> full load", tracked),
        ("/r/<slug> at half load", half),
    ):
        print(f"{name:<28}{row['rps']:>10.0f}{row['p50']:>10.2f}{row['p99']:>10.2f}{row['errors']:>8}")
    print(
        f"/r/ vs bare Django: {tracked['rps'] / floor['rps']:.0%} (goal ≥ 70%); p99 at half load "
        f"{half['p99']:.2f} ms (goal ≤ 10 ms)"
    )
    print(
        f"drained {report.stored}; valid clicks served {served_valid} (wrk saw {client_valid}), stored {stored_valid}: "
        f"{'OK' if served_valid == stored_valid else 'MISMATCH'}"
    )


if __name__ == "__main__":
    main()
