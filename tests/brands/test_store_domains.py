"""Store domains are typed one per line and stored as checked host names; colours are picked
with a colour input (issue 15)."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from brands.forms import BrandAdminForm
from brands.hosts import MAX_STORE_DOMAINS, store_domains_clean
from brands.models import Brand


def test_hosts_are_normalised_deduplicated_and_kept_in_order() -> None:
    assert store_domains_clean(
        ["  WWW.Shop.com ", "https://shop.com/sale?x=1", "www.shop.com", "", "tienda.com.co."]
    ) == [
        "www.shop.com",
        "shop.com",
        "tienda.com.co",
    ]


def test_international_names_are_accepted() -> None:
    assert store_domains_clean(["tienda-ñandú.com"]) == ["tienda-ñandú.com"]


@pytest.mark.parametrize(
    "entry",
    [
        "localhost",
        "shop_example.com",
        "192.168.0.10",
        "-shop.com",
        "shop-.com",
        "*.shop.com",
        "shop.com:8443",
        "a b.com",
    ],
)
def test_what_is_not_a_store_host_is_refused_by_name(entry: str) -> None:
    with pytest.raises(ValidationError) as refused:
        store_domains_clean(["www.ok.com", entry])
    assert entry in str(refused.value)
    assert "www.ok.com" not in str(refused.value)


def test_a_bounded_list() -> None:
    with pytest.raises(ValidationError):
        store_domains_clean([f"s{n}.example.com" for n in range(MAX_STORE_DOMAINS + 1)])


def _form_data(brand: Brand, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": brand.name,
        "slug": brand.slug,
        "is_active": "on",
        "vtex_account": brand.vtex_account,
        "vtex_environment": brand.vtex_environment,
        "currency": brand.currency,
        "country": brand.country,
        "time_zone": brand.time_zone,
        "store_domains": "",
        "primary_color": "#1f4e79",
        "secondary_color": "#f2a900",
        "min_withdrawal_cents": "50.00",
        "default_hold_days": "30",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_the_admin_form_stores_a_list_of_hosts_typed_one_per_line(brand_a: Brand) -> None:
    form = BrandAdminForm(
        data=_form_data(brand_a, store_domains="www.acme.com\nhttps://Shop.Acme.com/\nwww.acme.com"), instance=brand_a
    )
    assert form.is_valid(), form.errors
    form.save()
    brand_a.refresh_from_db()
    assert brand_a.store_domains == ["www.acme.com", "shop.acme.com"]


@pytest.mark.django_db
def test_a_pasted_json_list_is_read_as_the_list_it_is(brand_a: Brand) -> None:
    form = BrandAdminForm(data=_form_data(brand_a, store_domains='["www.acme.com", "shop.acme.com"]'), instance=brand_a)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["store_domains"] == ["www.acme.com", "shop.acme.com"]


@pytest.mark.django_db
def test_a_bad_host_is_shown_beside_the_field_and_nothing_is_saved(brand_a: Brand) -> None:
    brand_a.store_domains = ["www.acme.com"]
    brand_a.save()
    form = BrandAdminForm(data=_form_data(brand_a, store_domains="www.acme.com\nacme_store"), instance=brand_a)
    assert not form.is_valid()
    assert "acme_store" in form.errors["store_domains"][0]
    brand_a.refresh_from_db()
    assert brand_a.store_domains == ["www.acme.com"]


@pytest.mark.django_db
def test_stored_hosts_show_one_per_line_and_colours_use_a_colour_input(brand_a: Brand) -> None:
    brand_a.store_domains = ["www.acme.com", "shop.acme.com"]
    form = BrandAdminForm(instance=brand_a)
    html = str(form["store_domains"])
    assert "www.acme.com\nshop.acme.com" in html
    assert 'type="color"' in str(form["primary_color"])
    assert 'type="color"' in str(form["secondary_color"])
