"""The ``alumni`` command: the one part of ``alumni/`` that may start flows."""
