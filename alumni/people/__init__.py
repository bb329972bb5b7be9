"""The people and their data: row validation, CSV import, suppression, privacy (export and
erasure), the class report, and the sample population."""
