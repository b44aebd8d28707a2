"""The text of a code: the rules a chosen one must meet, readable candidates for a generated one,
and the errors a refused text raises."""

import re
import secrets
import unicodedata
from collections.abc import Iterator
from decimal import Decimal

from django.utils.translation import gettext as _

from affiliates.models import Influencer
from brands.models import Brand
from campaigns.models import Campaign
from codes.models import Code
from core.errors import ApplicationError, Conflict

CODE_MIN_LENGTH = 4
CODE_MAX_LENGTH = 30
_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
# Suffixes people can read aloud and type: no 0/O, 1/I/L.
SUFFIX_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class CodeInvalid(ApplicationError):
    default_code = "code_invalid"


class CodeTaken(Conflict):
    default_code = "code_taken"


def code_text_normalize(text: str) -> str:
    return (text or "").strip().upper()


def code_text_validate(text: str) -> str:
    """A code a manager typed, normalised (upper case) and checked; raises CodeInvalid."""
    normalized = code_text_normalize(text)
    if not CODE_MIN_LENGTH <= len(normalized) <= CODE_MAX_LENGTH:
        raise CodeInvalid(
            _("A code has %(min)s to %(max)s characters; “%(code)s” has %(length)s.")
            % {"min": CODE_MIN_LENGTH, "max": CODE_MAX_LENGTH, "code": normalized[:40], "length": len(normalized)}
        )
    if not _CODE_RE.match(normalized):
        raise CodeInvalid(
            _(
                "Use only letters A–Z, digits, hyphens and underscores, starting with a letter or a digit "
                "(no spaces or accents): “%(code)s” does not fit."
            )
            % {"code": normalized[:40]}
        )
    return normalized


def _slug_upper(value: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]", "", ascii_text.upper())


def code_text_candidates(*, influencer: Influencer, campaign: Campaign) -> Iterator[str]:
    """Readable candidates: the influencer's handle (else name) plus the campaign's discount
    ("MARIAGOMEZ10"), then the same with a short random suffix ("MARIAGOMEZ10-K7Q")."""
    stem = _slug_upper(influencer.handle) or _slug_upper(influencer.display_name) or "MGM"
    discount = campaign.discount_percent or Decimal(0)
    tail = str(int(discount)) if discount and discount == int(discount) else ""
    stem = stem[: CODE_MAX_LENGTH - 4 - len(tail)]
    base = f"{stem}{tail}"
    if len(base) < CODE_MIN_LENGTH:
        base = f"{base}{'X' * (CODE_MIN_LENGTH - len(base))}"
    yield base
    while True:
        suffix = "".join(secrets.choice(SUFFIX_ALPHABET) for _i in range(3))
        yield f"{base}-{suffix}"


def code_text_taken(*, brand: Brand, text: str) -> bool:
    return Code.objects.filter(brand=brand, text__iexact=text).exists()
