"""A property-based run of the published OpenAPI schema (schemathesis): every operation of
/api/v1/ is called with generated data, valid and not, with a key holding every scope, against
data a brand really has. No answer may be a 5xx, and every answer must match what the schema
says of it (status documented or a problem details body, body shaped as declared).

Each operation gets a bounded number of examples so the run stays a couple of minutes in CI; a
failure prints the exact request to replay (`case.as_curl_command()` in schemathesis' report)."""

from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from accounts.api_scopes import SCOPES
from accounts.services import api_key_create
from tests.factories import CampaignFactory, InfluencerFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


# Loaded once at collection (pytest-django has set Django up by then); the schema view reads no data.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    # As Django's test client does: a request must not close the test's connection (its
    # transaction holds the test data and is rolled back at the end).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def every_scope_key(brand_a: Any) -> str:
    campaign = CampaignFactory(brand=brand_a, slug="verano")
    MembershipFactory(influencer=InfluencerFactory(), brand=brand_a, campaign=campaign)
    _key, secret = api_key_create(brand=brand_a, name="fuzz", scopes=list(SCOPES))
    return secret


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_no_server_error_and_answers_match_the_schema(case: Any, every_scope_key: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Api-Key {every_scope_key}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
