"""In-process domain events: how a lower floor tells a higher one that something happened.

The apps form layers (see docs/architecture.md): an app may import only the apps below it. When a
lower app must let a higher one react, for example orders recorded facts and reports must refresh
its rollups, the lower app publishes an event here and the higher app subscribes to it in its
`AppConfig.ready()`. Neither imports the other.

Handlers run synchronously, in the publisher's transaction, in subscription order. That is on
purpose: a handler that writes (a rollup refresh scheduled on commit, an outgoing webhook
delivery row) commits or rolls back with the fact that caused it, so an event is never delivered
for a change that did not happen. A handler that needs to talk to the outside world schedules that
work with `transaction.on_commit` itself.

Events are named `<context>.<fact>` and declared below with the payload they carry, so a reader
can see every event of the platform in one place. Publishing an undeclared event is a bug and
raises.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

Handler = Callable[..., None]

# name -> what its payload holds (keyword arguments of the handlers).
EVENTS: dict[str, str] = {
    # Facts that reports aggregate changed for these (brand id, moment) pairs: orders, commissions,
    # clicks. Payload: points=Iterable[tuple[int, datetime | None]].
    "facts.changed": "points",
    # Reports rewrote the daily rollups of these days of a brand, and the rows of these
    # influencers changed (after commit). Cached panels over them are stale (core/panel_cache.py).
    # Payload: brand_id=int, influencer_ids=frozenset[int], days=list[date].
    "rollups.moved": "brand_id, influencer_ids, days",
    # Affiliates is about to save an influencer's new payout data; a handler may refuse it by
    # raising ApplicationError (payments: two-factor above a balance threshold).
    # Payload: influencer=Influencer, actor=User | None.
    "payout_account.changing": "influencer, actor",
    # Affiliates saved an influencer's new payout data (same transaction). Payload: as above.
    "payout_account.changed": "influencer, actor",
    # Someone downloaded an admin export of `rows` rows of `model` (its model_name) as `fmt`
    # (core.admin_exports); audit records it. Payload: actor=User, model=str, fmt=str, rows=int.
    "export.downloaded": "actor, model, fmt, rows",
    # Campaigns moved a campaign to a new status (in the same transaction); codes brings the
    # campaign's codes in line. Payload: campaign=Campaign, actor=User | None.
    "campaign.changed": "campaign, actor",
    # Affiliates took an influencer out of a campaign (same transaction); codes archives their
    # code of it. Payload: campaign=Campaign, influencer=Influencer, actor=User | None.
    "assignment.changed": "campaign, influencer, actor",
    # Affiliates moved a membership from `previous` to `membership.status` (same transaction; a
    # handler that raises rolls the decision back). Codes issues the influencer's codes on a first
    # approval (in `campaigns`, or every running campaign they take part in when empty) and
    # appends their texts to `issued_codes`, which the welcome email lists; it archives them on
    # suspension or block and brings them back on re-approval. Payload: membership=Membership,
    # previous=str, actor=User | None, campaigns=list[Campaign], issued_codes=list[str].
    "membership.changed": "membership, previous, actor, campaigns, issued_codes",
    # Business facts a brand's systems can subscribe to (outgoing webhooks, docs/webhooks.md).
    # Payload: brand_id=int, data=dict (JSON-serialisable: what the webhook's `data` holds).
    "influencer.applied": "brand_id, data",
    "influencer.approved": "brand_id, data",
    # A membership decided or changed by the brand (notifications tell the influencer). Payload:
    # brand_id=int, data=dict as influencer.approved plus "reason" (and "previous_status").
    "influencer.rejected": "brand_id, data",
    "influencer.suspended": "brand_id, data",
    "influencer.blocked": "brand_id, data",
    "order.attributed": "brand_id, data",
    "commission.estimated": "brand_id, data",
    "commission.confirmed": "brand_id, data",
    "commission.reversed": "brand_id, data",
    "withdrawal.requested": "brand_id, data",
    "withdrawal.approved": "brand_id, data",
    "withdrawal.paid": "brand_id, data",
    "withdrawal.rejected": "brand_id, data",
    "withdrawal.failed": "brand_id, data",
    "payout_batch.created": "brand_id, data",
    # A brand published a new version of its terms or privacy policy (existing influencers are
    # asked to accept it). Payload: brand_id=int, data={"policy_id", "kind", "version", "title"}.
    "policy.published": "brand_id, data",
    # Affiliates recorded who referred whom, or a referral's status changed (self-referral found,
    # blocked or restored by a manager); commissions follows with the rewards. Payload: brand_id=int,
    # data={"referral_id", "campaign_id", "referrer_id", "referred_id", "status", "signals"}.
    "referral.recorded": "brand_id, data",
    "referral.changed": "brand_id, data",
    # Tracking's review queue released or rejected a fraud flag (same transaction, once per
    # change of status); commissions releases or reverses what the flag held, after commit.
    # Payload: brand_id=int, actor=User | None, data={"flag_id", "rule", "subject", "subject_ref",
    # "influencer_id", "decision" ("released" or "rejected"), "reason"}.
    "fraud.flag_resolved": "brand_id, data, actor",
    # Claims: an influencer (or the brand's system) submitted a missing-order claim, a manager
    # accepted it (the order is attributed to the claimant) or rejected it, in the same
    # transaction. Payload: brand_id=int, data={"claim_id", "order_id" (VTEX), "influencer_id",
    # "campaign_id", "status", "finding", "reason"}.
    "claim.submitted": "brand_id, data",
    "claim.accepted": "brand_id, data",
    "claim.rejected": "brand_id, data",
    # Creatives: a brand added a piece to a campaign's library, in the same transaction.
    # Payload: brand_id=int, data={"creative_id", "campaign_id", "campaign", "kind", "title"}.
    "creative.published": "brand_id, data",
}

_subscribers: dict[str, list[Handler]] = defaultdict(list)


class UnknownEventError(LookupError):
    pass


def subscribe(name: str, handler: Handler) -> None:
    """Register `handler` for `name`. Idempotent: `ready()` may run more than once in tests."""
    if name not in EVENTS:
        raise UnknownEventError(name)
    if handler not in _subscribers[name]:
        _subscribers[name].append(handler)


def publish(name: str, **payload: Any) -> None:
    """Call every handler of `name` with `payload`, now, in the caller's transaction."""
    if name not in EVENTS:
        raise UnknownEventError(name)
    for handler in list(_subscribers[name]):
        handler(**payload)


def subscribers(name: str) -> list[Handler]:
    return list(_subscribers[name])


def facts_changed(*, points: Iterable[tuple[int, datetime | None]]) -> None:
    """Shorthand for the most common event: reports' facts for these (brand id, moment) pairs changed.

    `points` is an iterable of (brand id, aware datetime or None) pairs."""
    publish("facts.changed", points=points)
