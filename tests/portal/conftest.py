"""The portal's tests use the applicants and policies of the affiliates tests."""

from tests.affiliates.conftest import (  # noqa: F401  (fixtures)
    _private_media,
    applicant,
    campaign_a,
    policies_a,
    policies_b,
    private_dir,
)
