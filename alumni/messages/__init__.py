"""Message making, pure: sandboxed templates with locale fallback and preflight, MIME assembly
from a skeleton (and DKIM), signed link tokens. It knows nothing of campaigns or the ledger."""
