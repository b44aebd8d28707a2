"""Proofs of transfer are private files: finance reaches one through an expiring link issued to
them (audited when issued and when used); the file never has a public URL."""

from typing import Any

from django.utils.translation import gettext as _

from audit.services import audit_record
from brands.scoping import brand_ids_for_user
from core.errors import ApplicationError, NotFound, PermissionRefused
from core.storage import PRIVATE_LINK_MAX_AGE, PrivateLinkInvalid, private_link_read, private_link_token
from payments.models import Withdrawal

_SALT = "payments.withdrawal.proof"


def _check_viewer(user: Any, brand_id: int) -> None:
    if not (user and user.is_authenticated and user.is_active and user.has_perm("payments.view_withdrawal")):
        raise PermissionRefused(_("Only finance staff may see proofs of transfer."))
    allowed = brand_ids_for_user(user)
    if allowed is not None and brand_id not in allowed:
        raise NotFound(_("This proof does not exist."))


def withdrawal_proof_link(*, withdrawal: Withdrawal, actor: Any) -> str:
    """A token for `actor` to download the withdrawal's proof within PRIVATE_LINK_MAX_AGE."""
    _check_viewer(actor, withdrawal.brand_id)
    if not withdrawal.proof:
        raise NotFound(_("This withdrawal has no proof of transfer."))
    audit_record(
        action="withdrawal.proof_link_issued",
        target=withdrawal,
        actor=actor,
        brand_id=withdrawal.brand_id,
        after={"proof": withdrawal.proof.name, "valid_seconds": PRIVATE_LINK_MAX_AGE},
    )
    return private_link_token(
        salt=_SALT, object_id=withdrawal.pk, file_name=withdrawal.proof.name or "", user_id=actor.pk
    )


def withdrawal_proof_resolve(*, token: str, user: Any) -> Withdrawal:
    """The withdrawal whose proof `token` opens for `user`, audited as downloaded. Refuses an
    altered, expired or someone else's link."""
    try:
        value = private_link_read(salt=_SALT, token=token)
    except PrivateLinkInvalid as exc:
        if exc.expired:
            raise ApplicationError(
                _("This link expired. Open the withdrawal again to get a new one."), code="link_expired"
            ) from exc
        raise NotFound(_("This link is not valid.")) from exc
    if value["u"] != getattr(user, "pk", None):
        raise PermissionRefused(_("This link was issued to someone else."))
    withdrawal = Withdrawal.objects.filter(pk=value["o"]).first()
    if withdrawal is None or withdrawal.proof.name != value["f"]:
        raise NotFound(_("This proof does not exist."))
    _check_viewer(user, withdrawal.brand_id)
    audit_record(
        action="withdrawal.proof_downloaded",
        target=withdrawal,
        actor=user,
        brand_id=withdrawal.brand_id,
        after={"proof": withdrawal.proof.name},
    )
    return withdrawal
