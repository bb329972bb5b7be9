"""The request desk: what alumni ask of the office (letters, certificates, referrals, welfare,
questions, ideas), each with an owner, an SLA clock, an audit trail and an escalation ladder.

- ``types``: the request types and their SLA rules, read from ``requests.toml``.
- ``clock``: the SLA clock (business days and hours, holidays, pauses); pure.
- ``deadlines``: a request's running deadlines from its type, the clock and its pauses; pure.
- ``desk``: the desk's operations and the audit trail.
- ``notices``: the messages the alum gets about their own request, in their language.
"""
