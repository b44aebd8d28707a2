"""The one form field for money. People type major units in their language's number format
("150.000,50" in Spanish, "150,000.50" in English, "150.00" everywhere); the field hands the
form exact integer minor units, as they are stored. It shows a stored amount the same way, so a
form that is opened and saved unchanged saves the same number."""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError
from core.money import currency_exponent, format_typed, parse_typed, typed_amount_normalize

# An example amount (in minor units) for placeholders and error messages: 1,500.00.
EXAMPLE_CENTS = 150000


class MoneyInput(forms.TextInput):
    """A text box (not type=number: that one refuses the comma decimal mark of es/pt and
    browsers disagree on grouping) with the numeric keyboard on phones."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"inputmode": "decimal", "autocomplete": "off", "size": 16, **(attrs or {})})


class MoneyFormField(forms.Field):
    """Minor units in, minor units out; major units on the screen.

    `currency` is the currency of the amount (or a callable returning it, resolved when the form
    is shown or read: an admin form learns it from its instance). Unknown currency: the common
    two decimals, and no currency name in the example.

    `is_money` (a callable) serves a field that holds money or a count depending on its row (a
    tier threshold: confirmed sales or confirmed orders): when it answers False the field reads
    and shows a whole number instead."""

    widget = MoneyInput
    default_error_messages = {
        "invalid": _("Enter an amount as you write it, for example %(example)s."),
        "too_many_decimals": _("Use at most %(digits)s decimal places for %(currency)s."),
        "min_value": _("Enter an amount of %(limit)s or more."),
        "max_value": _("Enter an amount of %(limit)s or less."),
        "not_whole": _("Enter a whole number, for example %(example)s."),
    }

    def __init__(
        self,
        *,
        currency: str | Callable[[], str | None] | None = None,
        min_value: int | None = None,
        max_value: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.currency = currency
        self.is_money: Callable[[], bool] | None = None
        # What an empty, optional box means: None (no amount), or 0 for a field that has no NULL.
        self.empty_amount: int | None = None
        self.min_value = min_value
        self.max_value = max_value
        kwargs.setdefault("widget", MoneyInput)
        super().__init__(**kwargs)

    def currency_code(self) -> str | None:
        value = self.currency() if callable(self.currency) else self.currency
        return value or None

    def holds_money(self) -> bool:
        return self.is_money is None or bool(self.is_money())

    def example(self) -> str:
        if not self.holds_money():
            return str(number_format(EXAMPLE_CENTS // 100, use_l10n=True, force_grouping=True))
        return format_typed(EXAMPLE_CENTS, self.currency_code() or "")

    def prepare_value(self, value: Any) -> Any:
        # A stored amount (int) is shown in major units; what a person typed is shown back as typed.
        if isinstance(value, int) and not isinstance(value, bool):
            if not self.holds_money():
                return str(number_format(value, use_l10n=True, force_grouping=True))
            return format_typed(value, self.currency_code() or "")
        return value

    def _whole_number(self, value: Any) -> int:
        try:
            number = Decimal(typed_amount_normalize(str(value)))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or number != number.to_integral_value():
            raise ValidationError(
                self.error_messages["not_whole"], code="not_whole", params={"example": self.example()}
            )
        return int(number)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if not self.holds_money():
            return self._whole_number(value)
        currency = self.currency_code()
        try:
            return parse_typed(str(value), currency=currency)
        except ApplicationError as exc:
            if exc.code == "too_many_decimals":
                raise ValidationError(
                    self.error_messages["too_many_decimals"],
                    code="too_many_decimals",
                    params={"digits": currency_exponent(currency), "currency": currency or ""},
                ) from exc
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"example": self.example()}
            ) from exc

    def clean(self, value: Any) -> int | None:
        cleaned = super().clean(value)
        return self.empty_amount if cleaned is None else cleaned

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        currency = self.currency_code() or ""
        if not self.holds_money():
            return
        if self.min_value is not None and value < self.min_value:
            raise ValidationError(
                self.error_messages["min_value"],
                code="min_value",
                params={"limit": format_typed(self.min_value, currency)},
            )
        if self.max_value is not None and value > self.max_value:
            raise ValidationError(
                self.error_messages["max_value"],
                code="max_value",
                params={"limit": format_typed(self.max_value, currency)},
            )

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        # Lazy: written in the language (and currency) of the page that shows it.
        attrs.setdefault("placeholder", lazy(self.example, str)())
        return attrs

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
        try:
            return self.to_python(initial) != self.to_python(data)
        except ValidationError:
            return True
