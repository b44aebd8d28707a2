"""Missing-order claims (issue 19): what the platform finds about a claimed order, accepting it
(a manual attribution through tracking, the order re-applied, the commission created once) or
rejecting it, and the refusals that write nothing (duplicate, late, already the claimant's)."""

import io
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from PIL import Image

from affiliates.assignments import campaign_assign_influencer
from audit.models import AuditEvent
from claims.findings import finding_text
from claims.models import Claim
from claims.services import ClaimRefused, claim_accept, claim_reject, claim_submit
from commissions.models import Commission
from notifications.models import EmailText, Notification
from orders.models import Order
from orders.services import order_apply
from tests.claims.conftest import SAMPLE_ORDER_ID, recent_order, vtex_time
from tests.factories import CampaignFactory
from tests.tracking.conftest import BROWSER
from tracking.models import ManualAttribution
from tracking.services import link_create
from webhooks.event_types import EVENT_TYPES

pytestmark = pytest.mark.django_db

UNATTRIBUTED = "1500000000001-01"


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return SimpleUploadedFile("chat.png", buffer.getvalue(), content_type="image/png")


def _nothing_written() -> dict[str, int]:
    return {
        "claims": Claim.objects.count(),
        "audit": AuditEvent.objects.filter(action__startswith="claim.").count(),
        "notifications": Notification.objects.filter(event__startswith="claim.").count(),
        "manual": ManualAttribution.objects.count(),
    }


def test_a_claim_for_an_order_with_another_influencers_code_shows_who_has_it_and_why(
    setup: dict[str, Any], lucia: Any, fake_oms: Any
) -> None:
    fake_oms.add_order(recent_order())  # the buyer typed Maria's coupon

    claim = claim_submit(
        influencer=lucia,
        campaign=setup["campaign"],
        vtex_order_id=f"  {SAMPLE_ORDER_ID} ",
        buyer_message="She says she bought after my video.",
        actor=lucia.user,
    )

    assert (claim.status, claim.finding, claim.vtex_order_id) == ("open", "other_code", SAMPLE_ORDER_ID)
    assert claim.order == Order.objects.get(vtex_order_id=SAMPLE_ORDER_ID)
    assert claim.finding_detail["attributed_to"] == {"id": setup["influencer"].pk, "name": "Maria"}
    assert claim.finding_detail["code"] == "INFLU-MARIA10"
    assert claim.finding_detail["source"] == "coupon"
    assert finding_text(claim) == (
        "Attributed to Maria: the buyer typed their code INFLU-MARIA10 (coupon of the brand)."
    )
    assert claim.order_placed_at is not None
    assert AuditEvent.objects.filter(action="claim.submitted", target_id=str(claim.pk)).count() == 1
    told = Notification.objects.get(influencer=lucia, event="claim.submitted")
    assert told.params["order"] == SAMPLE_ORDER_ID


def test_an_accepted_claim_for_an_unattributed_order_gives_the_claimant_one_commission(
    setup: dict[str, Any], lucia: Any, manager_a: Any, fake_oms: Any
) -> None:
    fake_oms.add_order(recent_order(order_id=UNATTRIBUTED, coupon=None))
    claim = claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=UNATTRIBUTED)
    assert claim.finding == "no_code"
    assert not Commission.objects.exists()

    accepted = claim_accept(claim_id=claim.pk, reason="Buyer's chat shows her link.", actor=manager_a)
    again = claim_accept(claim_id=claim.pk, reason="Clicked twice.", actor=manager_a)

    order = Order.objects.get(vtex_order_id=UNATTRIBUTED)
    assert (order.influencer, order.campaign, order.attribution_source) == (lucia, setup["campaign"], "manual")
    assert order.attribution_rule == "manual decision: Buyer's chat shows her link."
    commissions = list(Commission.objects.filter(order=order))
    assert len(commissions) == 3  # one per line of the sample, 10 % each
    assert {c.influencer_id for c in commissions} == {lucia.pk}
    assert sum(c.amount_cents for c in commissions) == 1191
    assert (accepted.status, again.status, again.decision_reason) == (
        "accepted",
        "accepted",
        "Buyer's chat shows her link.",
    )
    assert accepted.finding == "claimant"
    assert AuditEvent.objects.filter(action="claim.accepted").count() == 1
    assert AuditEvent.objects.filter(action="tracking.attribution_manual").count() == 1
    assert Notification.objects.filter(influencer=lucia, event="claim.accepted").count() == 1

    # Later syncs keep the manual decision and the commission moves with the order, once.
    order_apply(
        brand=setup["brand"],
        data=recent_order(order_id=UNATTRIBUTED, coupon=None, status="invoiced", last_change=vtex_time(1)),
        source="t",
    )
    order.refresh_from_db()
    assert order.influencer == lucia
    assert set(Commission.objects.filter(order=order).values_list("influencer_id", "state")) == {
        (lucia.pk, "confirmed")
    }
    assert Commission.objects.filter(order=order).count() == 3


def test_accepting_moves_an_unconfirmed_order_from_another_influencer_to_the_claimant(
    setup: dict[str, Any], lucia: Any, manager_a: Any, fake_oms: Any
) -> None:
    fake_oms.add_order(recent_order())
    claim = claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=SAMPLE_ORDER_ID)

    claim_accept(claim_id=claim.pk, reason="Maria's code leaked on a coupon site.", actor=manager_a)

    mine = Commission.objects.filter(influencer=lucia)
    hers = Commission.objects.filter(influencer=setup["influencer"])
    assert mine.count() == 3
    assert {c.state for c in mine} == {"estimated"}
    assert {c.state for c in hers} == {"reversed"}


def test_a_settled_order_of_another_influencer_cannot_be_accepted(
    setup: dict[str, Any], lucia: Any, manager_a: Any, fake_oms: Any
) -> None:
    fake_oms.add_order(recent_order(status="invoiced"))  # Maria's commission is confirmed
    claim = claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=SAMPLE_ORDER_ID)
    before = _nothing_written()

    with pytest.raises(ClaimRefused, match="confirmed commission of another influencer"):
        claim_accept(claim_id=claim.pk, reason="Looks like hers.", actor=manager_a)

    claim.refresh_from_db()
    assert claim.status == "open"
    assert _nothing_written() == before
    assert not Commission.objects.filter(influencer=lucia).exists()


def test_a_duplicate_open_claim_is_refused_and_writes_nothing(setup: dict[str, Any], lucia: Any, fake_oms: Any) -> None:
    fake_oms.add_order(recent_order(order_id=UNATTRIBUTED, coupon=None))
    claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=UNATTRIBUTED)
    before = _nothing_written()
    calls = len(fake_oms.requests)

    with pytest.raises(ClaimRefused) as refused:
        claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=UNATTRIBUTED)

    assert refused.value.code == "claim_duplicate"
    assert refused.value.extra == {"field": "vtex_order_id"}
    assert "already has a claim under review" in str(refused.value)
    assert _nothing_written() == before
    assert len(fake_oms.requests) == calls  # refused before asking VTEX


def test_a_claim_after_the_brands_deadline_is_refused_and_writes_nothing(
    setup: dict[str, Any], lucia: Any, fake_oms: Any
) -> None:
    brand = setup["brand"]
    brand.claim_deadline_days = 30
    brand.save()
    fake_oms.add_order(recent_order(order_id=UNATTRIBUTED, coupon=None, days_ago=31))
    before = _nothing_written()

    with pytest.raises(ClaimRefused) as refused:
        claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=UNATTRIBUTED, evidence=_png())

    assert refused.value.code == "claim_late"
    assert "accepts claims up to 30 days after an order" in str(refused.value)
    assert _nothing_written() == before
    assert not Order.objects.exists()


def test_an_order_already_attributed_to_the_claimant_is_refused(setup: dict[str, Any], fake_oms: Any) -> None:
    fake_oms.add_order(recent_order())  # Maria's own coupon
    maria = setup["influencer"]
    campaign_assign_influencer(campaign=setup["campaign"], influencer=maria)
    before = _nothing_written()

    with pytest.raises(ClaimRefused) as refused:
        claim_submit(influencer=maria, campaign=setup["campaign"], vtex_order_id=SAMPLE_ORDER_ID)

    assert refused.value.code == "claim_already_attributed"
    assert "already attributed to you" in str(refused.value)
    assert _nothing_written() == before


def test_an_order_vtex_does_not_know_is_kept_as_not_found_and_can_only_be_rejected(
    setup: dict[str, Any], lucia: Any, manager_a: Any, fake_oms: Any
) -> None:
    claim = claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id="999-01", evidence=_png())
    assert (claim.finding, claim.order) == ("not_found", None)
    assert claim.evidence_content_type == "image/png"
    assert claim.evidence_size > 0
    assert finding_text(claim) == "VTEX does not know order 999-01 in the brand's account."

    with pytest.raises(ClaimRefused, match="cannot be attributed"):
        claim_accept(claim_id=claim.pk, reason="Trust her.", actor=manager_a)
    with pytest.raises(ClaimRefused, match="reason"):
        claim_reject(claim_id=claim.pk, reason=" ", actor=manager_a)

    rejected = claim_reject(claim_id=claim.pk, reason="The store has no such order.", actor=manager_a)

    assert (rejected.status, rejected.decided_by) == ("rejected", manager_a)
    told = Notification.objects.get(influencer=lucia, event="claim.rejected")
    assert told.params["reason"] == "The store has no such order."
    assert not ManualAttribution.objects.exists()


def test_a_campaign_the_influencer_is_not_in_and_a_bad_file_are_refused(
    setup: dict[str, Any], lucia: Any, fake_oms: Any
) -> None:
    other = CampaignFactory(brand=setup["brand"])
    with pytest.raises(ClaimRefused) as refused:
        claim_submit(influencer=lucia, campaign=other, vtex_order_id=UNATTRIBUTED)
    assert refused.value.extra == {"field": "campaign"}

    fake = SimpleUploadedFile("chat.png", b"GIF89a not really", content_type="image/png")
    with pytest.raises(ClaimRefused) as refused:
        claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=UNATTRIBUTED, evidence=fake)
    assert refused.value.extra == {"field": "evidence"}
    assert not Claim.objects.exists()
    assert fake_oms.requests == []


def test_vtex_not_answering_refuses_the_claim_and_writes_nothing(
    setup: dict[str, Any], lucia: Any, fake_oms: Any
) -> None:
    fake_oms.fail_next(10, 503)
    with pytest.raises(ClaimRefused) as refused:
        claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=UNATTRIBUTED)
    assert refused.value.code == "vtex_unavailable"
    assert _nothing_written() == {"claims": 0, "audit": 0, "notifications": 0, "manual": 0}


def test_managers_are_emailed_about_a_new_claim_and_the_events_reach_webhooks(
    setup: dict[str, Any],
    lucia: Any,
    manager_a: Any,
    fake_oms: Any,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert {"claim.submitted", "claim.accepted", "claim.rejected"} <= set(EVENT_TYPES)
    fake_oms.add_order(recent_order(order_id=UNATTRIBUTED, coupon=None))
    with django_capture_on_commit_callbacks(execute=True):
        claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=UNATTRIBUTED)
    to_manager = [m for m in mailoutbox if manager_a.email in m.to]
    assert len(to_manager) == 1
    assert UNATTRIBUTED in to_manager[0].subject
    assert "/admin/claims/claim/" in to_manager[0].body


def test_a_click_before_the_window_is_named_as_the_reason(
    client: Any, setup: dict[str, Any], lucia: Any, fake_oms: Any, settings: Any, tmp_path: Any
) -> None:
    """Lucía's link was clicked 37 days before the order, the campaign's window is 30 days: the
    attribution (tracking) dropped the click, and the claim says so."""
    settings.TRACKING_SPOOL_DIR = str(tmp_path / "spool")
    settings.TRACKING_BUFFER = "spool"
    settings.TRACKING_LINK_L1_SECONDS = 0
    link = link_create(campaign=setup["campaign"], influencer=lucia)
    with time_machine.travel(timezone.now() - timedelta(days=39), tick=False):
        location = client.get(f"/r/{link.slug}", **BROWSER)["Location"]
    utms = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    doc = recent_order(order_id=UNATTRIBUTED, coupon=None, days_ago=2)
    doc["marketingData"] = {"utmiCampaign": utms["utmi_cp"], "utmiPart": utms["utmi_pc"], "coupon": None}
    fake_oms.add_order(doc)

    claim = claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=UNATTRIBUTED)

    assert claim.finding == "outside_window"
    assert [t["days_before"] for t in claim.finding_detail["beyond_window"]] == [37]
    with translation.override("en"):  # the click's Accept-Language left Spanish active
        assert "37 days before the order" in finding_text(claim)


def test_a_brands_own_wording_of_the_rejection_email_reaches_the_claimant(
    setup: dict[str, Any],
    lucia: Any,
    manager_a: Any,
    fake_oms: Any,
    mailoutbox: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    lucia.user.preferred_language = "es"
    lucia.user.save(update_fields=["preferred_language"])
    text = EmailText(
        brand=setup["brand"],
        event="claim.rejected",
        language="es",
        subject="{name}, revisamos el pedido {order}",
        body="No pudimos aceptarlo: {reason}. Equipo {brand}.",
    )
    text.full_clean()
    text.save()
    claim = claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id="999-01")
    with django_capture_on_commit_callbacks(execute=True):
        claim_reject(claim_id=claim.pk, reason="La tienda no tiene ese pedido", actor=manager_a)
    [email] = [m for m in mailoutbox if lucia.user.email in m.to]
    assert "Lucía Gómez, revisamos el pedido 999-01" in email.subject
    assert "No pudimos aceptarlo: La tienda no tiene ese pedido. Equipo" in email.body
