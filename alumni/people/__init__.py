"""The people and their data: row validation, CSV import (and its rejected-rows file), the
suppression and erasure lists (keyed hashes), privacy (export and erasure), the class report, and
the sample population."""
