"""Data the order benches share: a brand with a 10 % campaign, 20 influencers with codes, and
VTEX order documents (the coupon sample, three items) spread over those codes. Scripts import it
as `bench._orders_data` after `orders_bench.setup_django()`."""

import json
import os
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass
class BenchBrand:
    brand: Any
    stamp: str
    codes: list[str]


def bench_brand(prefix: str, *, influencers: int = 20) -> BenchBrand:
    """A BRL brand (the sample orders are in BRL) with one campaign, a 10 % rule and one code per
    influencer."""
    from campaigns.models import CommissionRule
    from codes.models import Code
    from tests.factories import BrandFactory, CampaignFactory, InfluencerFactory, UserFactory

    stamp = f"{int(time.time() * 1000) % 10**10}{os.getpid() % 1000}"
    brand = BrandFactory(slug=f"{prefix}-{stamp}", vtex_account=f"{prefix}{stamp}", currency="BRL")
    campaign = CampaignFactory(brand=brand)
    CommissionRule.objects.create(campaign=campaign, name="10%", kind="percentage", rate_percent=Decimal(10))
    codes = []
    for i in range(influencers):
        influencer = InfluencerFactory(user=UserFactory(email=f"{prefix}{stamp}-{i}@bench.example"))
        text = f"{prefix.upper()}{stamp}C{i}"
        Code.objects.create(brand=brand, campaign=campaign, influencer=influencer, text=text)
        codes.append(text)
    return BenchBrand(brand=brand, stamp=stamp, codes=codes)


def order_documents(target: BenchBrand, n: int, *, tag: str = "") -> list[dict[str, Any]]:
    """`n` distinct VTEX order documents of the brand, each from its own shopper with one of
    its influencers' coupons."""
    from tests.fake_vtex import load_sample

    sample = load_sample("oms-order-coupon-3-items.json")
    docs = []
    for i in range(n):
        doc = json.loads(json.dumps(sample))
        doc["orderId"] = f"E{target.stamp}{tag}{i}-01"
        # Each order from its own shopper, as a store's orders are: one shopper behind every
        # order would make every order share the same customer binding and fraud history.
        profile = doc["clientProfileData"]
        profile["email"] = f"shopper{target.stamp}{tag}{i}@email.example"
        profile["document"] = f"{(int(target.stamp) + i) % 10**11:011d}"
        profile["phone"] = f"+55219{i % 10**8:08d}"
        profile["userProfileId"] = f"bench-{target.stamp}-{tag}{i}"
        coupon = target.codes[i % len(target.codes)]
        doc["marketingData"]["coupon"] = coupon
        doc["ratesAndBenefitsData"]["rateAndBenefitsIdentifiers"][0]["matchedParameters"]["couponCode@Marketing"] = (
            coupon
        )
        docs.append(doc)
    return docs


def postgres_cpu_seconds() -> float | None:
    """CPU seconds PostgreSQL's server has used so far, backends that ended included (the
    postmaster reaps them), when it runs on this machine and we may read its data directory;
    None otherwise. A run's share is the difference of two readings."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            data_directory = cursor.fetchone()[0]
        with open(os.path.join(data_directory, "postmaster.pid")) as pid_file:
            pid = int(pid_file.readline())
        with open(f"/proc/{pid}/stat") as stat_file:
            fields = stat_file.read().rsplit(")", 1)[1].split()
    except Exception:
        return None
    # utime, stime, cutime, cstime: fields 14-17 of proc(5), 11-14 after the command name.
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def statistics_current() -> None:
    """ANALYZE the database, as autovacuum keeps a production server's statistics current. A
    bench server may run without autovacuum (this machine's does), and a table that grew from
    nothing since its last ANALYZE gets plans for an empty table: a batch's lock of its orders'
    commissions took 130 ms by the primary key instead of 0.4 ms by its index."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
