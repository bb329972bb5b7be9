"""The people and their data: row validation, CSV import (and its rejected-rows file), the
suppression and erasure lists (keyed hashes), privacy (export and erasure), what each alum chose
on their preference page, their contact details as they confirm or correct them, the class
report, and the sample population."""
