import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.tracking.conftest import BROWSER, drain_all
from tracking.buffer import RedisClickBuffer, SpoolClickBuffer, click_buffer
from tracking.destinations import DestinationRefused, destination_check, tracked_destination
from tracking.hashing import ref_verify
from tracking.models import Click, Link
from tracking.screening import BOT_UA, screen_request
from tracking.services import link_create, link_deactivate

pytestmark = pytest.mark.django_db


def test_redirect_lands_on_store_with_utms_and_cookie(click_client: Any, link_a: Link) -> None:
    response = click_client.get(f"/r/{link_a.slug}", **BROWSER)

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.hostname, target.path) == ("https", "www.acme.example", "/shoes")
    query = parse_qs(target.query)
    assert query["color"] == ["red"]
    assert query["utm_source"] == ["mgm-link"]
    assert query["utm_medium"] == ["influencer"]
    assert query["utm_campaign"] == ["summer"]
    click_id = query["utmi_cp"][0]
    assert ref_verify(click_id=click_id, ref=query["utmi_pc"][0]) == (link_a.influencer_id, link_a.campaign_id)
    cookie = response.cookies["mgm_vid"]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 30 * 86400
    assert response["Cache-Control"] == "no-store"

    assert drain_all() == 1
    click = Click.objects.get(click_id=click_id)
    assert click.is_valid
    assert click.visitor_id == cookie.value
    assert click.ip_prefix == "127.0.0.0/24"
    assert "127.0.0.1" not in (click.ip_hash, click.ip_prefix, click.fingerprint)


def test_redirect_makes_no_query_once_the_link_is_cached(
    click_client: Any, link_a: Link, django_assert_num_queries: Any
) -> None:
    click_client.get(f"/r/{link_a.slug}", **BROWSER)  # warms the cache (link_create already did)
    with django_assert_num_queries(0):
        response = click_client.get(f"/r/{link_a.slug}", **BROWSER)
    assert response.status_code == 302


def test_unknown_slug_is_a_404_page_not_a_redirect(click_client: Any, db: None, django_assert_num_queries: Any) -> None:
    response = click_client.get("/r/nope123", **BROWSER)
    assert response.status_code == 404
    assert "Location" not in response
    with django_assert_num_queries(0):  # the miss is cached too
        assert click_client.get("/r/nope123", **BROWSER).status_code == 404
    assert drain_all() == 0


def test_deactivated_link_answers_404(click_client: Any, link_a: Link, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        link_deactivate(link=link_a)
    assert click_client.get(f"/r/{link_a.slug}", **BROWSER).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "?url=//evil.com",
        "?next=/%5Cevil.com",
        "?to=https://user@evil.com",
        "?redirect=https://www.acme.example.evil.com/",
        "?u=%0d%0aLocation:%20https://evil.com",
        "/../../evil.com",
    ],
)
def test_no_parameter_changes_the_destination_host(click_client: Any, link_a: Link, query: str) -> None:
    response = click_client.get(f"/r/{link_a.slug}{query}", **BROWSER)
    if response.status_code == 302:
        assert urlsplit(response["Location"]).hostname == "www.acme.example"
        assert "evil" not in response["Location"]
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "//evil.com/x",
        "https:/\\evil.com",
        "https://www.acme.example@evil.com/",
        "https://evil.com@www.acme.example/",
        "https://www.acme.example.evil.com/",
        "https://www.acme.example./",
        "https://wwwacme.example/",
        "https://www.acme.example/\r\nSet-Cookie: x=1",
        "javascript:alert(1)//www.acme.example",
        "https://www.acme.example:8443/",
        "ftp://www.acme.example/",
        "/shoes",
    ],
)
def test_destination_check_refuses_unsafe_urls(url: str) -> None:
    with pytest.raises(DestinationRefused):
        destination_check(url, hosts=["www.acme.example"])


def test_destination_check_accepts_allowlisted_hosts() -> None:
    assert destination_check("https://WWW.ACME.example/p?x=1#top", hosts=["www.acme.example"])


def test_link_create_refuses_a_host_off_the_allowlist(campaign_a: Any, influencer_a: Any) -> None:
    with pytest.raises(DestinationRefused):
        link_create(campaign=campaign_a, influencer=influencer_a, destination_url="https://evil.com/")
    assert not Link.objects.exists()


@pytest.mark.parametrize(
    ("extra", "method", "reason"),
    [
        ({"HTTP_USER_AGENT": "facebookexternalhit/1.1"}, "get", "bot"),
        ({"HTTP_USER_AGENT": ""}, "get", "bot"),
        ({}, "head", "head"),
        ({"HTTP_SEC_PURPOSE": "prefetch"}, "get", "prefetch"),
        ({"HTTP_SEC_FETCH_MODE": "no-cors", "HTTP_SEC_FETCH_DEST": "image"}, "get", "sec_fetch"),
    ],
)
def test_screened_requests_still_redirect_but_do_not_count(
    click_client: Any, link_a: Link, extra: dict[str, str], method: str, reason: str
) -> None:
    response = getattr(click_client, method)(f"/r/{link_a.slug}", **{**BROWSER, **extra})
    assert response.status_code == 302
    drain_all()
    click = Click.objects.get()
    assert (click.is_valid, click.screen_reason) == (False, reason)


def test_same_visitor_same_link_within_window_is_a_duplicate(click_client: Any, link_a: Link) -> None:
    click_client.get(f"/r/{link_a.slug}", **BROWSER)
    click_client.get(f"/r/{link_a.slug}", **BROWSER)  # the test client sends the cookie back
    drain_all()
    assert sorted(Click.objects.values_list("screen_reason", flat=True)) == ["", "duplicate"]


def test_flood_from_one_address_is_screened(new_client: Any, link_a: Link, settings: Any) -> None:
    settings.TRACKING_FLOOD_LIMIT = 3
    for n in range(5):
        new_client().get(f"/r/{link_a.slug}", **{**BROWSER, "HTTP_USER_AGENT": BROWSER["HTTP_USER_AGENT"] + str(n)})
    drain_all()
    reasons = list(Click.objects.order_by("occurred_at").values_list("screen_reason", flat=True))
    assert reasons == ["", "", "", "flood", "flood"]


def test_ended_campaign_redirects_without_tracking(
    click_client: Any, link_a: Link, django_capture_on_commit_callbacks: Any
) -> None:
    campaign = link_a.campaign
    with django_capture_on_commit_callbacks(execute=True):
        campaign.status = "paused"
        campaign.save()
    response = click_client.get(f"/r/{link_a.slug}", **BROWSER)
    assert response.status_code == 302
    assert "utmi_cp" not in response["Location"]
    assert "mgm_vid" not in response.cookies
    assert drain_all() == 0


def test_qr_code_is_svg(click_client: Any, link_a: Link) -> None:
    response = click_client.get(f"/r/{link_a.slug}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


def test_the_bot_pattern_is_lowercase_so_mixed_case_agents_are_still_screened() -> None:
    assert BOT_UA.pattern == BOT_UA.pattern.lower()
    assert not BOT_UA.flags & re.IGNORECASE
    headers = {"User-Agent": "Mozilla/5.0 (compatible; GoogleBot/2.1; +http://www.google.com/bot.html)"}
    assert screen_request(method="GET", headers=headers) == "bot"
    assert screen_request(method="GET", headers={"User-Agent": "Python-Requests/2.31"}) == "bot"
    assert screen_request(method="GET", headers={"User-Agent": BROWSER["HTTP_USER_AGENT"]}) == ""


def test_the_redirect_records_the_address_the_middleware_computed(
    click_client: Any, link_a: Link, settings: Any
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    response = click_client.get(f"/r/{link_a.slug}", HTTP_X_FORWARDED_FOR="203.0.113.9", **BROWSER)
    assert response.status_code == 302
    drain_all()
    assert Click.objects.get().ip_prefix == "203.0.113.0/24"


def test_tracked_destination_replaces_our_keys_and_keeps_the_rest_and_the_fragment() -> None:
    url = "https://www.acme.example/p?utm_source=old&size=42&UTMI_CP=x#reviews"
    first = tracked_destination(
        url, utm_source="mgm", utm_medium="inf", campaign_slug="summer sale", click_id="C1", influencer_ref="1.2.ab"
    )
    second = tracked_destination(
        url, utm_source="mgm", utm_medium="inf", campaign_slug="winter", click_id="C2", influencer_ref="1.3.cd"
    )
    assert first == (
        "https://www.acme.example/p?size=42&utm_source=mgm&utm_medium=inf&utm_campaign=summer+sale"
        "&utmi_cp=C1&utmi_pc=1.2.ab#reviews"
    )
    assert parse_qs(urlsplit(second).query)["utm_campaign"] == ["winter"]
    assert tracked_destination(
        "https://www.acme.example", utm_source="s", utm_medium="m", campaign_slug="c", click_id="K", influencer_ref="R"
    ) == ("https://www.acme.example/?utm_source=s&utm_medium=m&utm_campaign=c&utmi_cp=K&utmi_pc=R")


def test_the_click_buffer_follows_a_settings_change(settings: Any, tmp_path: Any) -> None:
    settings.TRACKING_BUFFER = "spool"
    assert isinstance(click_buffer(), SpoolClickBuffer)
    settings.TRACKING_BUFFER = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # never connected: the client is lazy
    buffer = click_buffer()
    assert isinstance(buffer, RedisClickBuffer)
    settings.REDIS_URL = "redis://127.0.0.1:2/0"
    assert click_buffer() is not buffer
