from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from brands.models import Brand
from codes.models import Code
from core import batching


def code_list_for_influencer(*, influencer: Any, brand: Brand | None = None) -> QuerySet[Code]:
    codes = Code.objects.filter(influencer=influencer).select_related("campaign", "brand", "variant")
    if brand is not None:
        codes = codes.filter(brand=brand)
    return codes.order_by("brand__name", "-campaign__starts_at", "text")


def code_get_by_text(*, brand: Brand, text: str) -> Code | None:
    """The brand's code typed as `text`, in any case (VTEX shoppers type codes as they like)."""
    text = (text or "").strip()
    if not text:
        return None
    return batching.memo(
        _by_text_key(brand.pk, text),
        lambda: (
            Code.objects.select_related("campaign", "influencer", "variant")
            .filter(brand=brand, text__iexact=text)
            .first()
        ),
    )


def _by_text_key(brand_id: int, text: str) -> tuple[str, int, str]:
    return ("codes.by_text", brand_id, text.lower())


def codes_read_ahead(*, brand: Brand, texts: Iterable[str]) -> list[Code]:
    """Inside a batch (core.batching): what `code_get_by_text` answers for each of these
    texts (a batch's coupons), in one query, so each order takes it from the memo instead of
    selecting its code; returns the codes found (with campaign, variant and influencer with
    its user), for the caller to hand on. Only ASCII texts are read ahead: for them Python's
    case folding is PostgreSQL's, so "no such code" is known for sure; any other text is
    left to its own `iexact` query."""
    if batching.current() is None:
        return []
    wanted = {text.strip().upper(): text.strip() for text in texts if text and text.strip().isascii()}
    wanted.pop("", None)
    if not wanted:
        return []
    found = {
        code.text.upper(): code
        for code in Code.objects.select_related("campaign", "influencer__user", "variant")
        .annotate(text_upper=Upper("text"))
        .filter(brand=brand, text_upper__in=list(wanted))  # one at most per text: uniq_code_text_per_brand_ci
    }
    for upper, text in wanted.items():
        batching.memo_set(_by_text_key(brand.pk, text), found.get(upper))
    return list(found.values())


@dataclass(frozen=True)
class CodeState:
    """A code as the influencer should understand it: whether shoppers can use it now."""

    key: str  # active | pending | rejected | archived
    label: str
    reason: str
    usable: bool


def _refusal_in_words(error: str) -> str:
    text = (error or "").lower()
    if "utm_source" in text or ("campaign" in text and "promotion" in text):
        return _("The campaign is not set up in the store yet; the brand is fixing it.")
    if "credential" in text or "401" in text or "403" in text:
        return _("The brand's store connection is not working; the brand is fixing it.")
    if "exist" in text or "already" in text or "409" in text or "duplicate" in text:
        return _("Another promotion in the store already uses this code; the brand will give you a new one.")
    return _("The store refused this code; the brand has been told and will fix it.")


def code_state(code: Code) -> CodeState:
    """Active only when the store has the coupon active: a code still being set up, or one
    VTEX refused, does not work at checkout and must not be shared as if it did."""
    if code.status == Code.Status.ARCHIVED:
        return CodeState("archived", str(_("Archived")), code.status_reason, usable=False)
    if code.vtex_state == Code.VTEXState.ACTIVE:
        return CodeState("active", str(_("Active")), "", usable=True)
    if code.sync_status == Code.SyncStatus.FAILED:
        return CodeState(
            "rejected", str(_("Rejected by the store")), str(_refusal_in_words(code.last_sync_error)), usable=False
        )
    return CodeState(
        "pending",
        str(_("Being set up in the store")),
        str(_("It works at checkout once the store confirms it, usually within minutes.")),
        usable=False,
    )
