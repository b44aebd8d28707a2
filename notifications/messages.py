"""The words of each notification, in the active language. Called by the portal at display time
and by the email code under the recipient's language, so one notification reads right in both."""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from core.money import format_minor


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def _amount(params: dict[str, Any], key: str = "amount_cents") -> str:
    return format_minor(int(params.get(key) or 0), str(params.get("currency") or ""))


def _policy_kind(kind: str) -> str:
    return _("privacy policy") if kind == "privacy" else _("terms and conditions")


def notification_message(*, event: str, params: dict[str, Any], brand: str) -> Message:
    """Title and one paragraph for `event` with `params` (as stored on the notification)."""
    p = params
    reason = str(p.get("reason") or "")
    if event == "influencer.approved":
        if p.get("previous_status") == "pending":
            codes = ", ".join(p.get("codes") or [])
            body = _("Your discount codes: %(codes)s.") % {"codes": codes} if codes else ""
            return Message(_("%(brand)s approved your application") % {"brand": brand}, body)
        return Message(
            _("Your membership with %(brand)s is active again") % {"brand": brand}, _("Your codes work again.")
        )
    if event == "influencer.rejected":
        return Message(
            _("%(brand)s did not approve your application") % {"brand": brand},
            _("Reason: %(reason)s") % {"reason": reason},
        )
    if event == "influencer.suspended":
        return Message(
            _("Your membership with %(brand)s is suspended") % {"brand": brand},
            _("Your codes are paused. Reason: %(reason)s") % {"reason": reason},
        )
    if event == "influencer.blocked":
        return Message(
            _("%(brand)s closed your membership") % {"brand": brand},
            _("Your codes no longer work. Reason: %(reason)s") % {"reason": reason},
        )
    if event == "creative.published":
        return Message(
            _("%(brand)s shared new material: %(title)s") % {"brand": brand, "title": p.get("title")},
            _("For the campaign %(campaign)s. It is in Creatives, ready to post with your code.")
            % {"campaign": p.get("campaign")},
        )
    if event == "commission.estimated":
        return Message(
            _("New sale: %(amount)s estimated for order %(order)s") % {"amount": _amount(p), "order": p.get("order")},
            _("It is confirmed once the return period of the order ends."),
        )
    if event == "commission.confirmed":
        return Message(
            _("Commission confirmed: %(amount)s for order %(order)s") % {"amount": _amount(p), "order": p.get("order")},
            _("It becomes available to withdraw after the brand's hold period."),
        )
    if event == "commission.reversed":
        return Message(
            _("Commission reversed: %(amount)s for order %(order)s")
            % {"amount": _amount(p, "reversed_cents"), "order": p.get("order")},
            _("The order was cancelled or returned, so its commission was taken back."),
        )
    if event.startswith("withdrawal."):
        w, amount = p.get("withdrawal"), _amount(p)
        titles = {
            "withdrawal.requested": _("Withdrawal %(w)s requested: %(amount)s"),
            "withdrawal.approved": _("Withdrawal %(w)s approved: %(amount)s"),
            "withdrawal.rejected": _("Withdrawal %(w)s rejected: %(amount)s"),
            "withdrawal.paid": _("Withdrawal %(w)s paid: %(amount)s"),
            "withdrawal.failed": _("Withdrawal %(w)s failed: %(amount)s"),
        }
        title = titles.get(event, titles["withdrawal.requested"]) % {"w": w, "amount": amount}
        if event == "withdrawal.paid":
            body = _("Net paid: %(net)s. Transfer reference: %(ref)s.") % {
                "net": _amount(p, "net_cents"),
                "ref": p.get("transfer_reference") or "-",
            }
        elif event in ("withdrawal.rejected", "withdrawal.failed"):
            body = _("The amount is available again. Reason: %(reason)s") % {"reason": reason}
        elif event == "withdrawal.approved":
            body = _("You will receive %(net)s.") % {"net": _amount(p, "net_cents")}
        else:
            body = _("The amount is reserved while finance reviews it.")
        return Message(title, body)
    if event == "payout_account.changed":
        return Message(
            _("Your payout data changed"),
            _("If you did not make this change, contact %(brand)s right away.") % {"brand": brand},
        )
    if event == "policy.published":
        return Message(
            _("%(brand)s published a new version of its %(kind)s")
            % {"brand": brand, "kind": _policy_kind(str(p.get("kind")))},
            _("Read and accept version %(version)s the next time you open your portal.")
            % {"version": p.get("version")},
        )
    if event == "claim.submitted":
        return Message(
            _("We received your claim for order %(order)s") % {"order": p.get("order")},
            _("%(brand)s reviews it and you will hear the decision here.") % {"brand": brand},
        )
    if event == "claim.accepted":
        return Message(
            _("Your claim for order %(order)s was accepted") % {"order": p.get("order")},
            _("The order is now yours: its commission appears on your Earnings page. Note from %(brand)s: %(reason)s")
            % {"brand": brand, "reason": reason},
        )
    if event == "claim.rejected":
        return Message(
            _("Your claim for order %(order)s was not accepted") % {"order": p.get("order")},
            _("Reason: %(reason)s") % {"reason": reason},
        )
    return Message(event, "")
