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

from bench._common import database_ensure, granian, wait_for, wrk  # noqa: E402

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_redirect"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mgm_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")


def prepare() -> str:
    import django

    database_ensure(os.environ["DATABASE_URL"])
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from affiliates.models import Membership
    from brands.models import Brand
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
    parser.add_argument("--port-base", type=int, default=18080, help="nginx; WSGI +1; ASGI +2")
    args = parser.parse_args()
    nginx_port, wsgi_port, asgi_port = args.port_base, args.port_base + 1, args.port_base + 2
    served_file = Path(tempfile.mkdtemp(prefix="mgm-bench-")) / "served"
    os.environ["MGM_BENCH_SERVED_FILE"] = str(served_file)
    slug = prepare()
    nginx_conf = served_file.parent / "nginx.conf"
    nginx_conf.write_text((ROOT / "bench/nginx_redirect.conf").read_text().replace("18080", str(nginx_port)))
    load_before = os.getloadavg()
    nginx = subprocess.Popen(["nginx", "-c", str(nginx_conf)])
    # The floor as production served it before the edge (WSGI), and the same server as `/r/`.
    wsgi = granian(
        "bench.wsgi_redirect:application", port=wsgi_port, workers=args.workers, blocking_threads=args.blocking_threads
    )
    asgi = granian("bench.asgi_redirect:application", port=asgi_port, workers=args.workers, interface="asgi")
    run = {"script": "redirect_bench.lua", "duration": args.duration, "connections": args.connections}
    try:
        wait_for(nginx_port, "/")
        wait_for(wsgi_port, "/bench/bare")
        wait_for(asgi_port, "/bench/bare")
        for port in (wsgi_port, asgi_port):  # warm-up (caches, connections)
            wrk(**{**run, "duration": 2}, port=port, path=f"/r/{slug}")  # type: ignore[arg-type]
            wrk(**{**run, "duration": 2}, port=port, path="/bench/bare")  # type: ignore[arg-type]
        from tracking.buffer import click_buffer

        click_buffer().drain(max_batches=10_000)
        from tracking.models import Click

        Click.objects.all().delete()
        served_file.write_bytes(b"")
        ceiling = wrk(**run, port=nginx_port, path="/")  # type: ignore[arg-type]
        floor_wsgi = wrk(**run, port=wsgi_port, path="/bench/bare")  # type: ignore[arg-type]
        floor_asgi = wrk(**run, port=asgi_port, path="/bench/bare")  # type: ignore[arg-type]
        tracked = wrk(**run, port=asgi_port, path=f"/r/{slug}")  # type: ignore[arg-type]
        delay_ms = args.connections * 1000 / (tracked["rps"] / 2)
        half = wrk(**run, port=asgi_port, path=f"/r/{slug}", delay_ms=delay_ms)  # type: ignore[arg-type]
    finally:
        for process in (asgi, wsgi, nginx):
            process.terminate()
        for process in (asgi, wsgi, nginx):
            process.wait(10)
    load_after = os.getloadavg()
    report = click_buffer().drain(max_batches=10_000)
    stored_valid = Click.objects.filter(is_valid=True).count()
    # Counted by the server (bench/asgi_redirect.py): wrk's own count misses the responses in
    # flight when a run ends, whose clicks are stored all the same.
    served_valid = served_file.stat().st_size
    client_valid = int(tracked["valid"] + half["valid"])
    print(f"granian: {args.workers} worker(s); load average before {load_before}, after {load_after}")
    print(f"{'target':<34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, row in (
        ("nginx return 302 (ceiling)", ceiling),
        ("bare Django redirect, WSGI", floor_wsgi),
        ("bare Django redirect, ASGI", floor_asgi),
        ("/r/<slug> edge, full load", tracked),
        ("/r/<slug> edge, half load", half),
    ):
        print(f"{name:<34}{row['rps']:>10.0f}{row['p50']:>10.2f}{row['p99']:>10.2f}{row['errors']:>8}")
    print(
        f"/r/ vs bare Django on the same (ASGI) server: {tracked['rps'] / floor_asgi['rps']:.1f}x; "
        f"vs bare Django under WSGI: {tracked['rps'] / floor_wsgi['rps']:.1f}x (goal >= 5x); "
        f"vs nginx: {tracked['rps'] / ceiling['rps']:.1%}; p99 at half load {half['p99']:.2f} ms (goal <= 10 ms)"
    )
    print(
        f"drained {report.stored}; valid clicks served {served_valid} (wrk saw {client_valid}), stored {stored_valid}: "
        f"{'OK' if served_valid == stored_valid else 'MISMATCH'}"
    )


if __name__ == "__main__":
    main()
