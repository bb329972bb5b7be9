"""Delivery: who is reached and why (audience), when (local send times), the ledger (plan, claim
with a renewed lease, record), sending in batches and worker processes, and the campaign report.
Every channel (email, event mailings, social posts) is a thin user of this one mechanism."""
