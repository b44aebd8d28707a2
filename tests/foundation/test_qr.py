"""QR codes: public ones (coupon codes, tracked links) are drawn once per process; a secret (the
TOTP enrolment URL) is drawn on its page and never kept."""

from typing import Any

import pytest
import segno
from django.test import Client
from django.urls import reverse

from core import qr
from core.qr import public_qr_svg, qr_svg


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    public_qr_svg.cache_clear()
    yield
    public_qr_svg.cache_clear()


def test_a_public_qr_is_the_same_drawing_made_once(monkeypatch: Any) -> None:
    drawn: list[str] = []
    make = segno.make

    def counting(data: str, **kwargs: Any) -> Any:
        drawn.append(data)
        return make(data, **kwargs)

    monkeypatch.setattr(qr.segno, "make", counting)
    first = public_qr_svg("ANA10", scale=4, dark="#1d2433")
    again = public_qr_svg("ANA10", scale=4, dark="#1d2433")
    assert first == again == qr_svg("ANA10", scale=4, dark="#1d2433")
    assert drawn == ["ANA10", "ANA10"]  # once for the two public calls, once for qr_svg itself
    assert public_qr_svg("ANA10", scale=8, document=True).startswith("<?xml")
    assert drawn == ["ANA10", "ANA10", "ANA10"]


@pytest.mark.django_db
def test_the_two_factor_secret_is_not_kept(client: Client, manager_a: Any) -> None:
    client.force_login(manager_a)
    page = client.get(reverse("two_factor"), {"next": "/admin/"})
    assert b"<svg" in page.content
    assert public_qr_svg.cache_info().currsize == 0
