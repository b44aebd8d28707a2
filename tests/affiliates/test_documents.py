import pytest
from stdnum.exceptions import InvalidChecksum
from stdnum.mx import rfc

from affiliates.documents import (
    DOCUMENT_TYPES,
    DocumentInvalid,
    cbu_is_valid,
    clabe_is_valid,
    cnpj_is_valid,
    cpf_is_valid,
    cuit_is_valid,
    curp_is_valid,
    document_types_for_country,
    document_validate,
    ec_ci_is_valid,
    nit_is_valid,
    rfc_is_valid,
    ruc_pe_is_valid,
    rut_is_valid,
    transfer_key_validate,
    uy_ci_is_valid,
)


@pytest.mark.parametrize("number", ["529.982.247-25", "111.444.777-35", "52998224725", "390.533.447-05"])
def test_cpf_accepts_real_numbers(number):
    assert cpf_is_valid(number)


@pytest.mark.parametrize("number", ["529.982.247-26", "111.111.111-11", "000.000.000-00", "1234567890", "52998224752"])
def test_cpf_refuses_wrong_check_digits_and_repeated_digits(number):
    assert not cpf_is_valid(number)


@pytest.mark.parametrize("number", ["11.222.333/0001-81", "11222333000181", "45.997.418/0001-53"])
def test_cnpj_accepts_real_numbers(number):
    assert cnpj_is_valid(number)


@pytest.mark.parametrize("number", ["11.222.333/0001-80", "11.111.111/1111-11", "1122233300018"])
def test_cnpj_refuses_invalid_numbers(number):
    assert not cnpj_is_valid(number)


@pytest.mark.parametrize("number", ["12.345.678-5", "11.111.111-1", "76.354.771-K", "76354771k", "7.654.321-6"])
def test_rut_accepts_valid_verifiers_including_k(number):
    assert rut_is_valid(number)


@pytest.mark.parametrize("number", ["12.345.678-K", "11.111.111-2", "76.354.771-0", "123", "12.345.678-X"])
def test_rut_refuses_wrong_verifier(number):
    assert not rut_is_valid(number)


@pytest.mark.parametrize("number", ["20-12345678-6", "20123456786", "30-50001091-2", "33-69345023-9"])
def test_cuit_accepts_valid_numbers(number):
    assert cuit_is_valid(number)


@pytest.mark.parametrize("number", ["20-12345678-5", "99-12345678-6", "2012345678", "20-12345678-66"])
def test_cuit_refuses_wrong_prefix_length_or_check(number):
    assert not cuit_is_valid(number)


@pytest.mark.parametrize("number", ["800.197.268-4", "8001972684", "860.034.313-7", "890.903.938-8"])
def test_nit_accepts_dian_check_digit(number):
    assert nit_is_valid(number)


@pytest.mark.parametrize("number", ["800.197.268-5", "860.034.313-1", "12345"])
def test_nit_refuses_wrong_check_digit(number):
    assert not nit_is_valid(number)


def test_ruc_peru_and_ecuador_and_uruguay_check_digits():
    assert ruc_pe_is_valid("20100070970")
    assert not ruc_pe_is_valid("20100070971")
    assert not ruc_pe_is_valid("99100070970")  # unknown prefix
    assert ec_ci_is_valid("1710034065")
    assert not ec_ci_is_valid("1710034066")
    assert not ec_ci_is_valid("9910034065")  # no such province
    assert uy_ci_is_valid("1.234.567-2")
    assert not uy_ci_is_valid("1.234.567-3")


@pytest.mark.parametrize("number", ["BOXW310820HNERXN09", "boxw310820hnerxn09", "BOXW-310820-HNERXN-09"])
def test_curp_accepts_real_numbers(number):
    assert curp_is_valid(number)


@pytest.mark.parametrize(
    "number",
    ["BOXW311320HNERXN09", "BOXW310820HXXRXN09", "BOXW310820HNERXN0", "1OXW310820HNERXN09", "BOXW310230HNERXN09"],
)
def test_curp_refuses_bad_date_state_or_shape(number):
    assert not curp_is_valid(number)


@pytest.mark.parametrize("number", ["GODE561231GR8", "GODE 561231 GR8", "MAB-930714-8T4"])
def test_rfc_accepts_people_and_companies(number):
    assert rfc_is_valid(number)


@pytest.mark.parametrize(
    "number",
    [
        "GODE561331GR8",  # no 31st of the 13th month
        "GO561231GR8",
        "GODE561231GR",
        "COMG600703",  # without homoclave: not a complete RFC
        "XAXX010101000",  # the generic "público en general" RFC names nobody
    ],
)
def test_rfc_refuses_bad_date_or_shape(number):
    assert not rfc_is_valid(number)


# Issue 16: a wrong last character used to pass (format-only checks). Real values, then the same
# values with only the check character changed.
@pytest.mark.parametrize(
    ("doc_type", "valid", "wrong_check"),
    [
        ("MX_RFC", "GODE561231GR8", "GODE561231GR9"),
        ("MX_RFC", "MAB9307148T4", "MAB9307148T5"),
        ("MX_CURP", "BOXW310820HNERXN09", "BOXW310820HNERXN08"),
    ],
)
def test_mexican_rfc_and_curp_with_a_wrong_check_character_are_refused(doc_type, valid, wrong_check):
    assert document_validate(country="MX", document_type=doc_type, number=valid) == valid
    with pytest.raises(DocumentInvalid) as excinfo:
        document_validate(country="MX", document_type=doc_type, number=wrong_check)
    assert "check digit" in str(excinfo.value.message)


@pytest.mark.parametrize(
    ("doc_type", "country", "valid", "wrong_check"),
    [
        ("BR_CPF", "BR", "52998224725", "52998224726"),
        ("BR_CNPJ", "BR", "11222333000181", "11222333000182"),
        ("CL_RUT", "CL", "76354771K", "763547710"),
        ("AR_CUIT", "AR", "20123456786", "20123456787"),
        ("CO_NIT", "CO", "8001972684", "8001972685"),
        ("PE_RUC", "PE", "20100070970", "20100070971"),
        ("PE_DNI", "PE", "101174102", "101174103"),
        ("EC_CI", "EC", "1710034065", "1710034066"),
    ],
)
def test_every_checked_fiscal_id_refuses_a_wrong_check_digit(doc_type, country, valid, wrong_check):
    assert document_validate(country=country, document_type=doc_type, number=valid) == valid
    with pytest.raises(DocumentInvalid) as excinfo:
        document_validate(country=country, document_type=doc_type, number=wrong_check)
    assert "check digit" in str(excinfo.value.message)


def test_check_digits_come_from_python_stdnum(monkeypatch):
    """The validators delegate to stdnum: if stdnum says no, we say no (no private copy)."""

    def refuse(number, validate_check_digits=False):
        raise InvalidChecksum()

    monkeypatch.setattr(rfc, "validate", refuse)
    assert not rfc_is_valid("GODE561231GR8")


# Our own code where stdnum has no validator, one test each.


def test_own_code_uruguay_cedula_check_digit():
    assert uy_ci_is_valid("1.234.567-2")
    assert uy_ci_is_valid("234.567-4")  # six-digit body, padded
    assert not uy_ci_is_valid("1.234.567-3")
    assert not uy_ci_is_valid("123")


def test_own_code_colombian_cedulas_are_checked_for_format():
    assert document_validate(country="CO", document_type="CO_CC", number="1.020.304.050") == "1020304050"
    assert document_validate(country="CO", document_type="CO_CE", number="ab12345") == "AB12345"
    for doc_type, number in (("CO_CC", "12345"), ("CO_CC", "12345678901"), ("CO_CE", "12-3")):
        with pytest.raises(DocumentInvalid):
            document_validate(country="CO", document_type=doc_type, number=number)


def test_own_code_clabe_check_digit():
    assert clabe_is_valid("002010077777777771")
    assert not clabe_is_valid("002010077777777772")
    assert not clabe_is_valid("00201007777777777")  # 17 digits


def test_every_country_of_the_issue_has_document_types_and_examples_validate():
    for country in ["CO", "MX", "BR", "PE", "CL", "AR", "EC"]:
        assert document_types_for_country(country)
    for doc in DOCUMENT_TYPES:
        assert document_validate(country=doc.country, document_type=doc.code, number=doc.example)


def test_validate_returns_the_normalised_number():
    assert document_validate(country="BR", document_type="BR_CPF", number="529.982.247-25") == "52998224725"
    assert document_validate(country="CL", document_type="CL_RUT", number="76.354.771-k") == "76354771K"
    assert document_validate(country="MX", document_type="MX_RFC", number="gode-561231-gr8") == "GODE561231GR8"


@pytest.mark.parametrize(
    ("country", "doc_type", "number", "message"),
    [
        ("BR", "BR_CPF", "529.982.247-26", "check digit"),
        ("CO", "CO_CC", "12ab", "not a valid"),
        ("PE", "PE_DNI", "1234567", "not a valid"),
        ("AR", "AR_DNI", "123", "not a valid"),
        ("CO", "BR_CPF", "529.982.247-25", "not issued in the country"),
        ("MX", "MX_RFC", "GODE561231GR9", "check digit"),
        ("MX", "MX_CURP", "BOXW310820", "Example: BOXW310820HNERXN09"),
        ("CO", "XX_FAKE", "1", "Choose a document type"),
        ("CO", "CO_CC", "   ", "Enter the document number"),
        ("CO", "CO_CC", "1020<script>", "Use only"),
    ],
)
def test_validate_explains_what_is_wrong(country, doc_type, number, message):
    with pytest.raises(DocumentInvalid) as excinfo:
        document_validate(country=country, document_type=doc_type, number=number)
    assert message in str(excinfo.value.message)


def test_clabe_and_cbu_check_digits():
    assert clabe_is_valid("002010077777777771")
    assert clabe_is_valid("032180000118359719")
    assert not clabe_is_valid("002010077777777772")
    assert cbu_is_valid("2850590940090418135201")
    assert not cbu_is_valid("2850590940090418135202")
    assert not cbu_is_valid("2850590140090418135201")  # first block's check digit broken


@pytest.mark.parametrize(
    ("key_type", "value", "expected"),
    [
        ("pix_cpf", "529.982.247-25", "52998224725"),
        ("pix_email", "Joao@Example.com", "joao@example.com"),
        ("pix_phone", "(11) 91234-5678", "+5511912345678"),
        ("pix_random", "123E4567-E89B-12D3-A456-426614174000", "123e4567-e89b-12d3-a456-426614174000"),
        ("clabe", "002010077777777771", "002010077777777771"),
        ("cbu", "2850590940090418135201", "2850590940090418135201"),
        ("cci", "002-193-001234567890-12", "00219300123456789012"),
        ("", "", ""),
    ],
)
def test_transfer_keys_are_normalised(key_type, value, expected):
    assert transfer_key_validate(key_type=key_type, value=value) == expected


@pytest.mark.parametrize(
    ("key_type", "value"),
    [("pix_cpf", "111.111.111-11"), ("clabe", "002010077777777772"), ("pix_random", "abc"), ("", "123"), ("cci", "1")],
)
def test_bad_transfer_keys_are_refused(key_type, value):
    with pytest.raises(DocumentInvalid):
        transfer_key_validate(key_type=key_type, value=value)
