"""Social: the office's accounts and class channels, posts, their text as each network counts
it, engagement, and tracked-link clicks."""
