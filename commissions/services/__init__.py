"""Commission records kept in step with the VTEX order, one module per job: `order_sync` (the
order's commissions follow the order as VTEX reports it; called under the order's row lock),
`stage` (what the order's status means for its commissions), `ledger` (the hand-off of a
commission's position to the ledger), `adjustments` (manual adjustments with a reason) and
`fraud_review` (releasing or rejecting after a fraud flag is decided). The states and the base
rule are in docs/orders.md."""
