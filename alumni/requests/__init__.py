"""The request desk: what alumni ask of the office (letters, certificates, referrals, welfare,
questions, ideas), each with an owner, an SLA clock, an audit trail and an escalation ladder,
and the messages the alum gets about their own request (``notices``)."""
