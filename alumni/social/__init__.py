"""Social: the office's accounts and class channels, posts, direct messages to one alum, their
text as each network counts it, engagement, and tracked-link clicks."""
