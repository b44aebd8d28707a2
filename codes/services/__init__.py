"""Writes for discount codes, one module per job: `issuing` (a code for an influencer in a
campaign, chosen or generated; the codes of every campaign they take part in), `archiving`
(codes follow the influencer's standing and the campaign's status; a manager archives or brings
one back), `code_settings` (discount and usage rules), `sync` (the VTEX coupon sync: queued after
commit, run by the worker, retried with backoff by Beat), `usage` (how often VTEX saw a coupon
used), and what they share: `text` (the rules of a code's text, generated candidates, the
refusal errors) and `status` (what a code's status should be, and the one place it changes)."""
