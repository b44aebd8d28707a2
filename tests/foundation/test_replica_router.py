"""The read-replica router (core/db_router.py) with two real PostgreSQL databases: the test's
database as the primary and a copy of it as the replica, which then diverge, so every number
says which database it came from."""

import os
import subprocess
from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext

from affiliates.models import Membership
from core.db_router import REPLICA, read_alias, replica_reads
from portal.selectors import Period, portal_dashboard
from reports.builder import report_run, spec_from_input
from reports.models import DailyRollup
from reports.selectors import dashboard_rollup_panels
from tests.factories import CampaignFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DAY = date(2024, 2, 4)


def _rollup(brand: Any, campaign: Any, influencer: Any, clicks: int, country: str = "BR") -> DailyRollup:
    return DailyRollup.objects.create(
        brand=brand, day=DAY, campaign=campaign, influencer=influencer, country=country, clicks_valid=clicks
    )


@pytest.fixture
def campaign_a(brand_a: Any) -> Any:
    return CampaignFactory(brand=brand_a)


@pytest.fixture
def replica(campaign_a: Any, influencer_a: Any) -> Iterator[dict[str, Any]]:
    """The primary holds a rollup of 5 clicks; the replica is copied from it; then the primary
    gains a rollup of 7 clicks that the replica does not have."""

    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    _rollup(campaign_a.brand, campaign_a, influencer_a, 5)
    primary = connections.settings[DEFAULT_DB_ALIAS]
    name = f"{primary['NAME']}_replica"
    server = {
        k: v
        for k, v in {
            "host": primary["HOST"],
            "port": primary["PORT"],
            "user": primary["USER"],
            "password": primary["PASSWORD"],
        }.items()
        if v
    }
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    # The copy a replica would hold: pg_dump of the primary (it needs no exclusive access,
    # unlike CREATE DATABASE ... TEMPLATE while other threads' connections are open).
    env = {**os.environ, "PGPASSWORD": str(primary["PASSWORD"] or "")}
    where = ["-h", str(primary["HOST"] or "127.0.0.1"), "-p", str(primary["PORT"] or 5432), "-U", str(primary["USER"])]
    dump = subprocess.run(  # noqa: S603 - the PostgreSQL client tools (.ci/run installs them)
        ["pg_dump", "--no-owner", *where, primary["NAME"]],  # noqa: S607
        capture_output=True,
        check=True,
        env=env,
    )
    subprocess.run(  # noqa: S603
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", *where, name],  # noqa: S607
        input=dump.stdout,
        capture_output=True,
        check=True,
        env=env,
    )
    # Like a real replica, its sessions cannot write.
    options = {**primary.get("OPTIONS", {}), "options": "-c default_transaction_read_only=on"}
    connections.settings[REPLICA] = {**primary, "NAME": name, "OPTIONS": options}
    try:
        # Opened here: Django's test case only lets its declared databases connect lazily.
        connections[REPLICA].connect()
        _rollup(campaign_a.brand, campaign_a, influencer_a, 7, country="CO")
        yield {"brand": campaign_a.brand, "campaign": campaign_a, "influencer": influencer_a}
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
        with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _clicks(brand_id: int) -> int:
    panels = dashboard_rollup_panels(brand_id=brand_id, start=DAY, end=DAY)
    return sum(row["clicks"] for row in panels["by_day"].values())


def test_dashboard_and_portal_panels_read_from_the_replica(replica: dict[str, Any]) -> None:
    with CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary:
        assert _clicks(replica["brand"].pk) == 5  # the replica's copy, not the primary's 12
    assert not [q for q in on_primary.captured_queries if "reports_dailyrollup" in q["sql"]]
    membership = Membership.objects.select_related("brand").get(influencer=replica["influencer"])
    dashboard = portal_dashboard(membership=membership, period=Period(key="7d", label="", start=DAY, end=DAY))
    assert dashboard.clicks == 5


def test_the_report_builder_reads_from_the_replica(replica: dict[str, Any]) -> None:
    spec = spec_from_input(
        data={"metrics": ["clicks"], "dimensions": [], "date_from": DAY.isoformat(), "date_to": DAY.isoformat()},
        brand_id=replica["brand"].pk,
        today=DAY,
    )
    assert report_run(spec=spec).rows[0]["clicks"] == 5


def test_everything_else_reads_and_writes_the_primary(replica: dict[str, Any]) -> None:
    brand = replica["brand"]
    # Outside replica_reads(): the primary.
    assert sum(DailyRollup.objects.filter(brand=brand).values_list("clicks_valid", flat=True)) == 12
    with replica_reads() as alias:
        assert alias == REPLICA
        # Writes go to the primary even inside replica_reads() (the replica refuses them).
        _rollup(brand, replica["campaign"], replica["influencer"], 1, country="MX")
        assert DailyRollup.objects.using(DEFAULT_DB_ALIAS).filter(brand=brand).count() == 3
        assert DailyRollup.objects.filter(brand=brand).count() == 1  # the replica's
        # Inside a transaction on the primary, reads stay there (a request sees its own writes).
        with transaction.atomic():
            assert read_alias() == DEFAULT_DB_ALIAS
            assert DailyRollup.objects.filter(brand=brand).count() == 3
    assert read_alias() == DEFAULT_DB_ALIAS


def test_without_a_replica_everything_uses_the_primary(campaign_a: Any, influencer_a: Any) -> None:
    _rollup(campaign_a.brand, campaign_a, influencer_a, 4)
    with replica_reads() as alias:
        assert alias == DEFAULT_DB_ALIAS
    assert _clicks(campaign_a.brand.pk) == 4
