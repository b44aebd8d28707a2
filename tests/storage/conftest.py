"""A real S3 protocol server for the storage tests: moto's server mode, started once per test
process on a local port, with the two buckets settings/base.py expects. The tests switch
STORAGES to the same configuration production builds (config.settings.storage.s3_storages)."""

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from config.settings.storage import s3_storages

MEDIA_BUCKET = "mgm-media"
PRIVATE_BUCKET = "mgm-private"
CREDENTIALS = {"aws_access_key_id": "mgm-test", "aws_secret_access_key": "mgm-test-secret"}
REGION = "us-east-1"


def _port() -> int:
    # 8200 for a lone process, 8201/8202 for the two xdist workers: each has its own server.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(os.environ.get("MGM_TEST_S3_PORT", "8200")) + (1 + int(worker[2:]) if worker.startswith("gw") else 0)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = _port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str) -> Iterator[Any]:
    """A boto3 client on the server, with both buckets empty at the start of each test."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS)
    for bucket in (MEDIA_BUCKET, PRIVATE_BUCKET):
        client.create_bucket(Bucket=bucket)
    yield client
    for bucket in (MEDIA_BUCKET, PRIVATE_BUCKET):
        for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
        client.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_storages_on(settings: Any, s3: Any, s3_endpoint: str) -> Any:
    """STORAGES as production builds them for an S3-compatible store (settings/base.py)."""

    def switch(**overrides: Any) -> None:
        settings.STORAGES = {
            **s3_storages(
                bucket=MEDIA_BUCKET,
                private_bucket=PRIVATE_BUCKET,
                access_key=CREDENTIALS["aws_access_key_id"],
                secret_key=CREDENTIALS["aws_secret_access_key"],
                endpoint_url=s3_endpoint,
                region_name=REGION,
                **overrides,
            ),
            "staticfiles": settings.STORAGES["staticfiles"],
        }

    switch()
    return switch


def private_keys(s3: Any) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=PRIVATE_BUCKET).get("Contents", [])]
