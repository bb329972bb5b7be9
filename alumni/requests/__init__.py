"""The request desk: what alumni ask of the office, each with an owner, an SLA clock and a ladder.

- ``types``: the request types and their SLA rules, read from ``requests.toml``.
- ``clock``: the SLA clock (business days and hours, holidays, pauses); pure.
- ``holidays``: the office's holidays, read from its iCalendar feed.
- ``deadlines``: a request's running deadlines from its type, the clock and its pauses; pure.
"""
