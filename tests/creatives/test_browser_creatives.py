"""The Creatives page in a real browser (Debian's Chromium through Playwright), in Spanish, at
1280 and 390 px: the campaign's grid (image thumbnail, video, captions filled with the
influencer's own code and link, guidelines), copy a caption, download the image through the
signed link; nothing is wider than the window.

Screenshots go to test-artifacts/creatives/creatives-es-<width>.png (not committed)."""

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright

from creatives.models import Creative
from creatives.services import creative_create
from tests.affiliates.factories import pdf_bytes
from tests.affiliates.test_browser_flow import CHROMIUM_ARGS, sign_in, totp_now
from tests.creatives.conftest import member, upload
from tests.factories import PASSWORD, CampaignFactory, StaffFactory

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "creatives"


def _picture() -> bytes:
    """A 1200×900 PNG with a gradient, so the thumbnail in the grid looks like a photo."""

    image = Image.new("RGB", (1200, 900))
    draw = ImageDraw.Draw(image)
    for y in range(900):
        draw.line([(0, y), (1200, y)], fill=(30 + y // 6, 90 + y // 12, 160 - y // 10))
    draw.ellipse((780, 120, 1020, 360), fill=(250, 210, 90))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_influencer_browses_copies_and_downloads_creatives(
    live_server: Any, chromium_path: str, brand_a: Any, manager_a: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    campaign = CampaignFactory(brand=brand_a, name="Verano 2026", slug="verano-2026")
    ana = member(brand_a, campaign, "Ana Ríos", code="ANA10", link_slug="ana-verano")
    user = ana.influencer.user
    user.preferred_language = "es"
    user.save(update_fields=["preferred_language"])
    creative_create(
        campaign=campaign,
        kind="image",
        title="Playa al atardecer",
        notes="Para historias y el feed. Sin filtros, por favor.",
        upload=upload("playa.png", _picture()),
        actor=manager_a,
    )
    creative_create(
        campaign=campaign, kind="video", title="Reel de lanzamiento", video_url="https://youtu.be/dQw4w9WgXcQ"
    )
    creative_create(
        campaign=campaign,
        kind="caption",
        title="Texto para el reel",
        caption="¡Llegó el verano a {brand}! ☀️ Usa mi código {code} y llévate 10 % de descuento: {link} #publi",
    )
    creative_create(
        campaign=campaign,
        kind="caption",
        title="Texto corto para historias",
        caption="Código {code} 👉 {link}",
    )
    creative_create(
        campaign=campaign, kind="guidelines", title="Manual de marca 2026", upload=upload("m.pdf", pdf_bytes())
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    page_url = f"{base}/portal/{brand_a.slug}/creatives/"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                context = browser.new_context(
                    viewport={"width": width, "height": 900}, locale="es", accept_downloads=True
                )
                context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
                context.add_cookies([{"name": "django_language", "value": "es", "url": base}])
                page = context.new_page()
                sign_in(page, base, user.email, PASSWORD, next_path="/portal/")
                page.goto(page_url)
                expect(page.get_by_role("heading", name="Creativos", exact=True)).to_be_visible()
                expect(page.locator('[data-nav="creatives"]')).to_have_attribute("aria-current", "page")
                expect(page.get_by_test_id("creative-card")).to_have_count(5)
                expect(page.get_by_test_id("library-code")).to_have_text("ANA10")
                caption = page.get_by_test_id("creative-card").filter(has_text="Texto para el reel")
                expect(caption.get_by_test_id("creative-caption")).to_have_value(
                    "¡Llegó el verano a Acme! ☀️ Usa mi código ANA10 y llévate 10 % de descuento: "
                    f"{live_server_site_url()}/r/ana-verano #publi"
                )
                image = page.get_by_test_id("creative-card").filter(has_text="Playa al atardecer")
                expect(image.locator("img")).to_be_visible()
                page.wait_for_load_state("networkidle")
                image.locator("img").scroll_into_view_if_needed()
                page.wait_for_function("() => [...document.images].every(i => i.complete)")
                assert image.locator("img").evaluate("img => img.naturalWidth") == 640  # the thumbnail
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(ARTIFACTS / f"creatives-es-{width}.png"), full_page=True)
                scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                assert scroll <= inner, (width, scroll, inner)

                # Copy: the clipboard holds the filled caption, the button says so.
                button = caption.get_by_test_id("copy-caption")
                button.click()
                expect(button).to_have_text("Copiado")
                assert "ANA10" in page.evaluate("navigator.clipboard.readText()")

                # Download: through the signed link, the original file.
                with page.expect_download() as download_info:
                    image.get_by_test_id("creative-download").click()
                download = download_info.value
                assert download.suggested_filename.startswith("playa-al-atardecer-")
                assert Path(download.path()).read_bytes().startswith(b"\x89PNG")
                assert "/creatives/file/" in download.url
                context.close()
        finally:
            browser.close()


def live_server_site_url() -> str:
    return str(settings.SITE_URL)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_uploads_in_the_back_office_and_sees_the_preview(
    live_server: Any, chromium_path: str, brand_a: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    CampaignFactory(brand=brand_a, name="Verano 2026", slug="verano-2026")
    manager = StaffFactory(email="gerente@example.com", role="Manager", brands=[brand_a])
    fake = tmp_path / "foto.png"
    fake.write_bytes(pdf_bytes())  # a PDF named .png
    real = tmp_path / "playa.png"
    real.write_bytes(_picture())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="es-ES", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            sign_in(page, base, manager.email, PASSWORD, next_path="/admin/")
            page.fill("input[name=token]", totp_now(page.get_by_test_id("totp-secret").inner_text().strip()))
            page.click("main form button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{base}/admin/creatives/creative/add/")
            page.click(".field-campaign .select2-selection")  # the campaign autocomplete
            page.fill(".select2-search__field", "Verano")
            page.locator(".select2-results__option", has_text="Verano 2026").click()
            page.select_option("#id_kind", "image")
            page.fill("#id_title", "Playa al atardecer")
            page.set_input_files("#id_upload", str(fake))
            page.click("input[name=_save]")
            expect(page.locator(".errorlist")).to_contain_text("Sube una imagen JPEG, PNG o WebP")
            page.screenshot(path=str(ARTIFACTS / "creatives-admin-es-refused.png"), full_page=True)
            assert not Creative.objects.exists()

            page.set_input_files("#id_upload", str(real))
            page.click("input[name=_save]")
            page.wait_for_load_state()
            creative = Creative.objects.get()
            page.goto(f"{base}/admin/creatives/creative/")
            thumb = page.locator("img.creative-thumb")
            expect(thumb).to_have_count(1)
            page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
            page.screenshot(path=str(ARTIFACTS / "creatives-admin-es-list.png"), full_page=True)
            page.goto(f"{base}/admin/creatives/creative/{creative.pk}/change/")
            expect(page.get_by_text("Descargar el original")).to_be_visible()
            page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
            page.screenshot(path=str(ARTIFACTS / "creatives-admin-es-change.png"), full_page=True)
            context.close()
        finally:
            browser.close()
