"""The request desk: what alumni ask of the office (letters, certificates, referrals, welfare,
questions, ideas), each with an owner, an SLA clock, an audit trail and an escalation ladder.

- ``types``: the request types and their SLA rules, read from ``requests.toml``.
- ``clock``: the SLA clock (business days and hours, holidays, pauses); pure.
- ``holidays``: the office's holidays, read from its iCalendar feed.
- ``deadlines``: a request's running deadlines from its type, the clock and its pauses; pure.
- ``desk``: the officers' operations on a request, each written to its audit trail.
- ``views``: what the desk shows: one request, and the open ones breaches first.
- ``referrals``: who agreed to be asked for a job introduction.
- ``notices``: the messages the alum gets about their own request, in their language.
- ``ladder``: the escalation ladder: which rungs are due (pure), and firing each once.
- ``office_notices``: the office's own notices on the ledger (rungs, owners' digests).
- ``officer_mail``: what those notices say; ``desk_view``: the desk at a glance.
"""
