import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override as translation_override
from django_otp.plugins.otp_totp.models import TOTPDevice

from affiliates.models import Membership, PayoutAccount
from audit.models import AuditEvent
from codes.models import Code
from codes.services.issuing import code_create
from core.qr import qr_svg
from orders.models import Order
from payments.services import ledger_commission_accrue, ledger_commission_confirm
from portal.selectors import portal_earning_list
from tests.conftest import otp_verify
from tests.factories import CampaignFactory, InfluencerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

PORTAL_PAGES = [
    "portal_dashboard",
    "portal_codes",
    "portal_orders",
    "portal_earnings",
    "portal_profile",
    "portal_payout",
    "portal_security",
]


def url(name: str, brand: Any, **kwargs: Any) -> str:
    return reverse(f"portal:{name.removeprefix('portal_')}", kwargs={"brand_slug": brand.slug, **kwargs})


def reauthenticated(client: Any, user: Any) -> Any:
    """Record a fresh password re-authentication in the session, as allauth does."""
    session = client.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "reauthenticated": True}]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


@pytest.fixture
def other(brand_b: Any) -> Membership:
    """Somebody else, approved with brand B and holding a code there."""

    membership = MembershipFactory(brand=brand_b, status="approved")
    code_create(campaign=CampaignFactory(brand=brand_b, utm_source="mgm"), influencer=membership.influencer)
    return membership


def test_portal_needs_a_signed_in_influencer(client, brand_a, manager_a):
    response = client.get(url("portal_dashboard", brand_a))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    client.force_login(manager_a)  # staff, not an influencer
    assert client.get(url("portal_dashboard", brand_a)).status_code == 404
    assert client.get(reverse("portal:home")).status_code == 404


def test_portal_home_goes_straight_to_the_only_brand(portal, approved):
    response = portal.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"] == url("portal_dashboard", approved.brand)


def test_pending_applicant_sees_the_review_status_not_the_dashboard(client, applicant):
    membership = applicant()
    client.force_login(membership.influencer.user)
    response = client.get(url("portal_dashboard", membership.brand))
    assert response.status_code == 200
    assert 'data-testid="membership-status"' in response.content.decode()
    assert client.get(url("portal_profile", membership.brand)).status_code == 200  # personal pages stay open


def _active_in_vtex(code: Code) -> Code:
    Code.objects.filter(pk=code.pk).update(vtex_state=Code.VTEXState.ACTIVE, sync_status=Code.SyncStatus.SYNCED)
    code.refresh_from_db()
    return code


def test_dashboard_shows_code_kpis_and_an_svg_chart_themed_for_the_brand(portal, approved):
    code = _active_in_vtex(Code.objects.get(influencer=approved.influencer))
    response = portal.get(url("portal_dashboard", approved.brand))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<code class="code" data-testid="dashboard-code">{code.text}</code>' in html
    assert 'data-testid="kpi-orders">0<' in html
    assert "<svg viewBox=" in html
    assert "No activity in this period yet" in html
    assert "--primary: #1F4E79" in html
    assert 'data-nav="codes"' in html


@pytest.mark.parametrize("period", ["7d", "30d", "90d", "month", "bogus"])
def test_dashboard_period_works_with_and_without_htmx(portal, approved, period):
    full = portal.get(url("portal_dashboard", approved.brand), {"period": period})
    assert full.status_code == 200
    assert "<html" in full.content.decode()
    partial = portal.get(url("portal_dashboard", approved.brand), {"period": period}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    body = partial.content.decode()
    assert "<html" not in body
    assert body.strip().startswith('<section id="dashboard-stats"')


def test_codes_page_has_copy_buttons_and_qr_codes(portal, approved):
    code = _active_in_vtex(Code.objects.get(influencer=approved.influencer))
    html = portal.get(url("portal_codes", approved.brand)).content.decode()
    assert f'data-copy="{code.text}"' in html
    assert "<svg" in html
    qr = portal.get(url("portal_code_qr", approved.brand, code_pk=code.pk))
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.startswith(b"<?xml")


@pytest.mark.parametrize(
    ("changes", "state", "words"),
    [
        ({"sync_status": "pending"}, "pending", "Being set up in the store"),
        (
            {"sync_status": "failed", "last_sync_error": "409 coupon already exists"},
            "rejected",
            "already uses this code",
        ),
        ({"sync_status": "failed", "last_sync_error": "500 boom"}, "rejected", "The store refused this code"),
        ({"status": "archived", "status_reason": "Campaign ended"}, "archived", "Campaign ended"),
    ],
)
def test_codes_the_store_does_not_accept_are_shown_as_such_and_cannot_be_shared(
    portal, approved, changes, state, words
):
    code = Code.objects.get(influencer=approved.influencer)
    Code.objects.filter(pk=code.pk).update(vtex_state="", **changes)
    with translation_override("en"):
        html = portal.get(url("portal_codes", approved.brand), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-testid="code-{state}"' in html
    assert words in html
    assert f'data-copy="{code.text}"' not in html  # no copy button
    assert "<svg" not in html.split('data-testid="portal-code"')[1].split("</li>")[0]  # no QR
    assert portal.get(url("portal_code_qr", approved.brand, code_pk=code.pk)).status_code == 404
    dashboard = portal.get(url("portal_dashboard", approved.brand)).content.decode()
    assert 'data-testid="dashboard-code"' not in dashboard


def test_orders_and_earnings_render_their_empty_states(portal, approved):
    orders = portal.get(url("portal_orders", approved.brand))
    assert "No orders with your codes or links in this period." in orders.content.decode()
    partial = portal.get(url("portal_orders", approved.brand), HTTP_HX_REQUEST="true")
    assert partial.content.decode().strip().startswith('<section id="order-table"')
    earnings = portal.get(url("portal_earnings", approved.brand)).content.decode()
    assert "No commissions yet" in earnings
    assert "COP 0.00" in earnings


@pytest.mark.parametrize("page", PORTAL_PAGES)
def test_influencers_cannot_open_another_brands_portal(portal, approved, other, page):
    """IDOR: brand B's portal pages do not exist for an influencer of brand A only."""
    assert portal.get(url(page, other.brand)).status_code == 404
    assert portal.post(url(page, other.brand), {"display_name": "x"}).status_code == 404


def test_influencers_cannot_download_someone_elses_qr(portal, approved, other):
    foreign = Code.objects.get(influencer=other.influencer)
    assert portal.get(url("portal_code_qr", approved.brand, code_pk=foreign.pk)).status_code == 404
    assert portal.get(url("portal_code_qr", other.brand, code_pk=foreign.pk)).status_code == 404
    assert portal.get(url("portal_code_qr", approved.brand, code_pk=99999)).status_code == 404


def test_blocked_membership_has_no_portal(client, brand_a):
    membership = MembershipFactory(brand=brand_a, status="blocked")
    client.force_login(membership.influencer.user)
    for page in PORTAL_PAGES:
        assert client.get(url(page, brand_a)).status_code == 404


def test_suspended_member_sees_history_but_not_codes(client, brand_a):
    membership = MembershipFactory(brand=brand_a, status="suspended")
    client.force_login(membership.influencer.user)
    dashboard = client.get(url("portal_dashboard", brand_a)).content.decode()
    assert "suspended" in dashboard
    assert 'data-nav="codes"' not in dashboard
    assert 'data-testid="membership-status"' in client.get(url("portal_codes", brand_a)).content.decode()


def test_profile_update_changes_only_the_profile_fields(portal, approved, brand_b):
    influencer = approved.influencer
    response = portal.post(
        url("portal_profile", approved.brand),
        {
            "display_name": "Ana T.",
            "phone": "+57 310 000 0000",
            "instagram": "ana.t",
            "tiktok": "@anat",
            "youtube": "",
            "audience_size": "20000",
            "preferred_language": "en",
            # Mass assignment attempts: none of these may change.
            "email": "evil@example.com",
            "document_number": "999",
            "country": "BR",
            "status": "approved",
            "is_staff": "on",
            "user": "1",
        },
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    influencer.refresh_from_db()
    influencer.user.refresh_from_db()
    assert (influencer.display_name, influencer.tiktok, influencer.audience_size) == ("Ana T.", "anat", 20000)
    assert influencer.user.preferred_language == "en"
    assert influencer.user.email == "ana@example.com"
    assert (influencer.document_number, influencer.country) == ("1020304050", "CO")
    assert not influencer.user.is_staff
    assert AuditEvent.objects.filter(action="influencer.profile_updated").exists()


def test_profile_errors_keep_the_old_values(portal, approved):
    response = portal.post(
        url("portal_profile", approved.brand), {"display_name": "", "phone": "x", "audience_size": "-1"}
    )
    assert response.status_code == 400
    approved.influencer.refresh_from_db()
    assert approved.influencer.display_name == "Ana Torres"


def test_portal_uses_the_influencers_language_unless_the_browser_chose_one(portal, approved):
    user = approved.influencer.user
    user.preferred_language = "en"
    user.save()
    response = portal.get(url("portal_dashboard", approved.brand))
    assert response["Content-Language"] == "en"
    portal.cookies["django_language"] = "pt-br"
    assert portal.get(url("portal_dashboard", approved.brand))["Content-Language"] == "pt-br"


def test_payout_page_demands_reauthentication(portal, approved):
    response = portal.get(url("portal_payout", approved.brand))
    assert response.status_code == 302
    assert "/accounts/reauthenticate/" in response["Location"]
    posted = portal.post(url("portal_payout", approved.brand), {"account_holder": "X"})
    assert "/accounts/reauthenticate/" in posted["Location"]
    assert not PayoutAccount.objects.exists()


PAYOUT = {
    "account_holder": "Ana Torres",
    "holder_document_type": "CO_CC",
    "holder_document_number": "1020304050",
    "bank_name": "Bancolombia",
    "bank_code": "007",
    "account_type": "savings",
    "account_number": "123-456789-01",
    "key_type": "",
    "transfer_key": "",
}


def test_payout_data_is_encrypted_masked_audited_and_emailed(portal, approved, django_capture_on_commit_callbacks):
    reauthenticated(portal, approved.influencer.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = portal.post(url("portal_payout", approved.brand), PAYOUT)
    assert response.status_code == 302
    account = PayoutAccount.objects.get(influencer=approved.influencer)
    assert account.account_number == "123-456789-01"
    with connection.cursor() as cursor:
        cursor.execute("SELECT account_number, account_holder, holder_document_number FROM affiliates_payoutaccount")
        raw = cursor.fetchone()
    assert all(value.startswith("gAAAA") for value in raw)  # Fernet tokens, not the data
    assert "456789" not in "".join(raw)

    page = portal.get(url("portal_payout", approved.brand)).content.decode()
    assert "•••• 9-01" in page
    assert "123-456789-01" not in page  # never sent back in full, not even in the form

    audit = AuditEvent.objects.get(action="payout_account.created")
    assert audit.after["account_number"] == "•••• 9-01"
    assert "123-456789-01" not in str(audit.before) + str(audit.after)
    [email] = [m for m in mail.outbox if m.to == ["ana@example.com"]]
    assert "•••• 9-01" in email.body
    assert "123-456789-01" not in email.body


def test_payout_change_is_audited_with_before_and_after(portal, approved, django_capture_on_commit_callbacks):
    reauthenticated(portal, approved.influencer.user)
    portal.post(url("portal_payout", approved.brand), PAYOUT)
    with django_capture_on_commit_callbacks(execute=True):
        portal.post(url("portal_payout", approved.brand), {**PAYOUT, "account_number": "987654321"})
    audit = AuditEvent.objects.get(action="payout_account.updated")
    assert audit.before["account_number"] == "•••• 9-01"
    assert audit.after["account_number"] == "•••• 4321"


def test_invalid_payout_data_changes_nothing(portal, approved):
    reauthenticated(portal, approved.influencer.user)
    response = portal.post(
        url("portal_payout", approved.brand),
        {**PAYOUT, "account_number": "", "key_type": "clabe", "transfer_key": "002010077777777772"},
    )
    assert response.status_code == 400
    assert "CLABE" in response.content.decode()
    assert not PayoutAccount.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="payout_account").exists()


def test_payout_form_ignores_fields_it_does_not_declare(portal, approved, brand_b):
    reauthenticated(portal, approved.influencer.user)
    other_influencer = InfluencerFactory()
    portal.post(url("portal_payout", approved.brand), {**PAYOUT, "influencer": other_influencer.pk, "id": 77})
    account = PayoutAccount.objects.get()
    assert account.influencer == approved.influencer
    assert account.pk != 77 or PayoutAccount.objects.count() == 1


def test_influencer_with_totp_must_pass_the_second_factor(portal, approved):
    TOTPDevice.objects.create(user=approved.influencer.user, name="phone", confirmed=True)
    response = portal.get(url("portal_dashboard", approved.brand))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor"))


def test_influencer_can_turn_totp_off_after_reauthenticating(client, approved):
    user = approved.influencer.user
    otp_verify(client, user)
    page = client.get(url("portal_security", approved.brand)).content.decode()
    assert "On:" in page
    disable = url("portal_security_disable", approved.brand)
    assert "/accounts/reauthenticate/" in client.post(disable)["Location"]
    assert TOTPDevice.objects.filter(user=user).exists()
    reauthenticated(client, user)
    assert client.post(disable).status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="auth.two_factor_disabled").exists()


def test_security_page_offers_enrolment(portal, approved):
    html = portal.get(url("portal_security", approved.brand)).content.decode()
    assert reverse("two_factor") + "?next=" in html


def test_portal_forms_require_csrf(approved):
    client = Client(enforce_csrf_checks=True)
    client.force_login(approved.influencer.user)
    response = client.post(url("portal_profile", approved.brand), {"display_name": "Hacked"})
    assert response.status_code == 403
    approved.influencer.refresh_from_db()
    assert approved.influencer.display_name == "Ana Torres"


def test_influencer_with_two_brands_picks_one(client, approved, brand_b):
    MembershipFactory(brand=brand_b, influencer=approved.influencer, status="pending")
    client.force_login(approved.influencer.user)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert url("portal_dashboard", approved.brand) in html
    assert url("portal_dashboard", brand_b) in html


def test_chart_coordinates_are_not_localised(portal, approved):
    html = portal.get(url("portal_dashboard", approved.brand), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert re.search(r'<text x="\d+\.\d+"', html)
    assert not re.search(r'(x|y|x1|y1|x2|y2)="\d+,\d', html)  # "18,4" would be read as two numbers


def test_every_page_links_influencers_to_their_portal(client, approved):
    client.force_login(approved.influencer.user)
    assert reverse("portal:home") in client.get(reverse("home")).content.decode()


def test_influencer_sets_their_tax_regime_in_the_profile_and_it_is_audited(portal, approved):
    influencer = approved.influencer
    page = portal.get(url("portal_profile", approved.brand)).content.decode()
    assert 'name="fiscal_regime"' in page
    response = portal.post(
        url("portal_profile", approved.brand),
        {
            "display_name": influencer.display_name,
            "phone": "+57 310 000 0000",
            "instagram": "ana.t",
            "audience_size": "20000",
            "preferred_language": "es",
            "fiscal_regime": "  Régimen   simple ",
        },
    )
    assert response.status_code == 302
    influencer.refresh_from_db()
    assert influencer.fiscal_regime == "Régimen simple"
    event = AuditEvent.objects.filter(action="influencer.profile_updated").latest("id")
    assert event.before["fiscal_regime"] == ""
    assert event.after["fiscal_regime"] == "Régimen simple"


def test_too_long_tax_regime_is_refused_and_nothing_changes(portal, approved):
    influencer = approved.influencer
    response = portal.post(
        url("portal_profile", approved.brand),
        {
            "display_name": "Other name",
            "phone": "+57 310 000 0000",
            "instagram": "ana.t",
            "audience_size": "20000",
            "preferred_language": "es",
            "fiscal_regime": "x" * 41,
        },
    )
    assert response.status_code == 400
    assert "fiscal_regime" in response.context["form"].errors
    influencer.refresh_from_db()
    assert (influencer.display_name, influencer.fiscal_regime) == ("Ana Torres", "")


def test_orders_page_shows_the_vtex_status_as_words(portal, approved):
    Order.objects.create(
        brand=approved.brand,
        influencer=approved.influencer,
        vtex_order_id="v100-01",
        status="payment-approved",
        created_in_vtex_at=timezone.now(),
        snapshot={},
    )
    html = portal.get(url("portal_orders", approved.brand), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "v100-01" in html
    assert "Payment approved" in html
    assert "payment-approved" not in html


def test_earnings_list_the_ledger_movements_newest_first(portal, approved):
    brand, influencer = approved.brand, approved.influencer
    then = timezone.now() - timedelta(days=2)
    ledger_commission_accrue(
        brand=brand, influencer=influencer, commission_ref="v200-01", amount_cents=12_345, occurred_at=then
    )
    ledger_commission_confirm(
        brand=brand,
        influencer=influencer,
        commission_ref="v200-01",
        amount_cents=12_345,
        occurred_at=then + timedelta(days=1),
    )
    # Another influencer's movement never shows.
    stranger = MembershipFactory(brand=brand, status="approved").influencer
    ledger_commission_accrue(brand=brand, influencer=stranger, commission_ref="v999-01", amount_cents=777)

    with translation_override("en"):
        lines = portal_earning_list(membership=approved)
        assert [(line.movement, line.description, line.state, line.amount_cents) for line in lines] == [
            ("Commission confirmed", "", "Confirmed, on hold", 12_345),
            ("Commission accrued", "", "Estimated", 12_345),
        ]
    html = portal.get(url("portal_earnings", brand), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Commission accrued" in html
    assert "v200-01" not in html  # internal references are never shown
    assert "v999-01" not in html
    assert "No commissions yet" not in html


def test_portal_pages_read_the_memberships_once(portal, approved, brand_b):
    MembershipFactory(brand=brand_b, influencer=approved.influencer, status="approved")
    with CaptureQueriesContext(connection) as captured:
        response = portal.get(url("portal_profile", approved.brand))
    assert response.status_code == 200
    assert brand_b.name in response.content.decode()  # the brand switcher
    membership_reads = [q for q in captured.captured_queries if 'FROM "affiliates_membership"' in q["sql"]]
    assert len(membership_reads) == 1


def test_qr_helper_draws_a_regular_qr_inline_or_as_a_file():
    inline = qr_svg("ANA10", dark="#1d2433")
    assert inline.startswith("<svg")
    assert "#1d2433" in inline
    document = qr_svg("ANA10", scale=8, document=True)
    assert document.startswith("<?xml")
    assert "<svg" in document
