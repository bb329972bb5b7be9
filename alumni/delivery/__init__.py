"""Delivery: who is reached and why (audience), when (local send times), the one planner
(planning), the ledger every channel shares (claim under a lease a heartbeat renews, takeover
after a crash, record, release), the rule for what a run does next and when a campaign is done
(progress), the receipts writer and the in-flight bound (receipts), sending in batches and worker
processes (sending, batches, send_workers), the campaign report, and the monthly digest for
alumni who chose it (digest, digest_kit), and the email of a notice about an alum's request
(request_kit). Email, event mailings, digests, request notices and social posts are thin users
of this one mechanism."""
