"""Reaching every alum: coverage, fresh contact details, the lost-alumni drive, ambassadors and
share kits. Plain Python over the database; it reads what delivery and tracking recorded."""
