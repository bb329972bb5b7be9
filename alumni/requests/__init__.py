"""The request desk: what alumni ask of the office, each with an owner, an SLA clock and a ladder.

- ``types``: the request types and their SLA rules, read from ``requests.toml``.
- ``clock``: the SLA clock (business days and hours, holidays, pauses); pure.
- ``deadlines``: a request's running deadlines from its type, the clock and its pauses; pure.
- ``ladder``: the escalation ladder: which rungs are due (pure), and firing each once.
- ``office_notices``: the office's own notices on the ledger (rungs, owners' digests).
- ``officer_mail``: what those notices say; ``desk_view``: the desk at a glance.
"""
