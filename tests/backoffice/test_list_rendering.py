"""What makes a back-office list cheaper to serve keeps what it shows: the row checkbox is
Django's markup, a list that does not choose shows 50 rows (one that chooses keeps its
choice), a list that nothing narrows is counted once (a narrowed one still shows its total),
the index builds its work list once, and a brand's credentials that come with every
row are decrypted once per process while personal data is decrypted on every read."""

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from affiliates.models import Membership, PayoutAccount
from backoffice import admin_site
from backoffice.admin_site import MGMAdminSite
from brands.models import Brand
from core import crypto
from core.admin_rows import LIST_PER_PAGE
from tests.factories import BrandFactory, InfluencerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_the_row_checkbox_is_djangos_markup(brand_a: Any) -> None:
    influencer = InfluencerFactory(display_name="Ana <b>\"&' Silva")
    membership = Membership.objects.create(influencer=influencer, brand=brand_a)
    site = MGMAdminSite(name="rows")
    site.register(Membership)
    quick = site._registry[Membership].action_checkbox(membership)
    django = admin.ModelAdmin(Membership, AdminSite(name="plain")).action_checkbox(membership)
    assert str(quick) == str(django)
    assert "<b>" not in quick  # the person's name is escaped, once


def test_a_list_shows_fifty_rows_unless_its_admin_chooses() -> None:
    class Chooses(admin.ModelAdmin):
        list_per_page = 20

    site = MGMAdminSite(name="paging")
    site.register(Brand)
    site.register(Membership, Chooses)
    assert site._registry[Brand].list_per_page == LIST_PER_PAGE == 50
    assert site._registry[Membership].list_per_page == 20


def test_a_long_list_pages_at_fifty(superuser: Any, verified_client: Any) -> None:
    for n in range(LIST_PER_PAGE + 3):
        BrandFactory(slug=f"paged-{n}", vtex_account=f"paged{n}")
    page = verified_client(superuser).get(reverse("admin:brands_brand_changelist"))
    assert page.status_code == 200
    assert len(page.context["cl"].result_list) == LIST_PER_PAGE
    assert page.context["cl"].paginator.num_pages == 2


def test_a_list_nothing_narrows_is_counted_once_and_a_narrowed_one_keeps_its_total(
    manager_a: Any, brand_a: Any, brand_b: Any, verified_client: Any
) -> None:
    for status in ("pending", "pending", "approved"):
        MembershipFactory(brand=brand_a, status=status)
    MembershipFactory(brand=brand_b, status="pending")  # another brand's: never counted here
    client = verified_client(manager_a)
    url = reverse("admin:affiliates_membership_changelist")

    def counts(path: str) -> tuple[Any, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(path)
        assert page.status_code == 200
        asked = [
            q["sql"]
            for q in queries.captured_queries
            if 'COUNT(*) AS "__count" FROM "affiliates_membership"' in q["sql"]
        ]
        return page.context["cl"], asked

    whole, asked = counts(url)
    assert (whole.result_count, whole.full_result_count, len(asked)) == (3, 3, 1)

    narrowed, asked = counts(f"{url}?status__exact=pending")
    assert (narrowed.result_count, narrowed.full_result_count, len(asked)) == (2, 3, 2)
    searched, asked = counts(f"{url}?q=nobody-has-this-name")
    assert (searched.result_count, searched.full_result_count, len(asked)) == (0, 3, 2)


def test_the_work_list_is_built_once_per_person_and_permissions(
    superuser: Any, manager_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index asks for it twice per page, and every page of the back office once: it is built
    once per request, kept per process for the same permissions, language and script prefix,
    and built again when the person's permissions change."""
    admin_site._nav_cache.clear()
    builds = []
    original = AdminSite.get_app_list

    def counting(self: Any, request: Any, app_label: str | None = None) -> Any:
        builds.append(request.user.pk)
        return original(self, request, app_label)

    def request_of(user: Any) -> Any:
        request = RequestFactory().get("/")
        request.user = type(user).objects.get(pk=user.pk)  # a fresh user, as each request loads it
        return request

    monkeypatch.setattr(AdminSite, "get_app_list", counting)
    site = admin.site
    request = request_of(superuser)
    first = site.get_app_list(request)
    assert site.get_app_list(request) is first
    assert builds == [superuser.pk]

    again = site.get_app_list(request_of(superuser))
    assert builds == [superuser.pk]  # the same person and permissions: not built again
    assert again == first
    assert again[0] is not first[0]
    assert again[0]["models"][0] is not first[0]["models"][0]
    first[0]["models"].clear()  # what one page does to its list stays there
    assert site.get_app_list(request_of(superuser))[0]["models"]

    manager_nav = site.get_app_list(request_of(manager_a))
    assert builds == [superuser.pk, manager_a.pk]
    keys = {model["nav_key"] for group in manager_nav for model in group["models"]}
    assert "affiliates.membership" in keys
    assert "work-system" not in {group["app_label"] for group in manager_nav}

    # The manager loses every role but viewing payout batches: the next page shows that, and
    # no longer the memberships.
    manager_a.groups.clear()
    manager_a.user_permissions.add(Permission.objects.get(codename="view_payoutbatch"))
    narrowed = site.get_app_list(request_of(manager_a))
    assert builds == [superuser.pk, manager_a.pk, manager_a.pk]
    narrowed_keys = {model["nav_key"] for group in narrowed for model in group["models"]}
    assert "payments.payoutbatch" in narrowed_keys
    assert "affiliates.membership" not in narrowed_keys


def test_brand_credentials_are_decrypted_once_personal_data_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    brand = BrandFactory(vtex_app_token="token-for-many-rows", vtex_app_key="key-for-many-rows")
    account = PayoutAccount.objects.create(
        influencer=InfluencerFactory(),
        account_holder="Ana Silva",
        bank_name="Banco",
        account_type=PayoutAccount.AccountType.CHECKING,
        account_number="0012345678",
    )
    crypto._decrypt_memo.cache_clear()
    opened: list[str] = []
    original = crypto.decrypt_str

    def counting(token: str) -> str:
        plain = original(token)
        opened.append(plain)
        return plain

    monkeypatch.setattr(crypto, "decrypt_str", counting)
    for _ in range(3):
        assert Brand.objects.get(pk=brand.pk).vtex_app_token == "token-for-many-rows"
        assert PayoutAccount.objects.get(pk=account.pk).account_number == "0012345678"
    assert opened.count("token-for-many-rows") == 1
    assert opened.count("key-for-many-rows") == 1
    assert opened.count("0012345678") == 3


def test_a_memoised_credential_still_needs_a_key_that_opens_it(settings: Any) -> None:
    brand = BrandFactory(vtex_app_token="token-under-the-old-key")
    assert Brand.objects.get(pk=brand.pk).vtex_app_token == "token-under-the-old-key"  # memoised
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key dropped
    with pytest.raises(ImproperlyConfigured, match="dropped too early"):
        Brand.objects.get(pk=brand.pk)
