"""Benchmark: the payout cutoff for 10,000 influencers with 1,000,000 confirmed commissions whose
hold ends in the period (goal: ≤ 60 s), with automatic payouts on (one withdrawal each).

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mgm_bench .venv/bin/python bench/cutoff_bench.py \
        [--influencers 10000] [--commissions 1000000] [--chunk-size 500] [--verify]

It DROPS and recreates the database named in BENCH_DATABASE_URL, whose name must contain "bench". The data set is generated in
SQL (generate_series) in the state the ledger services would leave it in after accruing and
confirming every commission: one commission position per commission, and per influencer one
balanced confirm transaction crediting "on hold" with the sum of their positions. The cutoff
itself runs through the real service. Influencer emails about their automatic withdrawals go
to the worker in production; here that hand-off is counted, not executed.
"""

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def recreate_database(url: str) -> None:
    """Drop and create the database the URL names; `database_recreate` refuses a name without
    "bench"."""
    from bench._common import database_recreate

    parsed = urlparse(url)
    server = {"host": parsed.hostname, "port": parsed.port, "user": parsed.username, "password": parsed.password}
    database_recreate(unquote(parsed.path.lstrip("/")), server=server, drop=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--influencers", type=int, default=10_000)
    parser.add_argument("--commissions", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--verify", action="store_true", help="run ledger_verify afterwards")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mgm_bench")
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - t0:.1f} s")

    from accounts.models import User
    from affiliates.models import Influencer, Membership, PayoutAccount
    from brands.models import Brand
    from payments.models import CommissionPosition, LedgerEntry, LedgerTransaction, PayoutSettings, Withdrawal
    from payments.services import cutoff as cutoff_module
    from payments.services.ledger import accounts_ensure, brand_expense_account

    brand = Brand.objects.create(
        name="Bench",
        slug="bench",
        vtex_account="bench",
        currency="COP",
        time_zone="America/Bogota",
        min_withdrawal_cents=100_00,
    )
    PayoutSettings.objects.create(brand=brand, automatic_payouts=True)
    n, m = args.influencers, args.commissions

    t0 = time.perf_counter()
    unusable = "!"  # Django's marker for "no password"
    users = User.objects.bulk_create(
        [User(email=f"bench{i}@example.com", password=unusable, full_name=f"Bench {i}") for i in range(n)],
        batch_size=5000,
    )
    influencers = Influencer.objects.bulk_create(
        [Influencer(user=u, display_name=u.full_name, country="CO") for u in users], batch_size=5000
    )
    Membership.objects.bulk_create(
        [Membership(influencer=i, brand=brand, status="approved") for i in influencers], batch_size=5000
    )
    PayoutAccount.objects.bulk_create(
        [
            PayoutAccount(
                influencer=i,
                account_holder=i.display_name,
                bank_name="Banco",
                bank_code="001",
                account_type="savings",
                account_number=f"{i.pk:010d}",
            )
            for i in influencers
        ],
        batch_size=2000,
    )
    accounts_ensure(brand=brand, influencer_ids=[i.pk for i in influencers])
    expense = brand_expense_account(brand=brand)
    print(f"influencers, memberships, payout data, accounts: {time.perf_counter() - t0:.1f} s")

    period_start = date(2026, 3, 1)
    hold_from = datetime(2026, 3, 1, 6, tzinfo=UTC)
    now = datetime(2026, 3, 16, 6, tzinfo=UTC)
    first_id = influencers[0].pk
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO payments_commissionposition
                (brand_id, influencer_id, commission_ref, estimated_cents, held_cents, released_cents,
                 reversed_cents, clawed_back_cents, accrued_at, confirmed_at, hold_until)
            SELECT %s, %s + (g %% %s), 'bench-' || g, 0, 100 + (g * 7919) %% 9900, 0, 0, 0,
                   %s::timestamptz - interval '20 days', %s::timestamptz - interval '15 days',
                   %s::timestamptz + ((g %% 1300000) || ' seconds')::interval
              FROM generate_series(1::bigint, %s) AS g
            """,
            [brand.pk, first_id, n, hold_from, hold_from, hold_from, m],
        )
        cur.execute(
            """
            INSERT INTO payments_ledgertransaction
                (brand_id, influencer_id, kind, reference, commission_ref, memo, occurred_at, posted_at)
            SELECT %s, influencer_id, 'confirm', 'bench-seed-' || influencer_id, '', 'bench seed', %s, now()
              FROM payments_commissionposition WHERE brand_id = %s GROUP BY influencer_id
            """,
            [brand.pk, hold_from, brand.pk],
        )
        cur.execute(
            """
            WITH sums AS (
                SELECT influencer_id, SUM(held_cents) AS total
                  FROM payments_commissionposition WHERE brand_id = %s GROUP BY influencer_id
            ), txns AS (
                SELECT t.id, s.influencer_id, s.total FROM sums s
                  JOIN payments_ledgertransaction t
                    ON t.brand_id = %s AND t.kind = 'confirm' AND t.reference = 'bench-seed-' || s.influencer_id
            )
            INSERT INTO payments_ledgerentry (transaction_id, account_id, side, amount_cents)
            SELECT txns.id, a.id, 'C', txns.total FROM txns
              JOIN payments_ledgeraccount a ON a.brand_id = %s AND a.influencer_id = txns.influencer_id AND a.kind = 'hold'
            UNION ALL
            SELECT txns.id, %s, 'D', txns.total FROM txns
            """,
            [brand.pk, brand.pk, brand.pk, expense.pk],
        )
        cur.execute("ANALYZE")
    print(f"{m:,} commission positions + {n:,} balanced seed transactions: {time.perf_counter() - t0:.1f} s")

    notified = {"withdrawals": 0}
    cutoff_module._notify_automatic = lambda ids: notified.__setitem__(
        "withdrawals", notified["withdrawals"] + len(ids)
    )  # type: ignore[assignment]
    stage_times: dict[str, float] = {}
    marks = {"t": time.perf_counter()}

    def after_chunk(stage: str, index: int) -> None:
        stage_times[stage] = time.perf_counter() - marks["t"]

    cutoff_module.after_chunk = after_chunk
    t0 = marks["t"] = time.perf_counter()
    batch = cutoff_module.payout_cutoff_run(brand=brand, period_start=period_start, now=now, chunk_size=args.chunk_size)
    elapsed = time.perf_counter() - t0
    released_positions = CommissionPosition.objects.filter(brand=brand, release_txn__isnull=False).count()
    print(
        f"CUTOFF: {elapsed:.1f} s — released {batch.released_count:,} commissions "
        f"({batch.released_cents:,} cents) for {n:,} influencers in "
        f"{LedgerTransaction.objects.filter(kind='release').count():,} release transactions; "
        f"{Withdrawal.objects.filter(batch=batch).count():,} automatic withdrawals; "
        f"{notified['withdrawals']:,} influencer notifications handed to the worker"
    )
    print(
        f"  release stage done at {stage_times.get('release', 0):.1f} s, automatic stage at {stage_times.get('automatic', 0):.1f} s"
    )
    print(f"  positions marked released: {released_positions:,}; entries in ledger: {LedgerEntry.objects.count():,}")

    t0 = time.perf_counter()
    again = cutoff_module.payout_cutoff_run(brand=brand, period_start=period_start, now=now)
    print(f"second run (no-op): {time.perf_counter() - t0:.2f} s, same batch: {again.pk == batch.pk}")

    if args.verify:
        from payments.selectors import ledger_verify

        t0 = time.perf_counter()
        problems = ledger_verify(brand=brand)
        print(f"ledger_verify: {len(problems)} problem(s) in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
