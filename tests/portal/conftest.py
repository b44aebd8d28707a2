"""The portal's tests use the applicants and policies of the affiliates tests, and share an
approved influencer signed in to the portal."""

from typing import Any

import pytest

from affiliates.models import Membership
from affiliates.services.decisions import membership_approve
from tests.affiliates.conftest import (  # noqa: F401  (fixtures)
    _private_media,
    applicant,
    campaign_a,
    policies_a,
    policies_b,
    private_dir,
)


@pytest.fixture
def approved(applicant: Any, campaign_a: Any, manager_a: Any) -> Membership:  # noqa: F811 - fixtures as arguments
    return membership_approve(membership=applicant(), actor=manager_a, campaigns=[campaign_a])


@pytest.fixture
def portal(client: Any, approved: Membership) -> Any:
    client.force_login(approved.influencer.user)
    return client
