"""Tracking permissions of the staff roles (accounts.roles)."""

from typing import Any

import pytest

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_managers_work_the_review_queue_and_links_finance_and_viewers_only_read(brand_a: Any) -> None:
    manager = StaffFactory(role="Manager", brands=[brand_a])
    finance = StaffFactory(role="Finance", brands=[brand_a])
    viewer = StaffFactory(role="Brand viewer", brands=[brand_a])

    for perm in (
        "add_link",
        "change_link",
        "view_link",
        "view_fraudflag",
        "change_fraudflag",
        "view_attributionpolicy",
        "change_attributionpolicy",
        "view_click",
        "view_conversion",
    ):
        assert manager.has_perm(f"tracking.{perm}"), perm
    for user in (finance, viewer):
        for model in ("link", "fraudflag", "attributionpolicy", "click", "conversion"):
            assert user.has_perm(f"tracking.view_{model}"), model
            assert not user.has_perm(f"tracking.change_{model}"), model
        assert not user.has_perm("tracking.add_link")
    assert not manager.has_perm("tracking.delete_link")
    assert not manager.has_perm("tracking.change_click")
