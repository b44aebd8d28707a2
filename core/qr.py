"""QR codes as SVG, the same way everywhere (2FA enrolment, portal codes and links): segno,
error correction M (readable with a bit of damage or a logo-free print), a 2-module border."""

import io
from functools import lru_cache

import segno


def qr_svg(data: str, *, scale: int = 4, border: int = 2, dark: str | None = None, document: bool = False) -> str:
    """An SVG QR code of `data`. By default an inline `<svg>` element for a template; with
    `document=True` a standalone file (XML declaration) to download."""
    qr = segno.make(data, error="m", micro=False)
    colors = {"dark": dark} if dark is not None else {}
    if not document:
        return str(qr.svg_inline(scale=scale, border=border, **colors))
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=scale, border=border, xmldecl=True, **colors)
    return buffer.getvalue().decode()


@lru_cache(maxsize=1024)
def public_qr_svg(
    data: str, *, scale: int = 4, border: int = 2, dark: str | None = None, document: bool = False
) -> str:
    """`qr_svg` of public data (a coupon code, a tracked link), kept per process: drawing one
    costs ~1.6 ms of CPU, and the portal's code and link pages draw one per active code on every
    visit. Never for a secret (a TOTP enrolment URL): that one is drawn once and not kept."""
    return qr_svg(data, scale=scale, border=border, dark=dark, document=document)
