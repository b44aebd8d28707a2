"""Money in the back office is read and typed in major units, in the reader's number format, and
stored exactly in minor units. The walk over every registered admin is the guard: a new admin
(or a new `*_cents` field) that would show or take cents fails here."""

from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import translation

from campaigns.models import Campaign
from core.admin_exports import export_header, export_row
from core.admin_money import conditional_money_fields, money_display, money_fields
from core.money import format_percent, parse_typed, to_major
from core.money_forms import MoneyFormField
from payments.models import Withdrawal
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _field(currency: str | None = "COP", **kwargs: Any) -> MoneyFormField:
    return MoneyFormField(currency=currency, **kwargs)


@pytest.mark.parametrize(
    ("language", "typed", "cents"),
    [
        ("es", "150.000,50", 15_000_050),
        ("es", "150000,5", 15_000_050),
        ("es", "150.00", 15_000),
        ("es", "1.500", 150_000),
        ("pt-br", "150.000,50", 15_000_050),
        ("en", "150,000.50", 15_000_050),
        ("en", "150.00", 15_000),
        ("en", "1,500", 150_000),
        ("en", "-20.5", -2_050),
    ],
)
def test_amounts_are_typed_in_the_readers_format_and_kept_in_minor_units(language, typed, cents) -> None:
    with translation.override(language):
        assert _field().clean(typed) == cents


@pytest.mark.parametrize("typed", ["abc", "12,3,4", "1.2.3", "150,5x", "1e3", "NaN", "--5"])
def test_what_is_not_an_amount_is_refused_with_a_translated_message(typed) -> None:
    with translation.override("es"):
        with pytest.raises(ValidationError) as refused:
            _field().clean(typed)
        assert refused.value.messages == ["Escribe un monto como lo escribes, por ejemplo 1.500,00."]
    with translation.override("pt-br"):
        with pytest.raises(ValidationError) as refused:
            _field().clean(typed)
        assert refused.value.messages == ["Digite um valor como você o escreve, por exemplo 1.500,00."]


def test_more_decimals_than_the_currency_has_are_refused_not_rounded() -> None:
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            _field("BRL").clean("10.005")
        assert refused.value.messages == ["Use at most 2 decimal places for BRL."]


def test_limits_are_said_in_major_units() -> None:
    with translation.override("es"):
        with pytest.raises(ValidationError) as refused:
            _field(min_value=1).clean("0")
        assert refused.value.messages == ["Escribe un monto de 0,01 o más."]


@pytest.mark.parametrize("cents", [0, 1, 5, 99, 100, 15_000_050, 2**53 + 1, 123_456_789_012_345, -2_050])
@pytest.mark.parametrize("language", ["es", "en", "pt-br"])
def test_an_amount_shown_in_a_form_reads_back_exactly(cents, language) -> None:
    # 2**53 + 1 is where a float would lose the last cent: the round trip never goes through one.
    with translation.override(language):
        field = _field()
        shown = field.prepare_value(cents)
        assert isinstance(shown, str)
        assert field.clean(shown) == cents
        assert not field.has_changed(cents, shown)
    assert to_major(cents, "COP") * 100 == cents
    assert isinstance(to_major(cents, "COP"), Decimal)


def test_parse_typed_is_exact_for_large_amounts() -> None:
    with translation.override("en"):
        assert parse_typed("90,071,992,547,409.93", currency="COP") == 9_007_199_254_740_993


def test_a_field_that_holds_a_count_on_some_rows_reads_a_whole_number() -> None:
    field = _field()
    field.is_money = lambda: False
    with translation.override("es"):
        assert field.clean("1.000") == 1000
        assert field.prepare_value(1000) == "1.000"
        with pytest.raises(ValidationError) as refused:
            field.clean("2,5")
    assert refused.value.code == "not_whole"


def test_amounts_and_percentages_are_shown_in_the_readers_format() -> None:
    with translation.override("es"):
        assert money_display(15_000_000, "COP") == "COP 150.000,00"
        assert format_percent(Decimal("0.0554")) == "5,54 %"
    with translation.override("pt-br"):
        assert format_percent(0.0554) == "5,54 %"
    with translation.override("en"):
        assert money_display(15_000_000, "COP") == "COP 150,000.00"
        assert format_percent(Decimal("0.0554")) == "5.54 %"
        assert money_display(None, "COP") == "—"


def _walk_problems(user: Any) -> list[str]:
    request = RequestFactory().get("/")
    request.user = user
    problems: list[str] = []
    for model_admin in admin.site._registry.values():
        admins: list[Any] = [model_admin, *model_admin.get_inline_instances(request, None)]
        for current in admins:
            names = set(money_fields(current.model)) | set(conditional_money_fields(current.model))
            where = f"{type(current).__module__}.{type(current).__name__}"
            for name in money_fields(current.model):
                label = str(current.model._meta.get_field(name).verbose_name).lower()
                if "cent" in label:
                    problems.append(f"{where}: {name} is labelled {label!r}")
            shown: list[str] = []
            if isinstance(current, admin.ModelAdmin):
                shown += [n for n in current.get_list_display(request) if isinstance(n, str)]
                form = current.get_form(request, None)
            else:
                form = current.get_formset(request, None).form
            readonly = [n for n in current.get_readonly_fields(request, None) if isinstance(n, str)]
            layout = flatten_fieldsets(current.get_fieldsets(request, None))
            # Anything else named like an amount in minor units (a property, an annotation).
            others = {n for n in [*shown, *readonly, *layout] if n.endswith("_cents") and not hasattr(current, n)}
            others -= names
            problems += [f"{where}: {n} is shown as it is stored" for n in sorted(others)]
            for name in sorted(names & set(shown)):
                problems.append(f"{where}: list column {name} shows minor units")
            for name in sorted(names & set(readonly)):
                problems.append(f"{where}: read-only {name} shows minor units")
            for name in sorted(names & set(layout)):
                field = form.base_fields.get(name)
                if not isinstance(field, MoneyFormField):
                    problems.append(f"{where}: {name} is edited as {type(field).__name__}")
            if getattr(current, "export_fields", None):
                header = export_header(current.model, list(current.export_fields))
                problems += [f"{where}: export column {h}" for h in header if h.endswith("_cents")]
    return problems


def test_no_registered_admin_shows_or_takes_money_in_minor_units(superuser, manager_a, finance_a) -> None:
    for user in (superuser, manager_a, finance_a):
        assert _walk_problems(user) == []


def test_the_walk_notices_an_admin_that_shows_cents(superuser) -> None:
    # The guard itself: an admin registered outside the site's wrapping shows raw cents.

    wrapped = admin.site._registry[Withdrawal]
    raw = type(wrapped).__bases__[1](Withdrawal, admin.site)  # the admin class as written
    admin.site._registry[Withdrawal] = raw
    try:
        problems = _walk_problems(superuser)
    finally:
        admin.site._registry[Withdrawal] = wrapped
    assert any("amount_cents" in p for p in problems)


def test_an_export_names_money_columns_without_cents_and_writes_major_units(brand_a) -> None:
    campaign = CampaignFactory(brand=brand_a, order_cap_cents=15_000_050)
    campaign = Campaign.objects.get(pk=campaign.pk)
    header = export_header(Campaign, ["id", "order_cap_cents"])
    row = export_row(campaign, ["id", "order_cap_cents"])
    assert header == ["id", "order_cap", "currency"]
    assert row == [campaign.pk, Decimal("150000.50"), "COP"]


@pytest.mark.parametrize("language", ["es", "pt-br"])
def test_money_messages_are_translated(language) -> None:
    for message in MoneyFormField.default_error_messages.values():
        with translation.override("en"):
            english = str(message)
        with translation.override(language):
            assert str(message) != english, english
