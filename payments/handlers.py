"""What payments does when a lower floor publishes an event (`core.events`), registered in
`PaymentsConfig.ready()`. Thin: each handler calls one service."""

from typing import Any

from payments.services.payout_versions import (
    payout_account_version_current,
    payout_change_two_factor_check,
    withdrawals_payout_changed,
)


def on_payout_account_changing(*, influencer: Any, actor: Any = None, **_payload: Any) -> None:
    """Before affiliates saves new payout data: may refuse it (two-factor threshold); otherwise
    freeze the data on file as a version, so what follows is recorded as a change of it."""
    payout_change_two_factor_check(influencer=influencer, actor=actor)
    payout_account_version_current(influencer_id=influencer.pk, actor=actor)


def on_payout_account_changed(*, influencer: Any, actor: Any = None, **_payload: Any) -> None:
    """After affiliates saved new payout data, in the same transaction."""
    withdrawals_payout_changed(influencer=influencer, actor=actor)
