"""The request desk: what alumni ask of the office, each with an owner, an SLA clock and an
escalation ladder (issue 11)."""
