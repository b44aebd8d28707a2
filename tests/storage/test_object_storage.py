"""Uploads and downloads against a real S3 protocol server (moto, tests/storage/conftest.py):
KYC documents and audit exports land in the private bucket as private objects, staff download
them through signed URLs that expire, nobody reads them anonymously, deletion removes them."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.urls import reverse

from affiliates.models import KYCDocument
from affiliates.services.kyc import KycUpload
from affiliates.services.registration import ApplicantProfile, influencer_apply
from audit.exports import audit_export_run, audit_exports_verify
from audit.services import audit_record
from core.storage import private_storage
from tests.affiliates.factories import png_bytes, policies_for, upload
from tests.factories import CampaignFactory
from tests.storage.conftest import PRIVATE_BUCKET, private_keys

pytestmark = pytest.mark.django_db


def apply(brand: Any) -> Any:
    terms, privacy = policies_for(brand)
    return influencer_apply(
        brand=brand,
        email="ana@example.com",
        password="una-clave-larga-2026",
        profile=ApplicantProfile(
            full_name="Ana Torres",
            country="CO",
            document_type="CO_CC",
            document_number="1020304050",
            phone="+57 300 123 4567",
            instagram="anatorres",
            audience_size=15000,
        ),
        documents=[KycUpload(kind=KYCDocument.Kind.IDENTITY, file=upload("cedula.png", png_bytes()))],
        terms=terms,
        privacy=privacy,
        campaign=CampaignFactory(brand=brand, slug="verano"),
        language=settings.LANGUAGE_CODE,
    )


def test_kyc_document_is_a_private_object_served_through_an_expiring_signed_url(
    s3, s3_storages_on, s3_endpoint, brand_a, manager_a, manager_b, verified_client
):
    membership = apply(brand_a)
    document = membership.kyc_documents.get()

    key = f"private/{document.file.name}"
    assert private_keys(s3) == [key]
    stored = s3.get_object(Bucket=PRIVATE_BUCKET, Key=key)["Body"].read()
    assert stored == png_bytes()
    grants = s3.get_object_acl(Bucket=PRIVATE_BUCKET, Key=key)["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI", "").endswith("AllUsers")]
    # Nobody reads it without a signature.
    assert requests.get(f"{s3_endpoint}/{PRIVATE_BUCKET}/{key}", timeout=5).status_code == 403

    url = reverse("admin:affiliates_membership_kyc", args=[membership.pk, document.pk])
    response = verified_client(manager_a).get(url)
    assert response.status_code == 302
    signed = response["Location"]
    assert signed.startswith(f"{s3_endpoint}/{PRIVATE_BUCKET}/{key}?")
    query = parse_qs(urlsplit(signed).query)
    assert query["X-Amz-Expires"] == ["300"]  # valid five minutes
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "X-Amz-Signature" in query
    assert query["response-content-disposition"][0].startswith("attachment; filename=")
    assert "no-store" in response["Cache-Control"]
    download = requests.get(signed, timeout=5)
    assert download.status_code == 200
    assert download.content == png_bytes()
    assert download.headers["Content-Disposition"].startswith("attachment")

    # Another brand's manager gets no link at all.
    other = verified_client(manager_b).get(url)
    assert other.status_code == 404
    assert "Location" not in other


def test_signed_urls_name_the_address_browsers_reach(s3, s3_storages_on, s3_endpoint):
    """Inside compose the app reaches the store as http://minio:9000; a browser reaches it at
    the public address, and a V4 signature covers the host, so links are signed for that one."""
    public = s3_endpoint.replace("127.0.0.1", "localhost")
    s3_storages_on(public_endpoint_url=public)
    name = private_storage().save("kyc/proof.pdf", ContentFile(b"%PDF-1.4 proof"))

    signed = private_storage().url(name)
    assert signed.startswith(f"{public}/{PRIVATE_BUCKET}/private/kyc/")
    assert "X-Amz-Signature=" in signed
    assert requests.get(signed, timeout=5).content == b"%PDF-1.4 proof"


def test_uploads_with_the_same_name_keep_both_and_deletion_removes_the_object(s3, s3_storages_on):
    storage = private_storage()
    first = storage.save("payments/proofs/transfer.pdf", ContentFile(b"%PDF-1.4 first"))
    second = storage.save("payments/proofs/transfer.pdf", ContentFile(b"%PDF-1.4 second"))
    assert first != second
    assert sorted(private_keys(s3)) == sorted([f"private/{first}", f"private/{second}"])
    with storage.open(first, "rb") as handle:
        assert handle.read() == b"%PDF-1.4 first"

    storage.delete(first)
    assert not storage.exists(first)
    assert private_keys(s3) == [f"private/{second}"]


def test_audit_export_round_trips_through_the_store_and_a_changed_object_is_caught(s3, s3_storages_on, brand_a):
    for number in range(3):
        audit_record(action="test.event", target=brand_a, brand_id=brand_a.pk, after={"n": number})
    export = audit_export_run()
    assert export is not None
    assert f"private/{export.file_name}" in private_keys(s3)
    assert [check.ok for check in audit_exports_verify()] == [True]

    # Someone with bucket access rewrites the export: the verification names it.
    s3.put_object(Bucket=PRIVATE_BUCKET, Key=f"private/{export.file_name}", Body=b'{"seq": 1}\n')
    checks = audit_exports_verify()
    assert [check.ok for check in checks] == [False]
    assert "checksum" in checks[0].reason


def test_public_files_have_plain_urls_in_the_media_bucket(s3, s3_storages_on, s3_endpoint):
    name = storages["default"].save("brands/logo.png", ContentFile(png_bytes()))
    url = storages["default"].url(name)
    assert url == f"{s3_endpoint}/mgm-media/{name}"
    assert "X-Amz-Signature" not in url
    assert default_storage.exists(name)
