"""Fiscal and identity documents per country: which types exist, how to normalise a number, and
whether it is valid (check digits where the issuer defines them, format elsewhere).

Pure functions, no Django models: forms, services and the admin all call `document_validate`.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DocumentInvalid(ValueError):
    """The number does not pass the rules of its document type. `message` is translatable."""

    def __init__(self, message: Promise | str) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class DocumentType:
    code: str
    country: str
    label: Promise | str
    example: str


# Codes are unique across countries so a single column holds them.
DOCUMENT_TYPES: tuple[DocumentType, ...] = (
    DocumentType("CO_CC", "CO", _("Cédula de ciudadanía (CC)"), "1020304050"),
    DocumentType("CO_CE", "CO", _("Cédula de extranjería (CE)"), "123456"),
    DocumentType("CO_NIT", "CO", _("NIT"), "800197268-4"),
    DocumentType("MX_CURP", "MX", _("CURP"), "BOXW310820HNERXN09"),
    DocumentType("MX_RFC", "MX", _("RFC"), "GODE561231GR8"),
    DocumentType("BR_CPF", "BR", _("CPF"), "529.982.247-25"),
    DocumentType("BR_CNPJ", "BR", _("CNPJ"), "11.222.333/0001-81"),
    DocumentType("PE_DNI", "PE", _("DNI"), "45678912"),
    DocumentType("PE_RUC", "PE", _("RUC"), "20100070970"),
    DocumentType("CL_RUT", "CL", _("RUT"), "12.345.678-5"),
    DocumentType("AR_DNI", "AR", _("DNI"), "30123456"),
    DocumentType("AR_CUIT", "AR", _("CUIT / CUIL"), "20-12345678-6"),
    DocumentType("EC_CI", "EC", _("Cédula de identidad"), "1710034065"),
    DocumentType("UY_CI", "UY", _("Cédula de identidad"), "1.234.567-2"),
)
DOCUMENT_TYPES_BY_CODE = {doc.code: doc for doc in DOCUMENT_TYPES}
DOCUMENT_TYPE_CHOICES = [(doc.code, doc.label) for doc in DOCUMENT_TYPES]


def document_types_for_country(country: str) -> list[DocumentType]:
    return [doc for doc in DOCUMENT_TYPES if doc.country == country]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _alnum(value: str) -> str:
    return re.sub(r"[^0-9A-Za-zÑñ&]", "", value).upper()


# --- Check-digit algorithms -----------------------------------------------------------------


def cpf_is_valid(number: str) -> bool:
    """Brazil, CPF: 11 digits, two mod-11 check digits; repeated digits are not issued."""
    digits = _digits(number)
    if len(digits) != 11 or digits == digits[0] * 11:
        return False
    nums = [int(d) for d in digits]
    for position in (9, 10):
        total = sum(n * w for n, w in zip(nums[:position], range(position + 1, 1, -1), strict=True))
        check = (total * 10) % 11 % 10
        if nums[position] != check:
            return False
    return True


def cnpj_is_valid(number: str) -> bool:
    """Brazil, CNPJ: 14 digits, two mod-11 check digits with weights 5..2,9..2 and 6..2,9..2."""
    digits = _digits(number)
    if len(digits) != 14 or digits == digits[0] * 14:
        return False
    nums = [int(d) for d in digits]
    for position, weights in (
        (12, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]),
        (13, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]),
    ):
        remainder = sum(n * w for n, w in zip(nums[:position], weights, strict=True)) % 11
        check = 0 if remainder < 2 else 11 - remainder
        if nums[position] != check:
            return False
    return True


def rut_is_valid(number: str) -> bool:
    """Chile, RUT/RUN: body + verifier (0-9 or K), mod 11 with weights 2..7 cycling from the right."""
    value = _alnum(number)
    if not re.fullmatch(r"\d{7,8}[0-9K]", value):
        return False
    body, verifier = value[:-1], value[-1]
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
    check = 11 - total % 11
    expected = "0" if check == 11 else "K" if check == 10 else str(check)
    return verifier == expected


def cuit_is_valid(number: str) -> bool:
    """Argentina, CUIT/CUIL: 11 digits (type prefix, DNI, check), mod 11 with weights 5,4,3,2,7,6,5,4,3,2."""
    digits = _digits(number)
    if len(digits) != 11 or digits[:2] not in {"20", "23", "24", "27", "30", "33", "34"}:
        return False
    weights = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    check = 11 - sum(int(d) * w for d, w in zip(digits[:10], weights, strict=True)) % 11
    if check == 11:
        check = 0
    if check == 10:
        return False  # AFIP never issues these; it changes the prefix to 23/33 instead
    return int(digits[10]) == check


def nit_is_valid(number: str) -> bool:
    """Colombia, NIT: up to 15 digits + check digit, DIAN's mod 11 with prime weights."""
    digits = _digits(number)
    if not 6 <= len(digits) <= 16:
        return False
    body, verifier = digits[:-1], int(digits[-1])
    weights = [3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71]
    total = sum(int(d) * weights[i] for i, d in enumerate(reversed(body)))
    remainder = total % 11
    check = remainder if remainder in (0, 1) else 11 - remainder
    return verifier == check


def ruc_pe_is_valid(number: str) -> bool:
    """Peru, RUC: 11 digits starting 10, 15, 17 or 20, mod 11 with weights 5,4,3,2,7,6,5,4,3,2."""
    digits = _digits(number)
    if len(digits) != 11 or digits[:2] not in {"10", "15", "17", "20"}:
        return False
    weights = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    check = (11 - sum(int(d) * w for d, w in zip(digits[:10], weights, strict=True)) % 11) % 10
    return int(digits[10]) == check


def ec_ci_is_valid(number: str) -> bool:
    """Ecuador, cédula: 10 digits, province 01-24 (30 abroad), third digit < 6, mod-10 check."""
    digits = _digits(number)
    if len(digits) != 10:
        return False
    province = int(digits[:2])
    if not (1 <= province <= 24 or province == 30) or int(digits[2]) >= 6:
        return False
    total = 0
    for i, d in enumerate(digits[:9]):
        product = int(d) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    check = (10 - total % 10) % 10
    return int(digits[9]) == check


def uy_ci_is_valid(number: str) -> bool:
    """Uruguay, cédula: 7 digits + check digit with weights 2,9,8,7,6,3,4 (6-digit ones padded)."""
    digits = _digits(number)
    if not 7 <= len(digits) <= 8:
        return False
    digits = digits.rjust(8, "0")
    total = sum(int(d) * w for d, w in zip(digits[:7], [2, 9, 8, 7, 6, 3, 4], strict=True))
    return int(digits[7]) == (10 - total % 10) % 10


# --- Formats without a public check digit ---------------------------------------------------

_CURP_RE = re.compile(
    r"^[A-Z][AEIOUX][A-Z]{2}(\d{2})(\d{2})(\d{2})[HMX](AS|BC|BS|CC|CL|CM|CS|CH|DF|DG|GT|GR|HG|JC|MC|MN|MS|NT|NL|OC|PL|QT|QR|SP|SL|SR|TC|TS|TL|VZ|YN|ZS|NE)[B-DF-HJ-NP-TV-Z]{3}[0-9A-Z]\d$"
)
_RFC_RE = re.compile(r"^([A-ZÑ&]{3,4})(\d{2})(\d{2})(\d{2})([A-Z0-9]{2}[0-9A])$")


def _is_date(yy: str, mm: str, dd: str) -> bool:
    # Two-digit years: both centuries share leap rules except 1900/2000, so try both.
    for century in (1900, 2000):
        try:
            date(century + int(yy), int(mm), int(dd))
            return True
        except ValueError:
            continue
    return False


def curp_is_valid(number: str) -> bool:
    """Mexico, CURP: 18 characters, birth date, sex, state, consonants, homonym and check characters."""
    match = _CURP_RE.match(_alnum(number))
    return bool(match) and _is_date(match.group(1), match.group(2), match.group(3))  # type: ignore[union-attr]


def rfc_is_valid(number: str) -> bool:
    """Mexico, RFC: 4 letters (people) or 3 (companies), the date, and a 3-character homoclave."""
    match = _RFC_RE.match(_alnum(number))
    return bool(match) and _is_date(match.group(2), match.group(3), match.group(4))  # type: ignore[union-attr]


# --- The public entry point -----------------------------------------------------------------


Validator = re.Pattern[str] | Callable[[str], bool]


def _rule(code: str) -> tuple[str, Validator]:
    """(normaliser kind, validator) for a document type code."""
    return _RULES[code]


_RULES: dict[str, tuple[str, Validator]] = {
    "CO_CC": ("digits", re.compile(r"^\d{6,10}$")),
    "CO_CE": ("alnum", re.compile(r"^[0-9A-Z]{6,10}$")),
    "CO_NIT": ("digits", nit_is_valid),
    "MX_CURP": ("alnum", curp_is_valid),
    "MX_RFC": ("alnum", rfc_is_valid),
    "BR_CPF": ("digits", cpf_is_valid),
    "BR_CNPJ": ("digits", cnpj_is_valid),
    "PE_DNI": ("digits", re.compile(r"^\d{8}$")),
    "PE_RUC": ("digits", ruc_pe_is_valid),
    "CL_RUT": ("alnum", rut_is_valid),
    "AR_DNI": ("digits", re.compile(r"^\d{7,8}$")),
    "AR_CUIT": ("digits", cuit_is_valid),
    "EC_CI": ("digits", ec_ci_is_valid),
    "UY_CI": ("digits", uy_ci_is_valid),
}


def document_normalize(*, document_type: str, number: str) -> str:
    """The canonical stored form: digits only, or upper-case letters and digits."""
    kind, _validator = _rule(document_type)
    return _digits(number) if kind == "digits" else _alnum(number)


def document_validate(*, country: str, document_type: str, number: str) -> str:
    """Return the normalised number, or raise DocumentInvalid with a message for the person."""
    doc = DOCUMENT_TYPES_BY_CODE.get(document_type)
    if doc is None or doc.code not in _RULES:
        raise DocumentInvalid(_("Choose a document type from the list."))
    if doc.country != country:
        raise DocumentInvalid(_("This document type is not issued in the country you chose."))
    raw = (number or "").strip()
    if not raw:
        raise DocumentInvalid(_("Enter the document number."))
    if len(raw) > 30 or re.search(r"[^0-9A-Za-zÑñ&.\-/ ]", raw):
        raise DocumentInvalid(_("Use only the letters, digits, dots and dashes of the document."))
    normalized = document_normalize(document_type=document_type, number=raw)
    _kind, validator = _rule(document_type)
    is_pattern = isinstance(validator, re.Pattern)
    ok = bool(validator.match(normalized)) if isinstance(validator, re.Pattern) else validator(normalized)
    if not ok:
        if is_pattern:
            raise DocumentInvalid(
                _("This is not a valid %(type)s number. Example: %(example)s.")
                % {"type": doc.label, "example": doc.example}
            )
        raise DocumentInvalid(
            _("This %(type)s number is not valid: check the digits (the last one is a check digit).")
            % {"type": doc.label}
        )
    return normalized


# --- Payout transfer keys -------------------------------------------------------------------


def clabe_is_valid(number: str) -> bool:
    """Mexico, CLABE: 18 digits, weights 3,7,1 repeated, check = (10 - sum mod 10) mod 10."""
    digits = _digits(number)
    if len(digits) != 18 or digits != re.sub(r"\s", "", number).replace("-", ""):
        return False
    total = sum((int(d) * (3, 7, 1)[i % 3]) % 10 for i, d in enumerate(digits[:17]))
    return int(digits[17]) == (10 - total % 10) % 10


def cbu_is_valid(number: str) -> bool:
    """Argentina, CBU/CVU: 22 digits in two blocks (8 + 14), each ending in a check digit."""
    digits = _digits(number)
    if len(digits) != 22:
        return False

    def block_ok(block: str, weights: list[int]) -> bool:
        total = sum(int(d) * w for d, w in zip(block[:-1], weights, strict=True))
        return int(block[-1]) == (10 - total % 10) % 10

    return block_ok(digits[:8], [7, 1, 3, 9, 7, 1, 3]) and block_ok(digits[8:], [3, 9, 7, 1, 3, 9, 7, 1, 3, 9, 7, 1, 3])


# A PIX e-mail key as banks accept it: no characters a spreadsheet or a bank file would mangle.
_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def transfer_key_validate(*, key_type: str, value: str) -> str:
    """Return the normalised key, or raise DocumentInvalid."""
    raw = (value or "").strip()
    if not key_type:
        if raw:
            raise DocumentInvalid(_("Choose the type of the transfer key, or leave the key empty."))
        return ""
    if not raw:
        raise DocumentInvalid(_("Enter the transfer key."))
    if key_type == "pix_cpf":
        digits = _digits(raw)
        if not (cpf_is_valid(digits) or cnpj_is_valid(digits)):
            raise DocumentInvalid(_("This is not a valid CPF or CNPJ."))
        return digits
    if key_type == "pix_email":
        if not _EMAIL_RE.match(raw) or len(raw) > 77:
            raise DocumentInvalid(_("This is not a valid email address."))
        return raw.lower()
    if key_type == "pix_phone":
        digits = _digits(raw)
        if not re.fullmatch(r"(55)?\d{10,11}", digits):
            raise DocumentInvalid(_("Use a Brazilian phone number with area code, e.g. +55 11 91234-5678."))
        return "+" + (digits if digits.startswith("55") and len(digits) > 11 else "55" + digits)
    if key_type == "pix_random":
        if not _UUID_RE.match(raw.lower()):
            raise DocumentInvalid(_("A random PIX key looks like 123e4567-e89b-12d3-a456-426614174000."))
        return raw.lower()
    if key_type == "clabe":
        if not clabe_is_valid(raw):
            raise DocumentInvalid(_("This CLABE is not valid: it has 18 digits and the last one is a check digit."))
        return _digits(raw)
    if key_type == "cbu":
        if not cbu_is_valid(raw):
            raise DocumentInvalid(_("This CBU/CVU is not valid: it has 22 digits with two check digits."))
        return _digits(raw)
    if key_type == "cci":
        digits = _digits(raw)
        if len(digits) != 20:
            raise DocumentInvalid(_("The CCI has 20 digits."))
        return digits
    raise DocumentInvalid(_("Choose a transfer key type from the list."))
