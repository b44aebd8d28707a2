"""Narrow locks (issue 13, core/locks.py): while a service holds its row locks, other
connections can still insert an order for the same brand (campaign, influencer and code
included), insert rows that reference the locked row (an order's lines), and save the brand or
the influencer. Each probe runs on its own PostgreSQL
connection with a lock timeout, so a probe that would wait fails fast instead.

Every scenario also probes the row the service means to lock, which must wait: proof that the
probes can see a lock at all, so a passing probe means "not locked", not "not looked"."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.db.models import F

from accounts.models import User
from affiliates.models import Influencer, Membership
from affiliates.services.decisions import membership_approve, membership_suspend
from brands.models import Brand
from campaigns.models import Campaign
from campaigns.services.status import campaign_status_change
from codes.models import Code
from codes.services.issuing import codes_issue_for_influencer
from commissions.models import Commission
from commissions.services.adjustments import commission_adjust
from orders.models import Order, OrderLine
from orders.services import order_apply
from payments.models import Withdrawal
from payments.services import withdrawal_approve, withdrawal_request_create
from tests.campaigns.factories import RunnableCampaignFactory
from tests.factories import InfluencerFactory, MembershipFactory
from tests.orders.conftest import (  # noqa: F401 - fixtures
    campaign_a,
    code_maria,
    maria,
    order_doc,
    setup,
)
from tests.payments.conftest import give_payout_account, make_available
from tracking.models import Link
from tracking.services import link_create, link_update

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WENT_THROUGH = "went through"
WAITED = "waited"


class _Undo(Exception):
    """Rolls a probe back once it went through."""


def probe(action: Callable[[], Any]) -> str:
    """Run `action` on another connection, giving up on any lock after 1.5 s."""
    outcome: list[str] = []

    def run() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '1500ms'")
                    # Django's foreign keys are checked at commit (DEFERRABLE INITIALLY
                    # DEFERRED); check them now, as the order's own commit would.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                action()
                raise _Undo
        except _Undo:
            outcome.append(WENT_THROUGH)
        except OperationalError as exc:
            # 55P03 lock_not_available: the probe met a row lock.
            outcome.append(WAITED if getattr(exc.__cause__, "sqlstate", None) == "55P03" else repr(exc))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return outcome[0] if outcome else "hung"


_counter = {"n": 0}


def order_insert(
    *, brand: Brand, influencer: Influencer, campaign: Campaign | None, code: Code | None
) -> Callable[[], Any]:
    _counter["n"] += 1
    ref = f"probe-{_counter['n']}"
    return lambda: Order.objects.create(
        brand=brand, vtex_order_id=ref, influencer=influencer, campaign=campaign, code=code, currency="COP"
    )


def touch(model: type[Any], pk: int, field: str) -> Callable[[], Any]:
    """An UPDATE of a non-key column, as saving the row from the admin or the portal does."""
    return lambda: model.objects.filter(pk=pk).update(**{field: F(field)})


def test_approving_a_withdrawal_locks_the_withdrawal_only(brand_a, influencer_a, finance_a, fake_vtex):
    brand_a.min_withdrawal_cents = 50_00
    brand_a.save(update_fields=["min_withdrawal_cents"])
    give_payout_account(influencer_a)
    make_available(brand_a, influencer_a, 1_000_00)
    campaign = RunnableCampaignFactory(brand=brand_a)
    [code] = codes_issue_for_influencer(brand=brand_a, influencer=influencer_a, campaigns=[campaign])
    withdrawal = withdrawal_request_create(
        influencer=influencer_a, brand=brand_a, amount="600.00", requested_by=influencer_a.user
    )

    with transaction.atomic():
        withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
        assert probe(order_insert(brand=brand_a, influencer=influencer_a, campaign=campaign, code=code)) == WENT_THROUGH
        assert probe(touch(Brand, brand_a.pk, "name")) == WENT_THROUGH
        assert probe(touch(Influencer, influencer_a.pk, "display_name")) == WENT_THROUGH
        assert probe(touch(User, influencer_a.user_id, "last_login")) == WENT_THROUGH
        assert probe(touch(Withdrawal, withdrawal.pk, "status")) == WAITED

    assert Order.objects.count() == 0  # the probes rolled back


def test_ending_a_campaign_archives_its_codes_without_holding_up_its_orders(
    brand_a, influencer_a, manager_a, fake_vtex
):
    campaign = RunnableCampaignFactory(brand=brand_a)
    [code] = codes_issue_for_influencer(brand=brand_a, influencer=influencer_a, campaigns=[campaign])

    with transaction.atomic():
        campaign_status_change(campaign=campaign, to_status=Campaign.Status.ENDED, actor=manager_a)
        assert Code.objects.get(pk=code.pk).status == Code.Status.ARCHIVED
        # The order that carries the very code being archived is recorded meanwhile.
        assert probe(order_insert(brand=brand_a, influencer=influencer_a, campaign=campaign, code=code)) == WENT_THROUGH
        assert probe(touch(Brand, brand_a.pk, "name")) == WENT_THROUGH
        assert probe(touch(Influencer, influencer_a.pk, "display_name")) == WENT_THROUGH
        assert probe(touch(Campaign, campaign.pk, "name")) == WAITED
        assert probe(touch(Code, code.pk, "status_reason")) == WAITED

    assert Code.objects.get(pk=code.pk).status == Code.Status.ARCHIVED


def test_approving_a_membership_leaves_the_brand_and_the_campaign_open_to_orders(
    brand_a, influencer_a, manager_a, fake_vtex
):
    campaign = RunnableCampaignFactory(brand=brand_a)
    [code] = codes_issue_for_influencer(brand=brand_a, influencer=influencer_a, campaigns=[campaign])
    applicant = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status=Membership.Status.PENDING)

    with transaction.atomic():
        membership_approve(membership=applicant, actor=manager_a, campaigns=[campaign])
        assert Code.objects.filter(influencer=applicant.influencer, campaign=campaign).exists()
        # Another influencer's order in the campaign the applicant just joined.
        assert probe(order_insert(brand=brand_a, influencer=influencer_a, campaign=campaign, code=code)) == WENT_THROUGH
        assert probe(touch(Brand, brand_a.pk, "name")) == WENT_THROUGH
        assert probe(touch(Influencer, applicant.influencer_id, "display_name")) == WENT_THROUGH
        assert probe(touch(User, applicant.influencer.user_id, "last_login")) == WENT_THROUGH
        assert probe(touch(Membership, applicant.pk, "status_reason")) == WAITED

    applicant.refresh_from_db()
    assert applicant.status == Membership.Status.APPROVED


def test_suspending_a_membership_archives_codes_without_holding_up_their_orders(
    brand_a, influencer_a, manager_a, fake_vtex
):
    campaign = RunnableCampaignFactory(brand=brand_a)
    [code] = codes_issue_for_influencer(brand=brand_a, influencer=influencer_a, campaigns=[campaign])
    membership = Membership.objects.get(brand=brand_a, influencer=influencer_a)

    with transaction.atomic():
        membership_suspend(membership=membership, actor=manager_a, reason="Reviewing their traffic")
        assert Code.objects.get(pk=code.pk).status == Code.Status.ARCHIVED
        assert probe(order_insert(brand=brand_a, influencer=influencer_a, campaign=campaign, code=code)) == WENT_THROUGH
        assert probe(touch(Brand, brand_a.pk, "name")) == WENT_THROUGH
        assert probe(touch(Influencer, influencer_a.pk, "display_name")) == WENT_THROUGH
        assert probe(touch(User, influencer_a.user_id, "last_login")) == WENT_THROUGH
        assert probe(touch(Membership, membership.pk, "status_reason")) == WAITED
        assert probe(touch(Code, code.pk, "status_reason")) == WAITED

    assert Membership.objects.get(pk=membership.pk).status == Membership.Status.SUSPENDED


def line_insert(*, order: Order) -> Callable[[], Any]:
    """A line added to the order: its foreign key takes a KEY SHARE lock on the order row."""
    return lambda: OrderLine.objects.create(order=order, item_index=99, sku_id="probe", quantity=1, total_cents=1)


def test_adjusting_a_commission_locks_the_order_and_the_commission_only(
    setup: dict[str, Any],  # noqa: F811
    manager_a: Any,
) -> None:
    brand, influencer, campaign, code = setup["brand"], setup["influencer"], setup["campaign"], setup["code"]
    order_apply(brand=brand, data=order_doc(), source="t")
    commission = Commission.objects.order_by("pk").first()
    assert commission is not None
    order = commission.order

    with transaction.atomic():
        commission_adjust(commission_id=commission.pk, amount_cents=100, reason="agreed bonus", actor=manager_a)
        # Neither the brand, the influencer nor the campaign joined in the lock is held.
        assert probe(order_insert(brand=brand, influencer=influencer, campaign=campaign, code=code)) == WENT_THROUGH
        assert probe(touch(Brand, brand.pk, "name")) == WENT_THROUGH
        assert probe(touch(Influencer, influencer.pk, "display_name")) == WENT_THROUGH
        # The order is locked FOR NO KEY UPDATE: rows referencing it can still be inserted.
        assert probe(line_insert(order=order)) == WENT_THROUGH
        assert probe(touch(Order, order.pk, "status")) == WAITED
        assert probe(touch(Commission, commission.pk, "adjustment_cents")) == WAITED

    commission.refresh_from_db()
    assert commission.adjustment_cents == 100
    assert Order.objects.count() == 1  # the probe's order rolled back


def test_editing_a_link_leaves_its_brand_open_to_orders(brand_a, influencer_a, manager_a, fake_vtex):
    campaign = RunnableCampaignFactory(brand=brand_a)
    link = link_create(campaign=campaign, influencer=influencer_a, destination_url="https://www.acme.example/")

    with transaction.atomic():
        link_update(link=link, label="Summer", actor=manager_a)
        assert probe(order_insert(brand=brand_a, influencer=influencer_a, campaign=campaign, code=None)) == WENT_THROUGH
        assert probe(touch(Brand, brand_a.pk, "name")) == WENT_THROUGH
        assert probe(touch(Link, link.pk, "label")) == WAITED

    assert Link.objects.get(pk=link.pk).label == "Summer"
