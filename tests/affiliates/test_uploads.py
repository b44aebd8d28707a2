import pytest

from affiliates.uploads import UploadInvalid, kyc_file_inspect, sniff_content_type
from tests.affiliates.factories import jpeg_bytes, pdf_bytes, png_bytes, upload


@pytest.mark.parametrize(
    ("content", "expected"),
    [(pdf_bytes(), "application/pdf"), (png_bytes(), "image/png"), (jpeg_bytes(), "image/jpeg")],
)
def test_real_pdf_png_and_jpeg_are_accepted_by_content(content, expected):
    # The names lie on purpose: only the bytes count.
    info = kyc_file_inspect(upload("whatever.txt", content, "text/plain"))
    assert info.content_type == expected
    assert info.size == len(content)
    assert len(info.sha256) == 64


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00\x03 this is a windows executable",
        b"<html><script>alert(1)</script></html>",
        b"GIF89a\x01\x00\x01\x00",
        b"PK\x03\x04 zip archive",
    ],
)
def test_other_types_named_like_documents_are_refused(content):
    with pytest.raises(UploadInvalid, match="PDF, JPEG or PNG"):
        kyc_file_inspect(upload("cedula.pdf", content, "application/pdf"))


def test_png_signature_with_garbage_after_it_is_refused():
    with pytest.raises(UploadInvalid, match="damaged"):
        kyc_file_inspect(upload("id.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "image/png"))


def test_truncated_jpeg_is_refused():
    with pytest.raises(UploadInvalid, match="damaged"):
        kyc_file_inspect(upload("id.jpg", jpeg_bytes()[:60], "image/jpeg"))


def test_pdf_without_end_marker_is_refused():
    with pytest.raises(UploadInvalid, match="PDF"):
        kyc_file_inspect(upload("id.pdf", b"%PDF-1.4\n" + b"x" * 100, "application/pdf"))


def test_oversized_and_empty_files_are_refused(settings):
    settings.KYC_MAX_UPLOAD_BYTES = 1024
    with pytest.raises(UploadInvalid, match="limit"):
        kyc_file_inspect(upload("big.pdf", pdf_bytes() + b"0" * 2000 + b"%%EOF", "application/pdf"))
    with pytest.raises(UploadInvalid, match="empty"):
        kyc_file_inspect(upload("empty.pdf", b"", "application/pdf"))


def test_sniffing_reads_magic_bytes():
    assert sniff_content_type(b"%PDF-1.7") == "application/pdf"
    assert sniff_content_type(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert sniff_content_type(b"\x89PNG\r\n\x1a\n") == "image/png"
    assert sniff_content_type(b"%PDX") is None
