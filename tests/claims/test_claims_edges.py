"""The edges of claims, each one call to the services: the portal page (claim with errors shown
in place, htmx or not; one's own claims and their answers; three languages), the admin (why the
order is or is not the claimant's, the decision with a reason, the screenshot, brand scoping,
the back office queue) and the API (create/list with the brand's key, in the OpenAPI schema)."""

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.services import api_key_create
from affiliates.assignments import campaign_assign_influencer
from audit.models import AuditEvent
from claims.models import Claim
from claims.services import claim_reject, claim_submit
from commissions.models import Commission
from tests.api.conftest import auth
from tests.claims.conftest import SAMPLE_ORDER_ID, recent_order
from tests.factories import BrandFactory, CampaignFactory, InfluencerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

OTHER = "1500000000003-01"


def _url(brand: Any) -> str:
    return reverse("portal:claims", kwargs={"brand_slug": brand.slug})


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    return SimpleUploadedFile("chat.png", buffer.getvalue(), content_type="image/png")


# --- portal ---------------------------------------------------------------------------------


def test_an_influencer_claims_an_order_in_the_portal_and_sees_it_listed(
    client: Any, setup: dict[str, Any], lucia: Any, fake_oms: Any
) -> None:
    fake_oms.add_order(recent_order(order_id=OTHER, coupon=None))
    client.force_login(lucia.user)
    response = client.post(
        _url(setup["brand"]),
        {"vtex_order_id": OTHER, "buyer_message": "Compré por tu reel", "evidence": _png()},
    )
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert (claim.influencer, claim.buyer_message, claim.evidence_content_type) == (
        lucia,
        "Compré por tu reel",
        "image/png",
    )
    page = client.get(_url(setup["brand"])).content.decode()
    assert 'data-testid="claim-row"' in page
    assert OTHER in page
    assert "Under review" in page
    assert "Claim sent." in page


def test_a_refused_claim_is_explained_beside_the_order_number_htmx_or_not(
    client: Any, setup: dict[str, Any], lucia: Any, fake_oms: Any
) -> None:
    fake_oms.add_order(recent_order(order_id=OTHER, coupon=None))
    claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=OTHER)
    client.force_login(lucia.user)

    plain = client.post(_url(setup["brand"]), {"vtex_order_id": OTHER})
    htmx = client.post(_url(setup["brand"]), {"vtex_order_id": OTHER}, HTTP_HX_REQUEST="true")

    for response in (plain, htmx):
        assert response.status_code == 400
        html = response.content.decode()
        assert 'data-testid="vtex_order_id-error"' in html
        assert "already has a claim under review" in html
        assert f'value="{OTHER}"' in html
    assert htmx.content.decode().lstrip().startswith('<section class="panel narrow" id="claim-form">')
    assert Claim.objects.count() == 1


def test_a_bad_screenshot_is_refused_beside_its_field(client: Any, setup: dict[str, Any], lucia: Any) -> None:
    client.force_login(lucia.user)
    fake = SimpleUploadedFile("chat.png", b"not an image at all", content_type="image/png")
    response = client.post(_url(setup["brand"]), {"vtex_order_id": OTHER, "evidence": fake})
    assert response.status_code == 400
    assert 'data-testid="evidence-error"' in response.content.decode()
    assert not Claim.objects.exists()


@pytest.mark.parametrize(
    ("language", "words"),
    [("es", "¿Falta una venta? Reclámala"), ("en", "Missing sale? Claim it"), ("pt-br", "Falta uma venda? Reclame")],
)
def test_the_claims_page_speaks_the_influencers_language_and_is_in_the_nav(
    client: Any, setup: dict[str, Any], lucia: Any, language: str, words: str
) -> None:
    client.force_login(lucia.user)
    client.cookies["django_language"] = language
    html = client.get(_url(setup["brand"])).content.decode()
    assert words in html
    assert f'href="{_url(setup["brand"])}"' in html  # the nav links here


def test_influencers_see_only_their_own_claims_and_their_answers(
    client: Any, setup: dict[str, Any], lucia: Any, manager_a: Any, fake_oms: Any
) -> None:
    fake_oms.add_order(recent_order(order_id=OTHER, coupon=None))
    mine = claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=OTHER)
    claim_reject(claim_id=mine.pk, reason="The buyer used another store.", actor=manager_a)
    other = MembershipFactory(brand=setup["brand"], influencer=InfluencerFactory()).influencer
    campaign_assign_influencer(campaign=setup["campaign"], influencer=other)
    claim_submit(influencer=other, campaign=setup["campaign"], vtex_order_id="424242-01")

    client.force_login(lucia.user)
    html = client.get(_url(setup["brand"])).content.decode()
    assert html.count('data-testid="claim-row"') == 1
    assert "The buyer used another store." in html
    assert "424242-01" not in html


# --- admin ----------------------------------------------------------------------------------


def test_the_manager_sees_why_and_accepts_with_a_reason_in_the_admin(
    verified_client: Any, setup: dict[str, Any], lucia: Any, manager_a: Any, fake_oms: Any
) -> None:
    fake_oms.add_order(recent_order())  # Maria's coupon
    claim = claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id=SAMPLE_ORDER_ID, evidence=_png())
    client = verified_client(manager_a)

    listing = client.get(reverse("admin:claims_claim_changelist") + "?status__exact=open").content.decode()
    assert SAMPLE_ORDER_ID in listing
    page = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert "Attributed to Maria: the buyer typed their code INFLU-MARIA10" in page
    assert reverse("admin:claims_claim_decide", args=[claim.pk]) in page
    evidence = client.get(reverse("admin:claims_claim_evidence", args=[claim.pk]))
    assert evidence.status_code == 200
    assert AuditEvent.objects.filter(action="claim.evidence_viewed").count() == 1

    decide = reverse("admin:claims_claim_decide", args=[claim.pk])
    missing = client.post(decide, {"decision": "accept", "reason": ""})
    assert missing.status_code == 400
    assert not Commission.objects.filter(influencer=lucia).exists()
    done = client.post(decide, {"decision": "accept", "reason": "Her story link shows in the chat."})
    assert done.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.decided_by) == ("accepted", manager_a)
    assert Commission.objects.filter(influencer=lucia).count() == 3
    home = client.get(reverse("admin:index")).content.decode()
    assert "Missing-order claims to decide" in home


def test_another_brands_manager_gets_404(
    verified_client: Any, setup: dict[str, Any], lucia: Any, manager_b: Any, fake_oms: Any
) -> None:
    claim = claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id="777-01")
    client = verified_client(manager_b)
    assert client.get(reverse("admin:claims_claim_change", args=[claim.pk])).status_code in (302, 404)
    refused = client.post(
        reverse("admin:claims_claim_decide", args=[claim.pk]), {"decision": "reject", "reason": "not mine to say"}
    )
    assert refused.status_code == 404
    claim.refresh_from_db()
    assert claim.status == "open"


# --- API ------------------------------------------------------------------------------------


def test_the_brands_system_creates_and_lists_claims_with_its_key(
    client: Any, setup: dict[str, Any], lucia: Any, fake_oms: Any
) -> None:
    fake_oms.add_order(recent_order())
    _k, key = api_key_create(brand=setup["brand"], name="CRM", scopes=["claims:read", "claims:write"])
    created = client.post(
        "/api/v1/claims/",
        {"campaign": setup["campaign"].pk, "influencer": lucia.pk, "vtex_order_id": SAMPLE_ORDER_ID},
        content_type="application/json",
        **auth(key),
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["finding"], body["status"], body["source"]) == ("other_code", "open", "api")
    assert body["finding_detail"]["attributed_to"]["name"] == "Maria"

    again = client.post(
        "/api/v1/claims/",
        {"campaign": setup["campaign"].pk, "influencer": lucia.pk, "vtex_order_id": SAMPLE_ORDER_ID},
        content_type="application/json",
        **auth(key),
    )
    assert again.status_code == 400
    assert again.json()["code"] == "claim_duplicate"
    listing = client.get("/api/v1/claims/?status=open", **auth(key)).json()
    assert [c["vtex_order_id"] for c in listing["results"]] == [SAMPLE_ORDER_ID]


def test_the_api_needs_the_claims_scope_and_sees_only_its_brand(
    client: Any, setup: dict[str, Any], lucia: Any, fake_oms: Any
) -> None:
    claim_submit(influencer=lucia, campaign=setup["campaign"], vtex_order_id="888-01")
    _k, reader = api_key_create(brand=setup["brand"], name="BI", scopes=["claims:read"])
    refused = client.post(
        "/api/v1/claims/",
        {"campaign": setup["campaign"].pk, "influencer": lucia.pk, "vtex_order_id": "889-01"},
        content_type="application/json",
        **auth(reader),
    )
    assert refused.status_code == 403
    other_brand = BrandFactory(slug="other-brand")
    CampaignFactory(brand=other_brand)
    _k, other = api_key_create(brand=other_brand, name="BI", scopes=["claims:read"])
    assert client.get("/api/v1/claims/", **auth(other)).json()["results"] == []
    assert Claim.objects.count() == 1


def test_claims_are_in_the_openapi_schema(verified_client: Any, manager_a: Any) -> None:
    schema = verified_client(manager_a).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/claims/"])
    assert schema["paths"]["/api/v1/claims/"]["post"]["operationId"] == "claim_create"
