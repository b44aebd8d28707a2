"""STORAGES for S3-compatible object storage (AWS S3, MinIO, R2...), shared by settings/base.py
and the tests that run against a real S3 protocol server (tests/foundation/test_object_storage.py),
so both exercise the same configuration."""

from typing import Any


def s3_storages(
    *,
    bucket: str,
    private_bucket: str = "",
    access_key: str = "",
    secret_key: str = "",
    endpoint_url: str | None = None,
    region_name: str | None = None,
    public_endpoint_url: str | None = None,
    signed_url_seconds: int = 300,
) -> dict[str, dict[str, Any]]:
    """ "default" holds public files (logos, images), unsigned URLs; "private" holds KYC
    documents, transfer proofs, exports, statements and audit exports, in their own bucket when
    given, private ACL, reached only through signed URLs valid `signed_url_seconds`, handed out
    by views that checked permissions first (core.storage.private_file_response)."""
    common = {
        "access_key": access_key,
        "secret_key": secret_key,
        "endpoint_url": endpoint_url or None,
        "region_name": region_name or None,
        # Signature V4 everywhere: MinIO and newer AWS regions accept nothing else.
        "signature_version": "s3v4",
        # Never overwrite: two uploads with one name (two proofs the same second) keep both.
        "file_overwrite": False,
    }
    return {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**common, "bucket_name": bucket, "querystring_auth": False},
        },
        "private": {
            "BACKEND": "core.storage.PrivateS3Storage",
            "OPTIONS": {
                **common,
                "bucket_name": private_bucket or bucket,
                "location": "private",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": signed_url_seconds,
                "public_endpoint_url": public_endpoint_url or None,
            },
        },
    }
