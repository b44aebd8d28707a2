"""What one page of the 1,000-user mix costs in process: CPU milliseconds, SQL statements and
cache round trips per request, page by page, on the data bench/users_bench.py serves. Not a
test and not a load run: it finds where a request's CPU goes (the users bench measures what
people wait). Each page is requested `--repeat` times with the same signed-in person after
two warm-up requests (panels cached, as in a running site).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mgm_bench_users REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/page_costs.py [--repeat 40] [--profile-out FILE]

"min/5" is the CPU per request of the cheapest run of 5 in a row: on a shared machine, the
figure to compare between two versions. `--profile-out FILE` also writes a cProfile of every
measured request (pstats format); `--only TEXT` keeps the pages whose path contains it.
"""

import argparse
import cProfile
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_serving"

from bench._common import database_ensure  # noqa: E402
from bench._orders_data import loadavg  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--influencers", type=int, default=700)
    parser.add_argument("--only", default="", help="only the pages whose path contains this")
    parser.add_argument("--profile-out")
    args = parser.parse_args()

    import django

    database_ensure(os.environ["DATABASE_URL"])
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench._portal_data import portal_people

    call_command("migrate", verbosity=0)
    people = portal_people(influencers=args.influencers, managers=1)
    brand = people.brand_slug
    pages = [
        ("portal", f"/portal/{brand}/"),
        ("portal", f"/portal/{brand}/?period=90d"),
        ("portal", f"/portal/{brand}/orders/"),
        ("portal", f"/portal/{brand}/codes/"),
        ("portal", f"/portal/{brand}/earnings/"),
        ("admin", "/admin/"),
        ("admin", "/admin/affiliates/membership/"),
        ("admin", "/admin/tracking/link/"),
        ("admin", "/admin/orders/order/"),
    ]
    cookies = {"portal": people.influencer_cookies[0], "admin": people.manager_cookies[0]}
    redis_calls = _count_cache_calls()
    profile = cProfile.Profile() if args.profile_out else None
    print(f"load average before: {loadavg()}")
    print(f"{'page':<42}{'status':>7}{'CPU ms':>9}{'min/5':>9}{'wall ms':>9}{'SQL':>6}{'cache':>7}")
    for kind, path in [(kind, path) for kind, path in pages if args.only in path]:
        client = Client(SERVER_NAME="localhost", HTTP_COOKIE=cookies[kind], HTTP_ACCEPT_LANGUAGE="es")
        for _ in range(2):
            client.get(path)
        cpu = wall = 0.0
        batches: list[float] = []  # CPU of each run of 5 requests: its minimum resists a busy machine
        with CaptureQueriesContext(connection) as queries:
            calls_before = redis_calls[0]
            for i in range(args.repeat):
                started_cpu, started = time.process_time(), time.perf_counter()
                if profile is not None:
                    profile.enable()
                response = client.get(path)
                if profile is not None:
                    profile.disable()
                spent = time.process_time() - started_cpu
                cpu += spent
                wall += time.perf_counter() - started
                if i % 5 == 0:
                    batches.append(0.0)
                batches[-1] += spent / 5
        n = args.repeat
        print(
            f"{path:<42}{response.status_code:>7}{cpu * 1000 / n:>9.2f}{min(batches) * 1000:>9.2f}"
            f"{wall * 1000 / n:>9.2f}{len(queries) / n:>6.1f}{(redis_calls[0] - calls_before) / n:>7.1f}"
        )
    print(f"load average after: {loadavg()}")
    if profile is not None:
        profile.dump_stats(args.profile_out)


def _count_cache_calls() -> list[int]:
    """Count commands sent to Redis by the cache (every get/get_many/set... is one round trip)."""
    from redis.client import Redis

    counter = [0]
    original = Redis.execute_command

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counter[0] += 1
        return original(self, *args, **kwargs)

    Redis.execute_command = counted  # type: ignore[method-assign]
    return counter


if __name__ == "__main__":
    main()
