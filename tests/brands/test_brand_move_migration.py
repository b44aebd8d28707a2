"""The brand move (decision 0022) keeps every row and every permission: a database with demo data
is taken back to the schema before the move, then forward again, and nothing is lost."""

import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import APIKey
from accounts.roles import MANAGER
from brands import demo as brands_demo
from brands.models import Brand, StaffBrandAccess
from campaigns import demo as campaigns_demo
from campaigns.models import Campaign

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MOVE = "brand_moved_to_brands"


def _migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def _before_the_move() -> list[tuple[str, str | None]]:
    """For every app with a move migration, the migration just before it; brands unapplied."""
    graph = MigrationExecutor(connection).loader.graph
    targets: list[tuple[str, str | None]] = [("brands", None)]
    for app_label, name in graph.leaf_nodes():
        node = (app_label, name)
        chain = graph.forwards_plan(node)
        moved = [n for n in chain if n[0] == app_label and n[1].endswith(MOVE)]
        if moved:
            (parents,) = [sorted(p for p in graph.node_map[moved[0]].parents if p.key[0] == app_label)]
            targets.append(parents[0].key)
    return targets


def test_demo_data_and_permissions_survive_the_move_both_ways() -> None:
    campaigns_demo.seed(out=io.StringIO())
    brands_demo.seed(out=io.StringIO())
    brand = Brand.objects.get(slug="demo")
    APIKey.objects.create(brand=brand, name="ERP", prefix="abcd1234", hashed_key="x" * 64)
    counts = {
        "brands": Brand.objects.count(),
        "access": StaffBrandAccess.objects.count(),
        "campaigns": Campaign.objects.filter(brand=brand).count(),
        "keys": APIKey.objects.filter(brand=brand).count(),
        "history": Brand.history.count(),
    }
    manager_perms = set(Group.objects.get(name=MANAGER).permissions.values_list("content_type__app_label", "codename"))
    assert ("brands", "change_brand") in manager_perms

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    _migrate(_before_the_move())
    # Before the move the tables answer to their old apps: the rows are there, unchanged.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM campaigns_brand")
        assert cursor.fetchone()[0] == counts["brands"]
        cursor.execute("SELECT count(*) FROM accounts_staffbrandaccess")
        assert cursor.fetchone()[0] == counts["access"]
    assert ContentType.objects.filter(app_label="campaigns", model="brand").exists()
    assert not ContentType.objects.filter(app_label="brands", model="brand").exists()

    _migrate(leaves)
    ContentType.objects.clear_cache()
    assert {
        "brands": Brand.objects.count(),
        "access": StaffBrandAccess.objects.count(),
        "campaigns": Campaign.objects.filter(brand=brand).count(),
        "keys": APIKey.objects.filter(brand=brand).count(),
        "history": Brand.history.count(),
    } == counts
    assert counts["brands"] >= 1
    assert counts["access"] >= 3
    assert counts["campaigns"] >= 1
    # The same permission rows, relabelled: the Manager group kept what it had.
    after = set(Group.objects.get(name=MANAGER).permissions.values_list("content_type__app_label", "codename"))
    assert after == manager_perms
    assert not ContentType.objects.filter(app_label="campaigns", model="brand").exists()
    assert Permission.objects.filter(content_type__app_label="brands", codename="view_staffbrandaccess").exists()
