"""Writes for campaigns, their rules, tiers and variants, one module per job: `campaigns`
(create, edit, from a template), `rules` (commission rules, tiers, eligibility), `variants` (A/B),
`status` (the status machine), `tier_placement` (participants' tiers) and `validation`.
Assigning influencers to campaigns needs their membership, so it lives a floor up
(affiliates/assignments.py). Every function owns its transaction and writes its audit record."""
