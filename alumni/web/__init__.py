"""The public web app behind the links in every message (``alumni serve``): the alumni's own
pages (preferences, contact details, unsubscribe, RSVP, the request form and each request's
status page) and tracked links. ``app`` puts it
together; each page is a module of its own."""
