"""Message making, pure: sandboxed templates with locale fallback and preflight, MIME assembly
from a skeleton (and DKIM), signed link tokens and the links to an alum's own pages. It knows
nothing of campaigns or the ledger."""
