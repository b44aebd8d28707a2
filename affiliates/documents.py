"""Fiscal and identity documents per country: which types exist, how to normalise a number, and
whether it is valid (check digits through python-stdnum where the issuer defines them, format
elsewhere).

Pure functions, no Django models: forms, services and the admin all call `document_validate`.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from stdnum.ar import cbu as ar_cbu
from stdnum.ar import cuit as ar_cuit
from stdnum.ar import dni as ar_dni
from stdnum.br import cnpj as br_cnpj
from stdnum.br import cpf as br_cpf
from stdnum.cl import rut as cl_rut
from stdnum.co import nit as co_nit
from stdnum.ec import ci as ec_ci
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.mx import curp as mx_curp
from stdnum.mx import rfc as mx_rfc
from stdnum.pe import cui as pe_cui
from stdnum.pe import ruc as pe_ruc


class DocumentInvalid(ValueError):
    """The number does not pass the rules of its document type. `message` is translatable;
    `field` names the form field it belongs to (the type, or the number)."""

    def __init__(self, message: Promise | str, *, field: str = "document_number") -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


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


# --- Check digits: python-stdnum ------------------------------------------------------------
#
# Every number with a published check digit is judged by python-stdnum, a maintained library
# that follows the issuers' rules (docs/decisions/0045-fiscal-ids-through-python-stdnum.md).
# Our own code remains only where stdnum has no validator: Uruguay's cédula, the Colombian
# cédulas and Mexico's CLABE (each with its own test in tests/affiliates/test_documents.py).


def _stdnum_ok(check: Callable[[str], object], number: str) -> bool:
    try:
        check(number)
    except StdnumError:
        return False
    return True


def cpf_is_valid(number: str) -> bool:
    """Brazil, CPF (stdnum.br.cpf): 11 digits, two mod-11 check digits. Repeated digits pass the
    arithmetic but the Receita never issues them: refused too."""
    digits = _digits(number)
    return digits != digits[:1] * len(digits) and _stdnum_ok(br_cpf.validate, digits)


def cnpj_is_valid(number: str) -> bool:
    """Brazil, CNPJ (stdnum.br.cnpj): 14 digits, two mod-11 check digits; never all one digit."""
    digits = _digits(number)
    return digits != digits[:1] * len(digits) and _stdnum_ok(br_cnpj.validate, digits)


def rut_is_valid(number: str) -> bool:
    """Chile, RUT/RUN (stdnum.cl.rut): body + verifier 0-9 or K."""
    return _stdnum_ok(cl_rut.validate, _alnum(number))


def cuit_is_valid(number: str) -> bool:
    """Argentina, CUIT/CUIL (stdnum.ar.cuit): type prefix, DNI, mod-11 check digit."""
    return _stdnum_ok(ar_cuit.validate, _digits(number))


def nit_is_valid(number: str) -> bool:
    """Colombia, NIT (stdnum.co.nit): DIAN's mod 11 with prime weights."""
    return _stdnum_ok(co_nit.validate, _digits(number))


def ruc_pe_is_valid(number: str) -> bool:
    """Peru, RUC (stdnum.pe.ruc): 11 digits, known prefix, mod-11 check digit."""
    return _stdnum_ok(pe_ruc.validate, _digits(number))


def pe_dni_is_valid(number: str) -> bool:
    """Peru, DNI/CUI (stdnum.pe.cui): 8 digits, optionally with the printed check digit."""
    return _stdnum_ok(pe_cui.validate, _digits(number))


def ar_dni_is_valid(number: str) -> bool:
    """Argentina, DNI (stdnum.ar.dni): 7 or 8 digits (no check digit)."""
    return _stdnum_ok(ar_dni.validate, _digits(number))


def ec_ci_is_valid(number: str) -> bool:
    """Ecuador, cédula (stdnum.ec.ci): province, third digit and mod-10 check digit."""
    return _stdnum_ok(ec_ci.validate, _digits(number))


def curp_is_valid(number: str) -> bool:
    """Mexico, CURP (stdnum.mx.curp): shape, birth date, state and the check character (the 18th)."""
    return _stdnum_ok(lambda n: mx_curp.validate(n, validate_check_digits=True), _alnum(number))


def rfc_is_valid(number: str) -> bool:
    """Mexico, RFC (stdnum.mx.rfc) with its homoclave: 13 characters for people, 12 for companies,
    the date, and the check character (the last one). An RFC without homoclave is not complete."""
    value = _alnum(number)
    if len(value) not in (12, 13):
        return False
    return _stdnum_ok(lambda n: mx_rfc.validate(n, validate_check_digits=True), value)


def uy_ci_is_valid(number: str) -> bool:
    """Uruguay, cédula: 7 digits + check digit with weights 2,9,8,7,6,3,4 (6-digit ones padded).
    Our own code: stdnum has Uruguay's RUT but not the cédula."""
    digits = _digits(number)
    if not 7 <= len(digits) <= 8:
        return False
    digits = digits.rjust(8, "0")
    total = sum(int(d) * w for d, w in zip(digits[:7], [2, 9, 8, 7, 6, 3, 4], strict=True))
    return int(digits[7]) == (10 - total % 10) % 10


# --- The public entry point -----------------------------------------------------------------


Validator = re.Pattern[str] | Callable[[str], bool]


def _rule(code: str) -> tuple[str, Validator]:
    """(normaliser kind, validator) for a document type code."""
    return _RULES[code]


_RULES: dict[str, tuple[str, Validator]] = {
    # Colombian cédulas carry no check digit and stdnum has no module for them: format only.
    "CO_CC": ("digits", re.compile(r"^\d{6,10}$")),
    "CO_CE": ("alnum", re.compile(r"^[0-9A-Z]{6,10}$")),
    "CO_NIT": ("digits", nit_is_valid),
    "MX_CURP": ("alnum", curp_is_valid),
    "MX_RFC": ("alnum", rfc_is_valid),
    "BR_CPF": ("digits", cpf_is_valid),
    "BR_CNPJ": ("digits", cnpj_is_valid),
    "PE_DNI": ("digits", pe_dni_is_valid),
    "PE_RUC": ("digits", ruc_pe_is_valid),
    "CL_RUT": ("alnum", rut_is_valid),
    "AR_DNI": ("digits", ar_dni_is_valid),
    "AR_CUIT": ("digits", cuit_is_valid),
    "EC_CI": ("digits", ec_ci_is_valid),
    "UY_CI": ("digits", uy_ci_is_valid),
}


def document_normalize(*, document_type: str, number: str) -> str:
    """The canonical stored form: digits only, or upper-case letters and digits."""
    kind, _validator = _rule(document_type)
    return _digits(number) if kind == "digits" else _alnum(number)


def document_type_check(*, country: str, document_type: str) -> "DocumentType":
    """The document type, if it is one of `country`'s; else DocumentInvalid."""
    doc = DOCUMENT_TYPES_BY_CODE.get(document_type)
    if doc is None or doc.code not in _RULES:
        raise DocumentInvalid(_("Choose a document type from the list."), field="document_type")
    if doc.country != country:
        names = ", ".join(str(d.label) for d in document_types_for_country(country))
        if names:
            raise DocumentInvalid(
                _("This document type is not issued in the country you chose. Choose one of: %(types)s.")
                % {"types": names},
                field="document_type",
            )
        raise DocumentInvalid(_("This document type is not issued in the country you chose."), field="document_type")
    return doc


def document_validate(*, country: str, document_type: str, number: str) -> str:
    """Return the normalised number, or raise DocumentInvalid with a message for the person.
    The one validator of identity documents: the join form, the registration API, the admin and
    the payout-data form all call it."""
    doc = document_type_check(country=country, document_type=document_type)
    raw = (number or "").strip()
    if not raw:
        raise DocumentInvalid(_("Enter the document number."))
    if len(raw) > 30 or re.search(r"[^0-9A-Za-zÑñ&.\-/ ]", raw):
        raise DocumentInvalid(_("Use only the letters, digits, dots and dashes of the document."))
    normalized = document_normalize(document_type=document_type, number=raw)
    _kind, validator = _rule(document_type)
    ok = bool(validator.match(normalized)) if isinstance(validator, re.Pattern) else validator(normalized)
    if not ok:
        if _shape_ok(doc.code, normalized):
            raise DocumentInvalid(
                _("This %(type)s number is not valid: check the digits (the last one is a check digit).")
                % {"type": doc.label}
            )
        raise DocumentInvalid(
            _("This is not a valid %(type)s number. Example: %(example)s.")
            % {"type": doc.label, "example": doc.example}
        )
    return normalized


# Length and alphabet of each type with a check digit: a number of the right shape that still
# fails was mistyped (the message names the check digit); anything else gets the example.
_SHAPES = {
    "PE_DNI": re.compile(r"^\d{9}$"),
    "CO_NIT": re.compile(r"^\d{6,16}$"),
    "MX_CURP": re.compile(r"^[A-Z0-9]{18}$"),
    "MX_RFC": re.compile(r"^[A-ZÑ&0-9]{12,13}$"),
    "BR_CPF": re.compile(r"^\d{11}$"),
    "BR_CNPJ": re.compile(r"^\d{14}$"),
    "PE_RUC": re.compile(r"^\d{11}$"),
    "CL_RUT": re.compile(r"^\d{7,8}[0-9K]$"),
    "AR_CUIT": re.compile(r"^\d{11}$"),
    "EC_CI": re.compile(r"^\d{10}$"),
    "UY_CI": re.compile(r"^\d{7,8}$"),
}


def _shape_ok(code: str, normalized: str) -> bool:
    shape = _SHAPES.get(code)
    return shape is not None and bool(shape.match(normalized))


# --- Payout transfer keys -------------------------------------------------------------------


def clabe_is_valid(number: str) -> bool:
    """Mexico, CLABE (our own code: stdnum has no CLABE module): 18 digits, weights 3,7,1 repeated, check = (10 - sum mod 10) mod 10."""
    digits = _digits(number)
    if len(digits) != 18 or digits != re.sub(r"\s", "", number).replace("-", ""):
        return False
    total = sum((int(d) * (3, 7, 1)[i % 3]) % 10 for i, d in enumerate(digits[:17]))
    return int(digits[17]) == (10 - total % 10) % 10


def cbu_is_valid(number: str) -> bool:
    """Argentina, CBU/CVU (stdnum.ar.cbu): 22 digits in two blocks, each ending in a check digit."""
    return _stdnum_ok(ar_cbu.validate, _digits(number))


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
