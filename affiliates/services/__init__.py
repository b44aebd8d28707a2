"""Writes for influencers, one module per job: `registration` (applying to a brand, in one go or
in two steps), `kyc` (the documents handed in with an application), `decisions` (the membership
status machine), `policies` (publishing terms and privacy, consents), `profile`, `payout_accounts`,
`two_factor`, and what they share: `validation` (the refusal error, handles and phones) and
`event_data` (what membership events carry). Every service owns its transaction, audits inside
it and schedules emails and other side effects for after the commit."""
