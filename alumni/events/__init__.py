"""Class events: the schedule and its budget, the iCalendar codec, event times per viewer, the
event mailings (invites, updates, reminders, thank-yous) and RSVPs."""
