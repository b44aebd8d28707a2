"""Reads of referrals and their rewards: "My referrals" in the portal, the referral tree in the
admin and the API. Amounts are what the ledger holds for each reward (`ledger_posted_cents`)."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from affiliates.models import Influencer, Referral
from brands.scoping import scope_queryset
from commissions.models import LedgerStage, ReferralCommission


def reward_explanation(reward: ReferralCommission) -> str:
    """ "10 % of Lucía's estimated commission on order 1415…-01", in the reader's language."""
    if reward.kind == ReferralCommission.Kind.BONUS:
        return _("Bonus: %(name)s reached the campaign's confirmed sales threshold") % {
            "name": reward.referral.referred.display_name
        }
    source = reward.source
    stage = {
        LedgerStage.CONFIRMED: pgettext("commission stage", "confirmed"),
        LedgerStage.ESTIMATED: pgettext("commission stage", "estimated"),
    }.get(LedgerStage(reward.ledger_stage), pgettext("commission stage", "not posted"))
    rate = f"{reward.rate.normalize():f}" if reward.rate is not None else "0"
    values = {
        "rate": rate,
        "name": source.influencer.display_name if source else "",
        "stage": stage,
        "order": source.order.vtex_order_id if source else "",
    }
    if reward.level == 2:
        return _("%(rate)s %% of %(name)s's %(stage)s commission on order %(order)s (second level)") % values
    return _("%(rate)s %% of %(name)s's %(stage)s commission on order %(order)s") % values


def _rewards(queryset: QuerySet[ReferralCommission]) -> QuerySet[ReferralCommission]:
    return queryset.select_related(
        "referral__referred", "source__order", "source__influencer", "brand", "beneficiary"
    ).order_by("-created_at", "-id")


@dataclass
class ReferralRow:
    referral: Referral
    estimated_cents: int = 0
    confirmed_cents: int = 0

    @property
    def total_cents(self) -> int:
        return self.estimated_cents + self.confirmed_cents


def _totals(rewards: list[ReferralCommission]) -> dict[int, tuple[int, int]]:
    """(estimated, confirmed) cents per referral id."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for reward in rewards:
        slot = 1 if reward.ledger_stage == LedgerStage.CONFIRMED else 0
        out[reward.referral_id][slot] += reward.ledger_posted_cents
    return {key: (value[0], value[1]) for key, value in out.items()}


def referral_list_for_referrer(*, influencer: Influencer, brand: Any) -> list[ReferralRow]:
    """The influencer's referrals with the brand and what each earned them (first level; the
    second level is listed with the referral it came through)."""
    referrals = list(
        Referral.objects.filter(brand=brand, referrer=influencer)
        .select_related("referred", "campaign")
        .order_by("-started_at", "-id")
    )
    rewards = list(ReferralCommission.objects.filter(brand=brand, beneficiary=influencer))
    totals = _totals(rewards)
    return [
        ReferralRow(
            referral=r,
            estimated_cents=totals.get(r.pk, (0, 0))[0],
            confirmed_cents=totals.get(r.pk, (0, 0))[1],
        )
        for r in referrals
    ]


def referral_rewards_for_beneficiary(*, influencer: Influencer, brand: Any, limit: int = 50) -> list[Any]:
    """The latest rewards with their explanation, for the portal."""
    rewards = list(_rewards(ReferralCommission.objects.filter(brand=brand, beneficiary=influencer))[:limit])
    return [{"reward": reward, "explanation": reward_explanation(reward)} for reward in rewards]


@dataclass
class TreeNode:
    influencer: Influencer
    referral: Referral | None
    earned_cents: int = 0
    children: list["TreeNode"] = field(default_factory=list)

    @property
    def subtree_cents(self) -> int:
        return self.earned_cents + sum(child.subtree_cents for child in self.children)


def referral_list(*, brand_ids: set[int] | None) -> QuerySet[Referral]:
    return (
        scope_queryset(Referral.objects.all(), brand_ids, brand_field="brand")
        .select_related("brand", "campaign", "referrer", "referred")
        .order_by("-started_at", "-id")
    )


def referral_tree(*, brand_ids: set[int] | None, brand_id: int) -> list[TreeNode]:
    """The brand's referral forest: roots are referrers nobody referred; each node carries what
    its influencer earned from referrals (ledger amounts, every level) and its subtree's total."""
    referrals = list(referral_list(brand_ids=brand_ids).filter(brand_id=brand_id))
    earned: dict[int, int] = defaultdict(int)
    for beneficiary_id, cents in scope_queryset(
        ReferralCommission.objects.filter(brand_id=brand_id), brand_ids, brand_field="brand"
    ).values_list("beneficiary_id", "ledger_posted_cents"):
        earned[beneficiary_id] += cents
    nodes: dict[int, TreeNode] = {}
    for referral in referrals:
        for person, via in ((referral.referrer, None), (referral.referred, referral)):
            node = nodes.setdefault(
                person.pk, TreeNode(influencer=person, referral=None, earned_cents=earned[person.pk])
            )
            if via is not None:
                node.referral = via
    for referral in referrals:
        nodes[referral.referrer_id].children.append(nodes[referral.referred_id])
    roots = [node for node in nodes.values() if node.referral is None]
    return sorted(roots, key=lambda node: (-node.subtree_cents, node.influencer.display_name))
