"""What an influencer may change about themselves. Identity (document, country, email) changes
only through support, with new KYC."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from affiliates.locks import influencer_lock
from affiliates.models import Influencer
from affiliates.services.validation import application_refused, handle_clean, phone_normalize
from audit.services import audit_record

PROFILE_FIELDS = ("display_name", "phone", "instagram", "tiktok", "youtube", "audience_size", "fiscal_regime")


def influencer_profile_update(
    *,
    influencer: Influencer,
    display_name: str,
    phone: str,
    instagram: str,
    tiktok: str,
    youtube: str,
    audience_size: int,
    preferred_language: str,
    fiscal_regime: str,
    actor: Any = None,
) -> Influencer:
    """Change what an influencer may change about themselves. Identity (document, country,
    email) is not here: it changes only through support, with new KYC."""
    display_name = display_name.strip()
    if not display_name:
        raise application_refused(_("Enter the name you want to show."), field="display_name")
    if preferred_language not in {code for code, _name in settings.LANGUAGES}:
        raise application_refused(_("Choose a language from the list."), field="preferred_language")
    handles = {
        "instagram": handle_clean(instagram),
        "tiktok": handle_clean(tiktok),
        "youtube": handle_clean(youtube),
    }
    if not any(handles.values()):
        raise application_refused(_("Enter at least one social network handle."), field="instagram")
    if audience_size < 0:
        raise application_refused(_("The audience size cannot be negative."), field="audience_size")
    fiscal_regime = " ".join(fiscal_regime.split())
    if len(fiscal_regime) > Influencer._meta.get_field("fiscal_regime").max_length:  # type: ignore[operator]
        raise application_refused(_("The tax regime is too long."), field="fiscal_regime")
    new = {
        "display_name": display_name,
        "phone": phone_normalize(phone),
        "audience_size": audience_size,
        "fiscal_regime": fiscal_regime,
        **handles,
    }
    with transaction.atomic():
        locked = influencer_lock(pk=influencer.pk)
        before = {f: getattr(locked, f) for f in PROFILE_FIELDS}
        for field, value in new.items():
            setattr(locked, field, value)
        locked.handle = next(v for v in handles.values() if v)
        locked.save()
        user = locked.user
        before["preferred_language"] = user.preferred_language
        if user.preferred_language != preferred_language:
            user.preferred_language = preferred_language
            user.save(update_fields=["preferred_language"])
        after = {**{f: getattr(locked, f) for f in PROFILE_FIELDS}, "preferred_language": preferred_language}
        changed = {k for k in after if after[k] != before[k]}
        if changed:
            audit_record(
                action="influencer.profile_updated",
                target=locked,
                actor=actor,
                before={k: before[k] for k in changed},
                after={k: after[k] for k in changed},
            )
    return locked
