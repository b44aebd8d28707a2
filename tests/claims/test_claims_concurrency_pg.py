"""Claims under real concurrency (PostgreSQL): managers accepting the same claim at once
attribute the order once and create the claimant's commission once; the same order claimed at
once by several influencers opens one claim."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from audit.models import AuditEvent
from claims.models import Claim
from claims.services import ClaimRefused, claim_accept, claim_submit
from commissions.models import Commission
from notifications.models import Notification
from payments.models import LedgerTransaction
from tests.claims.conftest import recent_order
from tests.factories import StaffFactory
from tests.orders.conftest import influencer_balances
from tracking.models import ManualAttribution

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORDER = "1500000000002-01"


def _in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_managers_accepting_the_same_claim_at_once_make_one_commission(
    setup: dict[str, Any], lucia: Any, fake_oms: Any
) -> None:
    fake_oms.add_order(recent_order(order_id=ORDER, coupon=None))
    claim = claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=ORDER)
    managers = [StaffFactory(role="Manager", brands=[setup["brand"]]) for _ in range(6)]

    results = _in_threads(
        6, lambda i: claim_accept(claim_id=claim.pk, reason=f"Chat shows her link ({i}).", actor=managers[i])
    )

    assert all(isinstance(r, Claim) and r.status == "accepted" for r in results), results
    assert Commission.objects.filter(influencer=lucia).count() == 3
    assert not Commission.objects.exclude(influencer=lucia).exists()
    assert LedgerTransaction.objects.filter(kind="accrue").count() == 3
    assert influencer_balances(setup["brand"], lucia) == {"estimated": 1191}
    assert ManualAttribution.objects.count() == 1
    assert AuditEvent.objects.filter(action="claim.accepted").count() == 1
    assert Notification.objects.filter(influencer=lucia, event="claim.accepted").count() == 1


def test_the_same_order_claimed_at_once_opens_one_claim(setup: dict[str, Any], lucia: Any, fake_oms: Any) -> None:
    fake_oms.add_order(recent_order(order_id=ORDER, coupon=None))

    results = _in_threads(5, lambda i: claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=ORDER))

    opened = [r for r in results if isinstance(r, Claim)]
    refused = [r for r in results if isinstance(r, ClaimRefused)]
    assert len(opened) == 1, results
    assert len(refused) == 4, results
    assert {r.code for r in refused} == {"claim_duplicate"}
    assert Claim.objects.count() == 1
    assert AuditEvent.objects.filter(action="claim.submitted").count() == 1
