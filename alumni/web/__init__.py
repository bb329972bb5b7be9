"""The public web app behind the links in every message (``alumni serve``): the alumni's own
pages (preferences, contact details, unsubscribe, RSVP) and tracked links. ``app`` puts it
together; each page is a module of its own."""
