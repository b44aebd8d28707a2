"""Notifications reuse the orders fixtures (a brand with a running campaign, Maria and her
code) and the payments ones (money made available through the ledger's services)."""

from tests.orders.conftest import campaign_a, code_maria, maria, setup  # noqa: F401
from tests.payments.conftest import funded, payout_account  # noqa: F401
