"""Money helpers. Amounts are integers in minor units (cents), as VTEX sends them; rates are
Decimal. `round_minor` is the one place where a fractional amount becomes minor units."""

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _

from core.errors import ApplicationError

# ISO 4217 minor-unit exponents for the currencies our brands sell in. CLP has no minor unit
# in practice; VTEX still sends CLP in "cents" of 1/100, so the exponent here is the one used
# for *display and input*, while storage is always in VTEX's 1/100 units.
CURRENCY_EXPONENT = {
    "BRL": 2,
    "COP": 2,
    "MXN": 2,
    "PEN": 2,
    "CLP": 2,
    "ARS": 2,
    "USD": 2,
    "UYU": 2,
    "EUR": 2,
}
CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_EXPONENT)]


def currency_exponent(currency: str | None) -> int:
    """Digits after the decimal mark people read and type for `currency` (2 when unknown)."""
    return CURRENCY_EXPONENT.get(currency or "", 2)


def to_major(amount: int, currency: str | None) -> Decimal:
    """Minor units as an exact Decimal in major units (150000 COP -> Decimal("1500.00")): for
    files and APIs; never through float."""
    exponent = currency_exponent(currency)
    return Decimal(int(amount)).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def round_minor(amount: Decimal) -> int:
    """Round a fractional number of minor units to a whole one: banker's rounding (half to
    even), so rounding errors do not drift in one direction over many lines."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def parse_major(value: str | int | Decimal, *, currency: str) -> int:
    """Turn what a person typed ("1234.50") into minor units, refusing anything inexact."""
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ApplicationError(_("Enter an amount as a number, for example 1500.00."), code="not_a_number") from exc
    if not amount.is_finite():
        raise ApplicationError(_("Enter an amount as a number, for example 1500.00."), code="not_a_number")
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ApplicationError(
            _("Use at most %(digits)s decimal places for %(currency)s.") % {"digits": exponent, "currency": currency},
            code="too_many_decimals",
        )
    return int(scaled)


def format_minor(amount: int, currency: str) -> str:
    """Format minor units for people in the active language: 123456 BRL -> "BRL 1,234.56" in
    English, "BRL 1.234,56" in Spanish and Portuguese. For display only: files other systems
    read (bank exports, CSV) write plain amounts."""
    exponent = currency_exponent(currency)
    major = Decimal(amount).scaleb(-exponent)
    return f"{currency} {number_format(major, decimal_pos=exponent, use_l10n=True, force_grouping=True)}"


def format_plain(amount: int, currency: str) -> str:
    """Minor units as a plain decimal for files other systems read (bank files, CSV): no
    currency, no grouping, a dot before the currency's minor digits, the same in every
    language. 123456 BRL -> "1234.56", -5 BRL -> "-0.05"."""
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    return f"{sign}{major}.{minor:0{exponent}d}" if exponent else f"{sign}{major}"


def typed_amount_normalize(value: str) -> str:
    """What a person typed in their language's number format → a plain decimal ("55.000,00" in
    Spanish or Portuguese and "55,000.00" in English → "55000.00"), for `parse_major`.

    With both separators, the last one is the decimal mark. With one kind only, it is the
    active language's decimal mark, or grouping when every group after it has three digits
    ("55.000" in Spanish is fifty-five thousand; "1.5" is one and a half everywhere). Anything
    else is returned as typed, and `parse_major` refuses it with its message."""
    text = (value or "").strip().replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    decimal = str(get_format("DECIMAL_SEPARATOR"))
    has_dot, has_comma = "." in text, "," in text
    if has_dot and has_comma:
        mark = "." if text.rfind(".") > text.rfind(",") else ","
        group = "," if mark == "." else "."
        whole, _sep, fraction = text.rpartition(mark)
        if not _grouped(whole, group):
            return text
        return f"{whole.replace(group, '')}.{fraction}"
    if not (has_dot or has_comma):
        return text
    sep = "." if has_dot else ","
    parts = text.split(sep)
    if sep != decimal and len(parts) >= 2 and _grouped(text, sep):
        return text.replace(sep, "")
    if len(parts) == 2:
        return f"{parts[0]}.{parts[1]}"
    if _grouped(text, sep):
        return text.replace(sep, "")
    return text


def _grouped(text: str, sep: str) -> bool:
    """ "55.000.000" with sep ".": a leading group of 1–3 digits, then groups of exactly three."""
    head, *groups = text.lstrip("-").split(sep)
    return bool(head) and len(head) <= 3 and head.isdigit() and all(len(g) == 3 and g.isdigit() for g in groups)


_PLAIN_AMOUNT = re.compile(r"^-?\d+(\.\d+)?$")


def parse_typed(value: str, *, currency: str | None) -> int:
    """What a person typed in the active language's number format ("150.000,50" in Spanish,
    "150,000.50" in English) -> exact minor units; `ApplicationError` when it is not an amount
    or has more decimals than the currency has."""
    plain = typed_amount_normalize(value)
    if not _PLAIN_AMOUNT.match(plain):
        # Only digits and one decimal mark: Decimal would also take "1e3", "NaN" or "+5".
        raise ApplicationError(_("Enter an amount as a number, for example 1500.00."), code="not_a_number")
    return parse_major(plain, currency=currency or "")


def format_percent(value: Decimal | float | int | None, *, fraction: bool = True, decimal_pos: int = 2) -> str:
    """A rate for people in the active language: 0.0554 -> "5.54 %" in English, "5,54 %" in
    Spanish and Portuguese. `fraction=False` when the value is already in percent (5.54)."""
    if value is None:
        return "—"
    number = Decimal(str(value)) * (100 if fraction else 1)
    return f"{number_format(number, decimal_pos=decimal_pos, use_l10n=True, force_grouping=True)} %"


def format_typed(amount: int, currency: str) -> str:
    """Minor units as a person types them in the active language, without the currency
    ("55.000,00" in Spanish, "55,000.00" in English): placeholders and prefilled inputs."""
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    major = Decimal(amount).scaleb(-exponent)
    return str(number_format(major, decimal_pos=exponent, use_l10n=True, force_grouping=True))
