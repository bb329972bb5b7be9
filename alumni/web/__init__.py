"""The public web app behind the links in every message (``alumni serve``)."""
