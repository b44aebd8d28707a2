"""Managers' uploads are checked by their bytes and size; a refused one stores nothing (no row,
no file, no audit event)."""

from typing import Any

import pytest
from PIL import Image

from audit.models import AuditEvent
from creatives.models import Creative
from creatives.services import creative_create, creative_set_active, creative_update
from creatives.uploads import CreativeInvalid, caption_fill
from tests.affiliates.factories import jpeg_bytes, pdf_bytes, png_bytes
from tests.creatives.conftest import stored_files, upload
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _nothing_stored(private_dir: Any) -> None:
    assert not Creative.objects.exists()
    assert stored_files(private_dir) == []
    assert not AuditEvent.objects.filter(action__startswith="creative.").exists()


def test_an_image_is_stored_privately_with_a_thumbnail_and_its_facts(
    campaign_a: Any, manager_a: Any, private_dir: Any
) -> None:
    creative = creative_create(
        campaign=campaign_a,
        kind="image",
        title="Foto playa",
        upload=upload("../../etc/playa.png", png_bytes((1600, 1200)), "text/plain"),
        actor=manager_a,
    )
    assert (creative.content_type, creative.width, creative.height) == ("image/png", 1600, 1200)
    assert creative.brand_id == campaign_a.brand_id
    assert creative.original_name == "playa.png"
    assert creative.file.name.startswith(f"creatives/{campaign_a.brand_id}/{campaign_a.pk}/")
    assert creative.file.name.endswith(".png")
    assert "playa" not in creative.file.name
    assert len(stored_files(private_dir)) == 2  # the original and its thumbnail

    with creative.thumbnail.open("rb") as handle, Image.open(handle) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) == 640
    event = AuditEvent.objects.get(action="creative.created")
    assert event.after["sha256"] == creative.sha256
    assert event.brand_id == campaign_a.brand_id


def test_a_jpeg_named_png_is_stored_as_what_it_is(campaign_a: Any) -> None:
    creative = creative_create(campaign=campaign_a, kind="image", title="x", upload=upload("a.png", jpeg_bytes()))
    assert creative.content_type == "image/jpeg"
    assert creative.file.name.endswith(".jpg")


@pytest.mark.parametrize(
    ("kind", "name", "content", "words"),
    [
        ("image", "foto.png", pdf_bytes(), "Upload a JPEG, PNG or WebP image"),
        ("image", "foto.jpg", b"<html><script>alert(1)</script></html>", "whatever its name says"),
        ("image", "foto.png", png_bytes()[:60], "damaged"),
        ("image", "vacio.png", b"", "The file is empty."),
        ("guidelines", "manual.pdf", png_bytes(), "Brand guidelines must be a PDF"),
        ("guidelines", "manual.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "incomplete or damaged"),
    ],
)
def test_a_file_of_the_wrong_type_by_its_content_is_refused_and_nothing_is_stored(
    campaign_a: Any, private_dir: Any, kind: str, name: str, content: bytes, words: str
) -> None:
    with pytest.raises(CreativeInvalid, match=words) as refused:
        creative_create(campaign=campaign_a, kind=kind, title="x", upload=upload(name, content, "image/png"))
    assert refused.value.extra["field"] == "file"
    _nothing_stored(private_dir)


def test_a_file_over_the_limit_is_refused_with_both_sizes_and_nothing_is_stored(
    campaign_a: Any, private_dir: Any, settings: Any
) -> None:
    settings.CREATIVES_IMAGE_MAX_BYTES = 1000
    settings.CREATIVES_PDF_MAX_BYTES = 100
    big = png_bytes((400, 400))
    assert len(big) > 1000
    with pytest.raises(CreativeInvalid, match=r"The file is .*; the limit is 1000"):
        creative_create(campaign=campaign_a, kind="image", title="x", upload=upload("a.png", big))
    with pytest.raises(CreativeInvalid, match="the limit is 100"):
        creative_create(campaign=campaign_a, kind="guidelines", title="x", upload=upload("m.pdf", pdf_bytes()))
    _nothing_stored(private_dir)


def test_guidelines_are_a_whole_pdf(campaign_a: Any) -> None:
    creative = creative_create(
        campaign=campaign_a, kind="guidelines", title="Manual de marca", upload=upload("m.pdf", pdf_bytes())
    )
    assert creative.content_type == "application/pdf"
    assert not creative.thumbnail


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("http://www.youtube.com/watch?v=abc", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("https://", "not a valid web address"),
        ("", "Paste the address of the video."),
    ],
)
def test_a_video_is_a_https_link_only(campaign_a: Any, private_dir: Any, address: str, words: str) -> None:
    with pytest.raises(CreativeInvalid, match=words):
        creative_create(campaign=campaign_a, kind="video", title="Reel", video_url=address)
    _nothing_stored(private_dir)


def test_a_video_or_caption_carries_no_file(campaign_a: Any, private_dir: Any) -> None:
    with pytest.raises(CreativeInvalid, match="Only images and brand guidelines carry a file"):
        creative_create(
            campaign=campaign_a,
            kind="video",
            title="Reel",
            video_url="https://youtu.be/x",
            upload=upload("a.png", png_bytes()),
        )
    _nothing_stored(private_dir)


def test_a_caption_with_an_unknown_placeholder_or_too_long_is_refused(campaign_a: Any, private_dir: Any) -> None:
    with pytest.raises(CreativeInvalid, match=r"Unknown placeholder \{codigo\}. Use \{code\}, \{link\}, \{brand\}"):
        creative_create(campaign=campaign_a, kind="caption", title="x", caption="Usa {codigo} ya")
    with pytest.raises(CreativeInvalid, match="the limit is 2200"):
        creative_create(campaign=campaign_a, kind="caption", title="x", caption="a" * 2201)
    _nothing_stored(private_dir)


def test_templates_take_no_creatives(brand_a: Any, private_dir: Any) -> None:
    template = CampaignFactory(brand=brand_a, is_template=True, status="draft")
    with pytest.raises(CreativeInvalid, match="Templates never run"):
        creative_create(campaign=template, kind="caption", title="x", caption="Hola {code}")
    _nothing_stored(private_dir)


def test_a_database_failure_after_storing_deletes_the_files(
    campaign_a: Any, private_dir: Any, monkeypatch: Any
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("audit down")

    monkeypatch.setattr("creatives.services.audit_record", broken)
    with pytest.raises(RuntimeError):
        creative_create(campaign=campaign_a, kind="image", title="x", upload=upload("a.png", png_bytes()))
    _nothing_stored(private_dir)


def test_caption_fill_replaces_known_placeholders_only_and_reports_missing_ones() -> None:
    text, missing = caption_fill(
        "{code} {link} {brand} {other} {{code}} {code}", {"code": "ANA10", "link": "", "brand": "Acme"}
    )
    assert text == "ANA10 {link} Acme {other} {ANA10} ANA10"
    assert missing == ["link"]
    # values are data: a code that looks like a placeholder is not expanded again
    assert caption_fill("{code}", {"code": "{link}", "link": "x"})[0] == "{link}"


def test_update_changes_words_and_archiving_is_idempotent_and_audited(campaign_a: Any, manager_a: Any) -> None:
    creative = creative_create(campaign=campaign_a, kind="caption", title="x", caption="Hola {code}")
    creative_update(creative=creative, title="Texto", caption="Chao {link}", actor=manager_a)
    creative.refresh_from_db()
    assert (creative.title, creative.caption) == ("Texto", "Chao {link}")
    with pytest.raises(CreativeInvalid):
        creative_update(creative=creative, title="Texto", caption="Chao {x}", actor=manager_a)
    creative.refresh_from_db()
    assert creative.caption == "Chao {link}"
    assert creative_set_active(creative=creative, active=False, actor=manager_a) is True
    assert creative_set_active(creative=creative, active=False, actor=manager_a) is False
    assert AuditEvent.objects.filter(action="creative.archived").count() == 1
    assert AuditEvent.objects.filter(action="creative.updated").count() == 1
