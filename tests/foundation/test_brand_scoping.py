"""A manager of brand A never sees brand B's objects: admin lists, change pages, actions, API."""

import pytest
from django.contrib import admin as django_admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import AuditEvent
from brands.models import StaffBrandAccess
from campaigns.models import Campaign
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaigns(brand_a, brand_b):
    return CampaignFactory(brand=brand_a, name="Verano A"), CampaignFactory(brand=brand_b, name="Invierno B")


def test_admin_changelist_shows_only_the_managers_brand(verified_client, manager_a, campaigns):
    response = verified_client(manager_a).get(reverse("admin:campaigns_campaign_changelist"))
    assert response.status_code == 200
    assert b"Verano A" in response.content
    assert b"Invierno B" not in response.content
    assert b"Globex" not in response.content  # not even in the brand filter of the sidebar


@pytest.mark.parametrize(
    "url_name_case",
    ["admin:campaigns_campaign_change", "admin:campaigns_campaign_history", "admin:campaigns_campaign_delete"],
)
def test_admin_object_pages_of_another_brand_answer_404(verified_client, manager_a, campaigns, url_name_case):
    other = campaigns[1]
    response = verified_client(manager_a).get(reverse(url_name_case, args=[other.pk]))
    assert response.status_code == 404


def test_admin_brand_of_another_brand_is_404(verified_client, manager_a, brand_b):
    response = verified_client(manager_a).get(reverse("admin:brands_brand_change", args=[brand_b.pk]))
    assert response.status_code == 404


def test_admin_cannot_move_a_campaign_to_another_brand(verified_client, manager_a, campaigns, brand_b):
    own = campaigns[0]
    client = verified_client(manager_a)
    url = reverse("admin:campaigns_campaign_change", args=[own.pk])
    # An existing campaign's brand is not even offered (its codes and rollups belong to it)...
    assert 'name="brand"' not in client.get(url).content.decode()
    # ...and a forged POST naming brand B changes nothing.
    client.post(url, {"brand": brand_b.pk, "name": own.name, "slug": own.slug, "status": own.status})
    own.refresh_from_db()
    assert own.brand_id != brand_b.pk


def test_admin_export_action_only_exports_visible_rows(verified_client, manager_a, campaigns):
    client = verified_client(manager_a)
    response = client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "export_csv", "_selected_action": [c.pk for c in Campaign.objects.all()]},
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Verano A" in body
    assert "Invierno B" not in body


def test_superuser_sees_every_brand(verified_client, superuser, campaigns):
    response = verified_client(superuser).get(reverse("admin:campaigns_campaign_changelist"))
    assert b"Verano A" in response.content
    assert b"Invierno B" in response.content


def test_api_staff_session_is_scoped(verified_client, manager_a, brand_a, brand_b):
    client = verified_client(manager_a)
    listing = client.get("/api/v1/brands/")
    assert listing.status_code == 200
    assert [b["slug"] for b in listing.json()["results"]] == [brand_a.slug]
    assert client.get(f"/api/v1/brands/{brand_b.slug}/").status_code == 404
    assert client.get(f"/api/v1/brands/{brand_a.slug}/").status_code == 200


def test_roles_grant_what_each_role_works_with(manager_a, finance_a):
    assert manager_a.has_perm("commissions.change_commission")
    assert manager_a.has_perm("orders.view_order")
    assert manager_a.has_perm("tracking.change_fraudflag")
    assert not manager_a.has_perm("payments.change_withdrawal")
    assert finance_a.has_perm("orders.view_order")
    assert not finance_a.has_perm("commissions.change_commission")


def test_admin_refuses_to_save_an_object_with_no_brand_for_scoped_staff(manager_a, rf):
    model_admin = django_admin.site._registry[Campaign]
    request = rf.post("/")
    request.user = manager_a
    with pytest.raises(PermissionDenied):
        model_admin.check_brand_allowed(request, Campaign(name="No brand"))


def test_granting_brand_access_in_the_admin_is_audited(verified_client, superuser, manager_a, brand_b):
    client = verified_client(superuser)
    url = reverse("admin:accounts_user_change", args=[manager_a.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list | tuple)}
    data.update({"email": manager_a.email, "preferred_language": "en", "is_active": "on", "is_staff": "on"})
    data["groups"] = [g.pk for g in manager_a.groups.all()]
    existing = list(StaffBrandAccess.objects.filter(user=manager_a))
    prefix = "brand_access"
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(len(existing) + 1),
            f"{prefix}-INITIAL_FORMS": str(len(existing)),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    )
    for i, access in enumerate(existing):
        data.update(
            {f"{prefix}-{i}-id": access.pk, f"{prefix}-{i}-user": manager_a.pk, f"{prefix}-{i}-brand": access.brand_id}
        )
    data.update({f"{prefix}-{len(existing)}-brand": brand_b.pk, f"{prefix}-{len(existing)}-user": manager_a.pk})
    response = client.post(url, data)
    assert response.status_code == 302, (
        [f.formset.errors for f in response.context["inline_admin_formsets"]] if response.context else ""
    )
    assert StaffBrandAccess.objects.filter(user=manager_a, brand=brand_b).exists()
    assert AuditEvent.objects.filter(action="staff.brand_granted", target_id=str(manager_a.pk)).exists()
