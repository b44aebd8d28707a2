"""Demo creatives: the demo campaign's library (a picture, a video link, two captions, the
brand guidelines), so an influencer signing in to the demo sees the Creatives page filled in.
Idempotent: a piece whose title the campaign already has is not added again."""

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from campaigns.models import Campaign
from creatives.models import Creative
from creatives.services import creative_create


def _picture() -> bytes:
    image = Image.new("RGB", (1080, 1080))
    draw = ImageDraw.Draw(image)
    for y in range(1080):
        draw.line([(0, y), (1080, y)], fill=(20 + y // 8, 60 + y // 10, 140 - y // 12))
    draw.ellipse((640, 140, 900, 400), fill=(246, 200, 80))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


_GUIDELINES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 92>>stream\nBT /F1 24 Tf 72 760 Td (Demo brand guidelines) Tj 0 -40 Td /F1 12 Tf "
    b"(Tag the brand.) Tj ET\nendstream endobj\n"
    b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def seed(*, out: Any) -> None:
    campaign = Campaign.objects.filter(brand__slug="demo", slug="lanzamiento").first()
    if campaign is None:
        out.write("  no demo campaign; skipped")
        return
    pieces: list[dict[str, Any]] = [
        {
            "kind": "image",
            "title": "Foto de lanzamiento",
            "notes": "Para el feed y las historias.",
            "upload": SimpleUploadedFile("lanzamiento.jpg", _picture()),
        },
        {"kind": "video", "title": "Reel de lanzamiento", "video_url": "https://www.youtube.com/watch?v=aqz-KE-bpKQ"},
        {
            "kind": "caption",
            "title": "Texto para el reel",
            "caption": "¡Ya llegó lo nuevo de {brand}! Usa mi código {code} y obtén tu descuento: {link}",
        },
        {"kind": "caption", "title": "Texto corto para historias", "caption": "Código {code} → {link}"},
        {
            "kind": "guidelines",
            "title": "Manual de marca",
            "upload": SimpleUploadedFile("manual.pdf", _GUIDELINES),
        },
    ]
    have = set(Creative.objects.filter(campaign=campaign).values_list("title", flat=True))
    for piece in pieces:
        if piece["title"] in have:
            continue
        creative = creative_create(campaign=campaign, **piece)
        out.write(f"  creative {creative.get_kind_display()}: {creative.title}")
